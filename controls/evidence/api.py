"""API of the evidence library: evidence with its versions and links, multipart upload, download.

Endpoints (all under ``/api/v1/``)::

    GET    evidence/                                   list (filters q, kind, status, expired, control, owner)
    POST   evidence/                                   create: multipart with ``file``, or JSON with url/note
    GET    evidence/{id}/                              one, with its versions and links
    PATCH  evidence/{id}/                              change title, description, dates, owner
    DELETE evidence/{id}/                              delete (with versions, links and files)
    POST   evidence/{id}/versions/                     add a version (multipart ``file``, or url/note)
    GET    evidence/{id}/versions/{version_id}/download/   the version's file
    POST   evidence/{id}/links/                        link ``{"target": "control", "id": "A.6.2.4"}``
    DELETE evidence/{id}/links/{link_id}/              remove a link

Reads need "view"; writes need "edit" and, for an AI system owner, evidence they own. Every
write goes through :mod:`controls.evidence.services`; another organisation's evidence, version or
link answers 404 and its records are never accepted as link targets (400).
"""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, filters, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aims.api.base import SelectorQuerysetMixin, TenantScopedMixin
from aims.api.fields import MemberField, OptionalURLField
from aims.api.input import FormParser, JSONParser, MultiPartParser
from aims.api.permissions import HasOrganizationRole
from aims.content_cache import CachedListMixin
from aims.filters import RecordChoiceFilter, organization_records
from aims.models import User
from controls.evidence import selectors, services
from controls.evidence.forms import EvidenceFilter
from controls.evidence.models import Evidence, EvidenceLink, EvidenceVersion
from registry.models import AISystem

FORBIDDEN_CHANGE = "Your role only lets you change the evidence you own."


class CanChangeEvidence(permissions.BasePermission):
    """Object level: an AI system owner changes only the evidence they own (``Tenant.can_change``)."""

    message = FORBIDDEN_CHANGE

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in permissions.SAFE_METHODS or request.tenant.can_change(obj)


# --- Serializers ---------------------------------------------------------------------------------


class EvidenceVersionSerializer(serializers.ModelSerializer):
    """One version: a stored file (with its SHA-256, size and detected type), a link or a note."""

    created_by = serializers.EmailField(source="created_by.email", read_only=True, default=None, allow_null=True)
    url = OptionalURLField(read_only=True, help_text="The link of link evidence; null otherwise.")
    download_url = serializers.SerializerMethodField(help_text="Where to fetch the file; null without a file.")

    class Meta:
        model = EvidenceVersion
        fields = [
            "id", "number", "original_name", "content_type", "size", "sha256", "url", "note", "comment",
            "created_by", "created_at", "download_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, version) -> str | None:
        if not version.file:
            return None
        path = reverse("evidence-version-download", args=[version.evidence_id, version.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class EvidenceLinkSerializer(serializers.ModelSerializer):
    """What the evidence supports."""

    object_id = serializers.SerializerMethodField(help_text="Id of the control (requirement), system, risk, …")
    ref = serializers.SerializerMethodField(help_text="The control's reference, or the system's or risk's code.")
    label = serializers.SerializerMethodField()  # type: ignore[assignment]  # a field named like Field.label

    class Meta:
        model = EvidenceLink
        fields = ["id", "target", "object_id", "ref", "label"]
        read_only_fields = fields

    def get_object_id(self, link) -> int:
        return getattr(link, f"{link.target}_id")

    def get_ref(self, link) -> str | None:
        obj = link.target_object
        return getattr(obj, "ref", None) or getattr(obj, "ref_code", None) or None

    def get_label(self, link) -> str:
        return str(link.target_object)


class EvidenceSerializer(serializers.ModelSerializer):
    """A piece of evidence with all its versions (newest first) and links."""

    owner: serializers.PrimaryKeyRelatedField[User] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="User id of the owner; null when none."
    )
    status = serializers.SerializerMethodField(help_text="valid, expiring (within the reminder window) or expired.")
    versions = EvidenceVersionSerializer(many=True, read_only=True)
    links = EvidenceLinkSerializer(many=True, read_only=True)

    class Meta:
        model = Evidence
        fields = [
            "id", "title", "kind", "description", "effective_from", "valid_until", "owner", "status", "versions",
            "links", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_status(self, evidence) -> str:
        return selectors.evidence_validity(evidence, self.context.get("today", timezone.localdate()))


class _OwnerRuleMixin:
    def validate(self, attrs):
        attrs = super().validate(attrs)
        tenant = self.context["request"].tenant
        if tenant.edits_only_own:
            # An AI system owner keeps their own evidence: what they record is theirs.
            if self.instance is None and attrs.get("owner") is None:
                attrs["owner"] = tenant.user
            elif "owner" in attrs and attrs["owner"] != tenant.user:
                raise serializers.ValidationError(
                    {"owner": "As an AI system owner you can only own evidence yourself."}
                )
        start = attrs.get("effective_from", getattr(self.instance, "effective_from", None))
        end = attrs.get("valid_until", getattr(self.instance, "valid_until", None))
        if start and end and end < start:
            raise serializers.ValidationError({"valid_until": "The evidence cannot expire before it takes effect."})
        return attrs


class EvidenceCreateSerializer(_OwnerRuleMixin, serializers.Serializer):
    """New evidence and its version 1: send ``file`` (multipart) for a file, ``url`` for a link, ``note`` for a note."""

    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Evidence.Kind.choices)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    effective_from = serializers.DateField(required=False, help_text="Defaults to today.")
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)
    owner = MemberField(required=False, allow_null=True, default=None)
    file = serializers.FileField(required=False, write_only=True, help_text="For kind file (multipart/form-data).")
    url = serializers.URLField(required=False, allow_blank=True, default="", max_length=1000)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class EvidenceUpdateSerializer(_OwnerRuleMixin, serializers.Serializer):
    """The metadata; the content changes by adding a version."""

    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    effective_from = serializers.DateField(required=False)
    valid_until = serializers.DateField(required=False, allow_null=True)
    owner = MemberField(required=False, allow_null=True)


class EvidenceVersionCreateSerializer(serializers.Serializer):
    """The next version: ``file`` (multipart) for file evidence, ``url`` for a link, ``note`` for a note."""

    file = serializers.FileField(required=False)
    url = serializers.URLField(required=False, allow_blank=True, default="", max_length=1000)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class EvidenceLinkCreateSerializer(serializers.Serializer):
    target = serializers.ChoiceField(choices=EvidenceLink.Target.choices)
    id = serializers.CharField(
        max_length=40, help_text="The record's id; for a control, its requirement id or its reference (A.6.2.4)."
    )


class ApiEvidenceFilter(EvidenceFilter):
    expired = django_filters.BooleanFilter(method="filter_expired", help_text="true: expired; false: not expired.")
    system = RecordChoiceFilter(
        queryset=organization_records(AISystem),
        method="filter_system",
        help_text="Evidence linked to this AI system (id or reference).",
    )
    # A plain number: a choice over all users would answer differently for a non-member's id.
    owner = django_filters.NumberFilter(field_name="owner_id")

    class Meta(EvidenceFilter.Meta):
        fields = [*EvidenceFilter.Meta.fields, "expired", "system"]

    def filter_system(self, queryset, name, value):
        if value is None:
            return queryset
        links = EvidenceLink.objects.filter(evidence=OuterRef("pk"), target=EvidenceLink.Target.SYSTEM, system=value)
        return queryset.filter(Exists(links))

    def filter_expired(self, queryset, name, value):
        if value is None:
            return queryset
        q = selectors.evidence_status_q(Evidence.Validity.EXPIRED)
        return queryset.filter(q) if value else queryset.exclude(q)


# --- View set --------------------------------------------------------------------------------------

VERSION_ID = OpenApiParameter("version_id", OpenApiTypes.INT, OpenApiParameter.PATH)
LINK_ID = OpenApiParameter("link_id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(summary="List evidence"),
    retrieve=extend_schema(summary="One piece of evidence, with its versions and links"),
    destroy=extend_schema(summary="Delete evidence with its versions, links and stored files"),
)
class EvidenceViewSet(
    TenantScopedMixin,
    SelectorQuerysetMixin,
    CachedListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Evidence (7.5, A.6.2.8 …): files, links and notes with versions, validity and what they support."""

    queryset = Evidence.objects.all()
    serializer_class = EvidenceSerializer
    permission_classes = [HasOrganizationRole, CanChangeEvidence]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filter_backends = [DjangoFilterBackend, filters.OrderingFilter]
    filterset_class = ApiEvidenceFilter
    ordering_fields = ["title", "effective_from", "valid_until", "updated_at", "id"]
    selector = staticmethod(selectors.evidence_api_queryset)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def _answer(self, evidence: Evidence, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.reread(evidence)
        return Response(EvidenceSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def _input(self, serializer_class, **kwargs) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context(), **kwargs)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    @extend_schema(
        summary="Record evidence",
        description="Send `multipart/form-data` with `file` for a file (checked for size, type and content; "
        "its SHA-256 is computed), or JSON with `url` for a link or `note` for a note. Version 1 is created "
        "with it.",
        request=EvidenceCreateSerializer,
        responses={201: EvidenceSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = self._input(EvidenceCreateSerializer)
        evidence = services.evidence_create(
            organization=request.tenant.organization, acting_user=request.user, upload=data.pop("file", None), **data
        )
        return self._answer(evidence, status.HTTP_201_CREATED)

    @extend_schema(summary="Change evidence metadata", request=EvidenceUpdateSerializer, responses=EvidenceSerializer)
    def partial_update(self, request, *args, **kwargs):
        evidence = self.get_object()
        data = self._input(EvidenceUpdateSerializer, instance=evidence, partial=True)
        services.evidence_update(evidence=evidence, acting_user=request.user, **data)
        return self._answer(evidence)

    def perform_destroy(self, instance):
        services.evidence_delete(evidence=instance, acting_user=self.request.user)

    @extend_schema(
        summary="Add a version",
        description="Older versions are kept. File evidence needs `file` (multipart/form-data); link evidence "
        "`url`; note evidence `note`.",
        request=EvidenceVersionCreateSerializer,
        responses={201: EvidenceVersionSerializer},
    )
    @action(detail=True, methods=["post"], url_path="versions", url_name="versions")
    def add_version(self, request, pk=None):
        evidence = self.get_object()
        data = self._input(EvidenceVersionCreateSerializer)
        version = services.evidence_add_version(
            evidence=evidence, acting_user=request.user, upload=data.pop("file", None), **data
        )
        body = EvidenceVersionSerializer(version, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Download a version's file",
        description="Served as an attachment with its detected type, `Repr-Digest` (SHA-256), "
        "`Cache-Control: private, no-store` and `Content-Security-Policy: sandbox`; the download is logged.",
        parameters=[VERSION_ID],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The stored file."),
            404: OpenApiResponse(description="No such version, or it has no file."),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"versions/(?P<version_id>[0-9]+)/download",
        url_name="version-download",
    )
    def download(self, request, pk=None, version_id=None):
        evidence = self.get_object()
        version = get_object_or_404(EvidenceVersion.objects.filter(evidence=evidence), pk=version_id)
        return services.evidence_version_download(
            version, user=request.user, via_api=True, ip_address=request.META.get("REMOTE_ADDR")
        )

    @extend_schema(
        summary="Link evidence to a control, AI system, risk, treatment or impact assessment",
        description="Linking again answers the existing link (200).",
        request=EvidenceLinkCreateSerializer,
        responses={201: EvidenceLinkSerializer, 200: EvidenceLinkSerializer},
    )
    @action(detail=True, methods=["post"], url_path="links", url_name="links")
    def link_add(self, request, pk=None):
        evidence = self.get_object()
        data = self._input(EvidenceLinkCreateSerializer)
        obj = selectors.link_target_get(request.tenant.organization, data["target"], data["id"])
        existed = evidence.links.filter(target=data["target"], **{data["target"]: obj}).exists()
        link = services.evidence_link(evidence=evidence, target=data["target"], obj=obj, acting_user=request.user)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(EvidenceLinkSerializer(link).data, status=code)

    @extend_schema(summary="Remove a link", parameters=[LINK_ID], request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"links/(?P<link_id>[0-9]+)", url_name="link-detail")
    def link_remove(self, request, pk=None, link_id=None):
        evidence = self.get_object()
        link = evidence.links.filter(pk=link_id).first()
        if link is None:
            raise exceptions.NotFound("No such link on this evidence.")
        services.evidence_unlink(link=link, acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


ROUTES: list[tuple[str, type[viewsets.ViewSetMixin], str]] = [("evidence", EvidenceViewSet, "evidence")]
