"""API: request evidence packs, poll them, download and verify them."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from aims.api.base import SelectorQuerysetMixin, TenantScopedMixin
from aims.roles import Capability
from audits.models import Audit, EvidencePack, EvidencePackPart, PackDetail, PackSection
from audits.packs import selectors, services
from audits.packs.models import DETAIL_HELP
from registry.models import AISystem


class EvidencePackPartSerializer(serializers.ModelSerializer):
    class Meta:
        model = EvidencePackPart
        fields = ["index", "key", "label", "status", "attempts", "page_count", "worker", "started_at", "finished_at",
                  "error"]  # fmt: skip
        read_only_fields = fields


class EvidencePackSerializer(serializers.ModelSerializer):
    system: serializers.SlugRelatedField[AISystem] = serializers.SlugRelatedField(
        slug_field="ref_code", read_only=True, allow_null=True
    )
    audit: serializers.SlugRelatedField[Audit] = serializers.SlugRelatedField(
        slug_field="ref_code", read_only=True, allow_null=True
    )
    requested_by = serializers.EmailField(source="requested_by.email", read_only=True, default=None, allow_null=True)
    download_url = serializers.SerializerMethodField()
    parts = serializers.SerializerMethodField()

    class Meta:
        model = EvidencePack
        fields = [
            "id", "uid", "scope", "system", "audit", "period_start", "period_end", "sections", "include_files",
            "detail", "status", "progress", "current_step", "page_count", "sha256", "size", "error", "requested_by",
            "created_at", "started_at", "finished_at", "download_url", "parts",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(EvidencePackPartSerializer(many=True))
    def get_parts(self, pack) -> list[dict]:
        return list(EvidencePackPartSerializer(pack.parts.all(), many=True).data)

    def get_download_url(self, pack) -> str | None:
        request = self.context.get("request")
        if not pack.is_downloadable or request is None:
            return None
        return request.build_absolute_uri(f"/api/v1/evidence-packs/{pack.pk}/download/")


class EvidencePackRequestSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=EvidencePack.Scope.choices, default=EvidencePack.Scope.AIMS)
    system = serializers.PrimaryKeyRelatedField(queryset=AISystem.objects.none(), required=False, allow_null=True)
    audit = serializers.PrimaryKeyRelatedField(queryset=Audit.objects.none(), required=False, allow_null=True)
    period_start = serializers.DateField(required=False)
    period_end = serializers.DateField(required=False)
    sections = serializers.ListField(
        child=serializers.ChoiceField(choices=PackSection.choices), required=False, allow_empty=False
    )
    include_files = serializers.BooleanField(default=False)
    detail = serializers.ChoiceField(choices=PackDetail.choices, default=PackDetail.AUTO, help_text=DETAIL_HELP)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and hasattr(request, "tenant"):
            self.fields["system"].queryset = AISystem.objects.for_org(request.tenant.organization)
            self.fields["audit"].queryset = Audit.objects.for_org(request.tenant.organization)


class VerifyReportSerializer(serializers.Serializer):
    pack_id = serializers.CharField()
    ok = serializers.BooleanField()
    file_sha256_matches = serializers.BooleanField(allow_null=True)
    manifest_found = serializers.BooleanField()
    records_checked = serializers.IntegerField()
    problems = serializers.ListField(child=serializers.CharField())


@extend_schema_view(
    list=extend_schema(summary="List evidence packs"),
    retrieve=extend_schema(summary="One evidence pack: poll it for status and progress"),
)
class EvidencePackViewSet(
    TenantScopedMixin,
    SelectorQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = EvidencePack.objects.all()
    serializer_class = EvidencePackSerializer
    read_capability = Capability.REQUEST_PACKS
    write_capability = Capability.REQUEST_PACKS
    filterset_fields = ["status", "scope"]
    ordering_fields = ["created_at"]
    selector = staticmethod(selectors.evidence_pack_list)

    @extend_schema(
        summary="Request an evidence pack",
        description="Queues the pack and answers at once (201). If the identical pack is already queued or "
        "running, that pack is returned (200) and nothing new starts. Poll the pack until `status` is "
        "`succeeded`, then follow `download_url`.",
        request=EvidencePackRequestSerializer,
        responses={201: EvidencePackSerializer, 200: EvidencePackSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = EvidencePackRequestSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        pack, created = services.evidence_pack_request(
            organization=request.tenant.organization, acting_user=request.user, **data.validated_data
        )
        body = EvidencePackSerializer(pack, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="Download the PDF",
        responses={(200, "application/pdf"): OpenApiResponse(description="The pack's PDF/A-3b file.")},
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        return services.evidence_pack_download(
            self.get_object(), user=request.user, via_api=True, ip_address=request.META.get("REMOTE_ADDR")
        )

    @extend_schema(
        summary="Cancel a queued or running pack",
        description="For the requester, or an officer or administrator. Parts already rendering finish, "
        "but no file is written. Answers 400 when the pack is no longer queued or running.",
        request=None,
        responses={200: EvidencePackSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        pack = self.get_object()
        if pack.is_active and not services.evidence_pack_can_cancel(pack, user=request.user, role=request.tenant.role):
            raise PermissionDenied("Only the requester, an officer or an administrator may cancel this pack.")
        try:
            pack = services.evidence_pack_cancel(pack=pack, acting_user=request.user)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"status": exc.messages}) from exc
        return Response(EvidencePackSerializer(pack, context={"request": request}).data)

    @extend_schema(summary="Verify a pack's integrity", request=None, responses=VerifyReportSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        return Response(services.evidence_pack_verify(self.get_object()).as_dict())


ROUTES = [("evidence-packs", EvidencePackViewSet, "evidencepack")]
