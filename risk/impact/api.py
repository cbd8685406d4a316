"""API of AI system impact assessments (6.1.4, 8.4, A.5.2-A.5.5) and the impacts they record.

Reads go through :mod:`risk.impact.selectors`; every write goes through
:mod:`risk.impact.services`, so the workflow rules (only drafts change, the approver is not the
author) hold for the API as for the pages. Roles and tenancy follow the risk register's API
(:class:`risk.api.RiskModuleViewSet`): returning or approving needs "approve".
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aims.api.base import CrudMixin, TransitionActionMixin, VersionedMixin
from aims.api.schema import IF_MATCH, crud_schema
from aims.models import Organization
from risk.api import RiskModuleViewSet, risk_rows
from risk.impact import selectors, services
from risk.impact.filters import ImpactAssessmentFilter
from risk.impact.models import ImpactAssessment, ImpactItem
from risk.impact.serializers import (
    ImpactAssessmentReturnSerializer,
    ImpactAssessmentSerializer,
    ImpactAssessmentStartSerializer,
    ImpactItemSerializer,
)
from risk.serializers import RiskSerializer


def _assessment_rows(organization: Organization) -> QuerySet[ImpactAssessment]:
    items = ImpactItem.objects.select_related("risk")
    return selectors.impact_assessment_list(organization).prefetch_related(Prefetch("items", queryset=items))


@extend_schema_view(
    list=extend_schema(summary="List impact assessments"),
    retrieve=extend_schema(summary="One impact assessment, with its impacts"),
    create=extend_schema(
        summary="Start the first (or next) impact assessment of an AI system",
        description="Starts a draft from the inventory's facts about the system (or from its latest version). "
        "Refused while another version of the system is a draft or in review.",
        request=ImpactAssessmentStartSerializer,
        responses={201: ImpactAssessmentSerializer},
    ),
    partial_update=extend_schema(summary="Change a draft impact assessment", parameters=[IF_MATCH]),
    destroy=extend_schema(summary="Delete a draft impact assessment"),
    submit=extend_schema(
        summary="Submit a draft for review",
        description="Needs at least one impact and a conclusion.",
        request=None,
        responses={200: ImpactAssessmentSerializer},
    ),
    return_=extend_schema(
        summary="Return an assessment in review to its author",
        description="Needs the approve capability and a comment saying what needs to change.",
        request=ImpactAssessmentReturnSerializer,
        responses={200: ImpactAssessmentSerializer},
    ),
    approve=extend_schema(
        summary="Approve an assessment in review",
        description="Needs the approve capability; the author cannot approve their own assessment. The "
        "system's previously approved version becomes superseded.",
        request=None,
        responses={200: ImpactAssessmentSerializer},
    ),
    new_version=extend_schema(
        summary="Start the next version of this system's assessment",
        description="A new draft copying the latest version's text and impacts, with a fresh inventory snapshot.",
        request=None,
        responses={201: ImpactAssessmentSerializer},
    ),
)
class ImpactAssessmentViewSet(
    VersionedMixin,
    TransitionActionMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    RiskModuleViewSet,
):
    """AI system impact assessments (6.1.4, 8.4, A.5.2-A.5.5): draft, in review, approved, superseded."""

    queryset = ImpactAssessment.objects.all()
    selector = staticmethod(_assessment_rows)
    serializer_class = ImpactAssessmentSerializer
    filterset_class = ImpactAssessmentFilter
    search_fields = ["title", "system__ref_code", "system__name"]
    ordering_fields = ["version", "status", "created_at", "updated_at", "id"]
    # Changes go through PATCH and the workflow actions; a full replace has nothing to replace.
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    approve_actions = frozenset({"approve", "return_"})
    transition_argument = "assessment"

    def _start(self, system) -> Response:
        assessment = services.impact_assessment_start(system=system, acting_user=self.acting_user)
        return Response(self.get_serializer(self.reread(assessment)).data, status=status.HTTP_201_CREATED)

    def create(self, request, *args, **kwargs):
        data = ImpactAssessmentStartSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        # An AI system owner assesses the systems they own.
        self.check_can_change(data.validated_data["system"])
        return self._start(data.validated_data["system"])

    def perform_update(self, serializer):
        assessment = serializer.build()
        services.impact_assessment_save(assessment=assessment, acting_user=self.acting_user)
        serializer.instance = self.reread(assessment)

    def perform_destroy(self, instance):
        services.impact_assessment_delete(assessment=instance, acting_user=self.acting_user)

    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self.transition(services.impact_assessment_submit)

    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        data = ImpactAssessmentReturnSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.transition(services.impact_assessment_return, comment=data.validated_data["comment"])

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self.transition(services.impact_assessment_approve)

    @action(detail=True, methods=["post"], url_path="new-version", url_name="new-version")
    def new_version(self, request, pk=None):
        return self._start(self.get_object().system)


class ImpactItemFilter(django_filters.FilterSet):
    assessment = django_filters.NumberFilter(field_name="assessment_id")

    class Meta:
        model = ImpactItem
        fields = ["assessment", "affected_party", "dimension", "nature"]


@crud_schema(
    "impact",
    raise_risk=extend_schema(
        summary="Raise a risk from a harm",
        description="Creates a risk of the register on the assessment's system, scored on the organisation's "
        "scales from the impact's likelihood and severity. Once per impact; benefits raise no risk.",
        request=None,
        responses={201: RiskSerializer},
    ),
)
class ImpactItemViewSet(CrudMixin, RiskModuleViewSet):
    """Impacts recorded in an assessment; they change only while the assessment is a draft."""

    queryset = ImpactItem.objects.select_related("assessment__system", "risk")
    serializer_class = ImpactItemSerializer
    filterset_class = ImpactItemFilter
    search_fields = ["description", "measures"]
    ordering_fields = ["order", "severity", "likelihood", "id"]

    def _save(self, serializer) -> None:
        item = serializer.build()
        self.check_can_change(item)
        services.impact_item_save(item=item, acting_user=self.acting_user)
        serializer.instance = self.reread(item)

    perform_create = _save
    perform_update = _save

    def perform_destroy(self, instance):
        services.impact_item_delete(item=instance, acting_user=self.acting_user)

    @action(detail=True, methods=["post"], url_path="raise-risk", url_name="raise-risk")
    def raise_risk(self, request, pk=None):
        risk = services.impact_item_raise_risk(item=self.get_object(), acting_user=self.acting_user)
        body = RiskSerializer(
            risk_rows(request.tenant.organization).get(pk=risk.pk), context=self.get_serializer_context()
        )
        return Response(body.data, status=status.HTTP_201_CREATED)


ROUTES: list[tuple[str, type[viewsets.ViewSetMixin], str]] = [
    ("impact-assessments", ImpactAssessmentViewSet, "impactassessment"),
    ("impact-items", ImpactItemViewSet, "impactitem"),
]
