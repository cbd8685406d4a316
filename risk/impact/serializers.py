"""API serializers of impact assessments and their items: they validate input and build unsaved
records; :mod:`risk.impact.services` does the writing. Ids are resolved within the caller's
organisation only, so another organisation's id reads as "not found"."""

from __future__ import annotations

from rest_framework import serializers

from aims.api.fields import OrgRecordField
from registry.models import AIModel, AISystem
from risk.impact.models import ImpactAssessment, ImpactItem
from risk.serializers import RecordBuilder, refuse_move


class ImpactItemSerializer(RecordBuilder):
    """One impact on people or the environment; only a draft assessment's items change."""

    assessment = OrgRecordField(
        queryset=ImpactAssessment.objects.all(), help_text="Id of one of your impact assessments (a draft)."
    )
    risk_ref = serializers.CharField(source="risk.ref_code", read_only=True, default=None, allow_null=True)

    class Meta:
        model = ImpactItem
        fields = [
            "id", "assessment", "affected_party", "dimension", "nature", "description", "severity", "likelihood",
            "reversibility", "measures", "risk", "risk_ref", "order",
        ]  # fmt: skip
        read_only_fields = ["risk"]
        extra_kwargs = {"order": {"required": False, "help_text": "Position in the list; by default the last."}}

    def validate(self, attrs):
        attrs = super().validate(attrs)
        refuse_move(self, attrs, "assessment", "An impact")
        return attrs


class ImpactAssessmentSerializer(RecordBuilder):
    """An AI system impact assessment (6.1.4, 8.4); only drafts change, through the workflow actions."""

    system_ref = serializers.CharField(source="system.ref_code", read_only=True)
    assessed_model = OrgRecordField(
        queryset=AIModel.objects.all(), required=False, allow_null=True, help_text="Id of the model version assessed."
    )
    items = ImpactItemSerializer(many=True, read_only=True)

    class Meta:
        model = ImpactAssessment
        fields = [
            "id", "system", "system_ref", "version", "title", "scope", "system_information", "data_information",
            "model_information", "assessed_model", "assessed_model_version", "deployment_environment",
            "interested_parties", "conclusion", "status", "author",
            "submitted_at", "approved_by", "approved_at", "review_comment", "next_review_date", "items",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "system", "version", "system_information", "author", "submitted_at", "approved_by", "approved_at",
            "status", "review_comment", "created_at", "updated_at",
        ]  # fmt: skip


class ImpactAssessmentStartSerializer(serializers.Serializer):
    system = OrgRecordField(queryset=AISystem.objects.all(), help_text="Id of one of your AI systems.")


class ImpactAssessmentReturnSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="What the author needs to change."
    )
