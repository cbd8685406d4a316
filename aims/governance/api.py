"""API of the leadership and planning records.

Endpoints (all under ``/api/v1/``)::

    GET          aims-scope/                     the organisation's one scope (404 until written)
    POST         aims-scope/                     write it the first time
    GET/PUT/PATCH aims-scope/{id}/               read or change it
    CRUD         context-issues/, interested-parties/, org-roles/, concern-channels/,
                 objectives/, objective-progress/, competence-records/, policies/
    GET/POST     policy-versions/                versions (POST: JSON ``body_markdown`` or multipart ``file``)
    GET/PATCH/DELETE policy-versions/{id}/        a version; only drafts change or go
    POST         policy-versions/{id}/submit|return|approve|retire/
    GET          policy-versions/{id}/document/  the uploaded document

Reads need "view"; writes need "edit" and, for an AI system owner, a record they own (their
objectives and their own competence records; nothing else here). Returning, approving and
retiring a version need "approve", and the author never approves their own version. Every
write goes through :mod:`aims.governance.services`; another organisation's records answer 404
and their ids are never accepted in a payload (400).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import django_filters
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aims.api.base import CrudMixin, SelectorQuerysetMixin, TenantScopedMixin, TransitionActionMixin, VersionedMixin
from aims.api.fields import MemberField, OrgRecordField, request_organization
from aims.api.input import FormParser, JSONParser, MultiPartParser
from aims.api.permissions import HasOrganizationRole
from aims.api.schema import IF_MATCH, crud_schema
from aims.governance import selectors, services
from aims.governance.models import REVIEW_NOTICE_DAYS
from aims.models import (
    AIMSScope,
    CompetenceRecord,
    ConcernChannel,
    ContextIssue,
    InterestedParty,
    Objective,
    ObjectiveProgress,
    OrgRole,
    Policy,
    PolicyVersion,
)
from aims.roles import Capability

FORBIDDEN_CHANGE = (
    "Your role does not let you change this record: AI system owners change only their own objectives "
    "and competence records."
)


class RecordSerializer(serializers.ModelSerializer):
    """Validates one record and builds it unsaved; the organisation always comes from the request."""

    def build(self) -> Model:
        record = self.instance
        if record is None:
            model: Any = self.Meta.model  # a model class; the stubs type Meta.model loosely
            record = model(organization=request_organization(self))
        for name, value in self.validated_data.items():
            setattr(record, name, value)
        return record


# --- Serializers ----------------------------------------------------------------------------


class ExclusionSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=300, help_text="What is excluded from the scope.")
    reason = serializers.CharField(max_length=2000, help_text="Why it is excluded.")


class ScopeSerializer(RecordSerializer):
    """The scope of the AI management system (4.3); one per organisation."""

    exclusions = ExclusionSerializer(many=True, required=False)

    class Meta:
        model = AIMSScope
        fields = [
            "id", "statement", "units_covered", "systems_covered", "locations", "exclusions", "boundaries",
            "last_reviewed", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]

    def build(self) -> Model:
        record: Any = super().build()
        if "exclusions" in self.validated_data:
            record.exclusions = [dict(e) for e in self.validated_data["exclusions"]]
        return record


class ContextIssueSerializer(RecordSerializer):
    """An internal or external issue (4.1)."""

    class Meta:
        model = ContextIssue
        fields = [
            "id", "kind", "category", "title", "description", "effect", "review_date", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]


class InterestedPartySerializer(RecordSerializer):
    """An interested party and its requirements (4.2)."""

    class Meta:
        model = InterestedParty
        fields = [
            "id", "name", "kind", "requirements", "how_addressed", "legal_requirement", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]


class PolicySerializer(RecordSerializer):
    """A policy (5.2, A.2.2) and the state of its versions."""

    owner = MemberField(help_text="User id of the member who owns the policy.")
    is_ai_policy = serializers.BooleanField(read_only=True)
    current_version = serializers.IntegerField(
        source="approved_number", read_only=True, allow_null=True, help_text="Number of the version in force."
    )
    latest_version = serializers.IntegerField(source="latest_number", read_only=True, allow_null=True)
    latest_status = serializers.CharField(read_only=True, allow_null=True, help_text="Status of the latest version.")
    review_due = serializers.SerializerMethodField(
        help_text=f"In force and its review falls within {REVIEW_NOTICE_DAYS} days or is overdue."
    )

    class Meta:
        model = Policy
        fields = [
            "id", "title", "kind", "is_ai_policy", "purpose", "owner", "review_interval_months", "next_review_date",
            "current_version", "latest_version", "latest_status", "review_due", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_review_due(self, policy) -> bool:
        return getattr(policy, "approved_number", None) is not None and policy.review_due()


class PolicyVersionSerializer(serializers.ModelSerializer):
    """One version of a policy: its text (Markdown, with the sanitised HTML) or its uploaded document."""

    body_html = serializers.SerializerMethodField(help_text="The Markdown rendered and sanitised; empty for documents.")
    document_url = serializers.SerializerMethodField(help_text="Where to fetch the document; null without one.")

    class Meta:
        model = PolicyVersion
        fields = [
            "id", "policy", "number", "change_note", "body_markdown", "body_html", "original_name", "content_type",
            "size", "sha256", "document_url", "status", "author", "submitted_at", "approved_by", "approved_at",
            "effective_date", "retired_at", "review_comment", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_body_html(self, version) -> str:
        return "" if version.file else services.markdown_render(version.body_markdown)

    def get_document_url(self, version) -> str | None:
        if not version.file:
            return None
        path = reverse("policyversion-document", args=[version.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class PolicyVersionWriteSerializer(serializers.Serializer):
    """The content of a version: ``body_markdown`` (JSON or form) or ``file`` (multipart), not both."""

    body_markdown = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    file = serializers.FileField(required=False, allow_null=True, help_text="pdf, docx, odt, md or txt; at most 10 MB.")
    change_note = serializers.CharField(required=False, allow_blank=True, max_length=300)
    effective_date = serializers.DateField(required=False, allow_null=True)


class PolicyVersionCreateSerializer(PolicyVersionWriteSerializer):
    policy = OrgRecordField(queryset=Policy.objects.all(), help_text="Id of one of your policies.")


class ReturnSerializer(serializers.Serializer):
    comment = serializers.CharField(help_text="What the author needs to change.")


class OrgRoleSerializer(RecordSerializer):
    """A role of the AI management system with its responsibilities and authorities (5.3, A.3.2)."""

    holder = MemberField(required=False, allow_null=True, help_text="User id of the member holding the role.")
    reports_to = OrgRecordField(queryset=OrgRole.objects.all(), required=False, allow_null=True)

    class Meta:
        model = OrgRole
        fields = [
            "id", "name", "responsibilities", "authorities", "holder", "external_holder", "reports_to",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]


class ConcernChannelSerializer(RecordSerializer):
    """A channel for reporting concerns (A.3.3)."""

    class Meta:
        model = ConcernChannel
        fields = [
            "id", "name", "how_to_report", "contact", "receivers", "anonymous", "protection_statement",
            "is_active", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]


class ObjectiveSerializer(RecordSerializer):
    """An AI objective (6.2) with its latest measured value and whether that meets the target."""

    owner = MemberField(help_text="User id of the member responsible.")
    policy = OrgRecordField(queryset=Policy.objects.all(), required=False, allow_null=True)
    latest_value = serializers.DecimalField(
        max_digits=14, decimal_places=3, read_only=True, allow_null=True, source="latest_value_annotated"
    )
    latest_date = serializers.DateField(read_only=True, allow_null=True)
    on_target = serializers.SerializerMethodField(
        help_text="Whether the latest value meets the target; null without one."
    )

    class Meta:
        model = Objective
        fields = [
            "id", "title", "description", "measure", "target", "unit", "direction", "owner", "due_date", "status",
            "policy", "latest_value", "latest_date", "on_target", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_on_target(self, objective) -> bool | None:
        return objective.on_target


class ObjectiveProgressSerializer(RecordSerializer):
    """A measurement of an objective."""

    objective = OrgRecordField(queryset=Objective.objects.all())

    class Meta:
        model = ObjectiveProgress
        fields = ["id", "objective", "date", "value", "note", "recorded_by", "created_at"]
        read_only_fields = ["id", "recorded_by", "created_at"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = self.instance
        if instance is not None and "objective" in attrs and attrs["objective"].pk != instance.objective_id:
            # Moving it would slip past the new objective's owner rule.
            raise serializers.ValidationError({"objective": "A progress record cannot move to another objective."})
        return attrs


class CompetenceRecordSerializer(RecordSerializer):
    """Training, a qualification, an awareness session or experience of a member (7.2, 7.3)."""

    member = MemberField(help_text="User id of the member.")
    validity = serializers.SerializerMethodField(help_text="valid, expiring (within 30 days) or expired.")

    class Meta:
        model = CompetenceRecord
        fields = [
            "id", "member", "kind", "title", "provider", "date_completed", "valid_until", "evidence_note",
            "validity", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_validity(self, record) -> str:
        return record.validity(timezone.localdate())


# --- Views ----------------------------------------------------------------------------------


class CanChangeRecord(permissions.BasePermission):
    """Object level: the caller may change this record (``Tenant.can_change``)."""

    message = FORBIDDEN_CHANGE

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in permissions.SAFE_METHODS or request.tenant.can_change(view.change_target(obj))


class GovernanceViewSet(TenantScopedMixin, SelectorQuerysetMixin, viewsets.GenericViewSet):
    """Rows come from the module's selector; ``TenantScopedMixin`` narrows them to the organisation again."""

    permission_classes = [HasOrganizationRole, CanChangeRecord]
    approve_actions: frozenset[str] = frozenset()

    @property
    def write_capability(self) -> str:  # type: ignore[override]
        return Capability.APPROVE if getattr(self, "action", None) in self.approve_actions else Capability.EDIT

    def change_target(self, obj: Any) -> Model:
        """The record whose ownership decides who may change ``obj``."""
        return obj

    def check_can_change(self, record: Model) -> None:
        if not self.request.tenant.can_change(self.change_target(record)):  # type: ignore[attr-defined]
            raise exceptions.PermissionDenied(FORBIDDEN_CHANGE)


# RecordWrites is a mixin of governance viewsets: typed as one, a plain class at run time.
if TYPE_CHECKING:
    _Writes = GovernanceViewSet
else:
    _Writes = object


class RecordWrites(_Writes):
    """Writes through the services; first in the bases, so DRF's mixins do not save serializers directly."""

    def _save(self, serializer: Any) -> None:
        record = serializer.build()
        # As it will be saved, the record must still be the caller's to change (owners: their own).
        self.check_can_change(record)
        services.governance_record_save(instance=record, acting_user=self.request.user)  # type: ignore[arg-type]  # signed in
        serializer.instance = self.reread(record)

    perform_create = _save
    perform_update = _save

    def perform_destroy(self, instance):
        services.governance_record_delete(instance=instance, acting_user=self.request.user)


class CrudViewSet(RecordWrites, CrudMixin, GovernanceViewSet):
    pass


class _SingleObjectListSchema(AutoSchema):
    """The scope "list" answers the organisation's one object, not a page of them."""

    def _is_list_view(self, serializer=None) -> bool:
        if getattr(self.view, "action", None) == "list":
            return False
        return super()._is_list_view(serializer)


@extend_schema_view(
    list=extend_schema(
        summary="The organisation's AIMS scope",
        description="One object, not a list: an organisation has one scope (4.3). 404 until it is written; "
        "write it with POST, change it with PUT/PATCH on `/aims-scope/{id}/`.",
        operation_id="aims_scope_current",
        responses={200: ScopeSerializer, 404: OpenApiResponse(description="No scope written yet.")},
    ),
    retrieve=extend_schema(summary="The AIMS scope, by id"),
    create=extend_schema(summary="Write the AIMS scope", description="400 if the organisation already has one."),
    update=extend_schema(summary="Replace the AIMS scope", parameters=[IF_MATCH]),
    partial_update=extend_schema(summary="Change the AIMS scope", parameters=[IF_MATCH]),
)
class ScopeViewSet(
    VersionedMixin,
    RecordWrites,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    GovernanceViewSet,
):
    """The scope of the AI management system (4.3): units, locations, exclusions with reasons, boundaries."""

    queryset = AIMSScope.objects.all()
    serializer_class = ScopeSerializer
    pagination_class = None
    filter_backends: list = []
    schema = _SingleObjectListSchema()

    def list(self, request):
        scope = selectors.scope_get(request.tenant.organization)
        if scope is None:
            raise exceptions.NotFound("No scope written yet: POST one.")
        return Response(self.get_serializer(scope).data)


class ContextIssueFilter(django_filters.FilterSet):
    class Meta:
        model = ContextIssue
        fields = ["kind", "category"]


@crud_schema("context issue")
class ContextIssueViewSet(CrudViewSet):
    """Internal and external issues that affect the AI management system (4.1)."""

    queryset = ContextIssue.objects.all()
    selector = staticmethod(selectors.context_issue_list)
    serializer_class = ContextIssueSerializer
    filterset_class = ContextIssueFilter
    search_fields = ["title", "description", "effect"]
    ordering_fields = ["kind", "category", "title", "review_date", "id"]


class InterestedPartyFilter(django_filters.FilterSet):
    class Meta:
        model = InterestedParty
        fields = ["kind", "legal_requirement"]


@crud_schema("interested party", "interested parties")
class InterestedPartyViewSet(CrudViewSet):
    """Interested parties and their requirements (4.2)."""

    queryset = InterestedParty.objects.all()
    selector = staticmethod(selectors.interested_party_list)
    serializer_class = InterestedPartySerializer
    filterset_class = InterestedPartyFilter
    search_fields = ["name", "requirements", "how_addressed"]
    ordering_fields = ["name", "kind", "id"]


class PolicyFilter(django_filters.FilterSet):
    owner = django_filters.NumberFilter(field_name="owner_id")

    class Meta:
        model = Policy
        fields = ["kind", "owner"]


@crud_schema(
    "policy",
    "policies",
    destroy=extend_schema(
        summary="Delete a policy",
        description="Only a policy never approved; an approved policy is kept as a record (retire its version).",
    ),
)
class PolicyViewSet(CrudViewSet):
    """Policies (5.2, A.2.2-A.2.4); one AI policy per organisation. Their text lives in policy versions."""

    queryset = Policy.objects.all()
    selector = staticmethod(selectors.policy_list)
    serializer_class = PolicySerializer
    filterset_class = PolicyFilter
    search_fields = ["title", "purpose"]
    ordering_fields = ["title", "kind", "next_review_date", "id"]


class PolicyVersionFilter(django_filters.FilterSet):
    policy = django_filters.NumberFilter(field_name="policy_id")

    class Meta:
        model = PolicyVersion
        fields = ["policy", "status"]


@extend_schema_view(
    list=extend_schema(summary="List policy versions"),
    retrieve=extend_schema(summary="One policy version"),
    create=extend_schema(
        summary="Start the next version of a policy (a draft)",
        description="Send `body_markdown` (JSON or form) or a `file` (multipart/form-data: pdf, docx, odt, md "
        "or txt, at most 10 MB), not both. Refused while another version of the policy is a draft or in review.",
        request={
            "application/json": PolicyVersionCreateSerializer,
            "multipart/form-data": PolicyVersionCreateSerializer,
        },
        responses={201: PolicyVersionSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a draft version",
        description="A new `file` replaces the document; `body_markdown` replaces a document with text.",
        request={"application/json": PolicyVersionWriteSerializer, "multipart/form-data": PolicyVersionWriteSerializer},
        responses={200: PolicyVersionSerializer},
    ),
    destroy=extend_schema(summary="Delete a draft version"),
    submit=extend_schema(summary="Submit a draft for review", request=None, responses={200: PolicyVersionSerializer}),
    return_=extend_schema(
        summary="Return a version in review to draft",
        description="Needs the approve capability and a comment.",
        request=ReturnSerializer,
        responses={200: PolicyVersionSerializer},
    ),
    approve=extend_schema(
        summary="Approve a version in review",
        description="Needs the approve capability; the author cannot approve their own version. The previously "
        "approved version is retired and the policy's next review date restarts from its interval.",
        request=None,
        responses={200: PolicyVersionSerializer},
    ),
    retire=extend_schema(
        summary="Retire the approved version",
        description="Needs the approve capability. The policy is then no longer in force.",
        request=None,
        responses={200: PolicyVersionSerializer},
    ),
    document=extend_schema(
        summary="Download the version's document",
        description="Served as an attachment with `Cache-Control: private, no-store` and a sandboxing CSP.",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The document."),
            404: OpenApiResponse(description="No such version, or it has no document."),
        },
    ),
)
class PolicyVersionViewSet(
    TransitionActionMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    GovernanceViewSet,
):
    """Versions of policies: draft -> in review -> approved -> retired; one approved per policy."""

    queryset = PolicyVersion.objects.all()
    selector = staticmethod(selectors.policy_version_list)
    serializer_class = PolicyVersionSerializer
    filterset_class = PolicyVersionFilter
    search_fields = ["change_note", "body_markdown", "policy__title"]
    ordering_fields = ["number", "status", "created_at", "id"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    approve_actions = frozenset({"return_", "approve", "retire"})
    transition_argument = "version"

    def change_target(self, obj: Any) -> Model:
        policy: Policy = obj.policy
        return policy

    def _content(self, serializer_class) -> dict:
        data = serializer_class(data=self.request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["upload"] = values.pop("file", None)
        return values

    def create(self, request, *args, **kwargs):
        values = self._content(PolicyVersionCreateSerializer)
        policy = values.pop("policy")
        self.check_can_change(PolicyVersion(organization=policy.organization, policy=policy))
        version = services.policy_version_create(policy=policy, acting_user=request.user, **values)
        return Response(self.get_serializer(self.reread(version)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        version = self.get_object()
        values = self._content(PolicyVersionWriteSerializer)
        services.policy_version_update(version=version, acting_user=request.user, **values)
        return Response(self.get_serializer(self.reread(version)).data)

    def perform_destroy(self, instance):
        services.policy_version_delete(version=instance, acting_user=self.request.user)

    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self.transition(services.policy_version_submit)

    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        self.get_object()  # another organisation's version is not found (404) before its comment is checked
        data = ReturnSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.transition(services.policy_version_return, comment=data.validated_data["comment"])

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self.transition(services.policy_version_approve)

    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        return self.transition(services.policy_version_retire)

    @action(detail=True, methods=["get"])
    def document(self, request, pk=None):
        return services.policy_version_file_response(self.get_object())


class OrgRoleFilter(django_filters.FilterSet):
    holder = django_filters.NumberFilter(field_name="holder_id")

    class Meta:
        model = OrgRole
        fields = ["holder"]


@crud_schema("organisational role")
class OrgRoleViewSet(CrudViewSet):
    """Roles of the AI management system, their responsibilities and authorities (5.3, A.3.2)."""

    queryset = OrgRole.objects.all()
    selector = staticmethod(selectors.org_role_list)
    serializer_class = OrgRoleSerializer
    filterset_class = OrgRoleFilter
    search_fields = ["name", "responsibilities", "authorities", "external_holder"]
    ordering_fields = ["name", "id"]


class ConcernChannelFilter(django_filters.FilterSet):
    class Meta:
        model = ConcernChannel
        fields = ["is_active", "anonymous"]


@crud_schema("concern reporting channel")
class ConcernChannelViewSet(CrudViewSet):
    """Channels for reporting concerns about the organisation's role with AI systems (A.3.3)."""

    queryset = ConcernChannel.objects.all()
    selector = staticmethod(selectors.concern_channel_list)
    serializer_class = ConcernChannelSerializer
    filterset_class = ConcernChannelFilter
    search_fields = ["name", "how_to_report", "receivers"]
    ordering_fields = ["name", "id"]


class ObjectiveFilter(django_filters.FilterSet):
    owner = django_filters.NumberFilter(field_name="owner_id")
    policy = django_filters.NumberFilter(field_name="policy_id")

    class Meta:
        model = Objective
        fields = ["status", "owner", "policy"]


@crud_schema("AI objective")
class ObjectiveViewSet(CrudViewSet):
    """AI objectives (6.2) with their latest progress; AI system owners change the ones they own."""

    queryset = Objective.objects.all()
    selector = staticmethod(selectors.objective_list)
    serializer_class = ObjectiveSerializer
    filterset_class = ObjectiveFilter
    search_fields = ["title", "description", "measure"]
    ordering_fields = ["due_date", "title", "status", "id"]


class ObjectiveProgressFilter(django_filters.FilterSet):
    objective = django_filters.NumberFilter(field_name="objective_id")

    class Meta:
        model = ObjectiveProgress
        fields = ["objective"]


@crud_schema("objective progress record")
class ObjectiveProgressViewSet(CrudViewSet):
    """Measurements of objectives; whoever may change the objective records them."""

    queryset = ObjectiveProgress.objects.select_related("objective", "recorded_by")
    serializer_class = ObjectiveProgressSerializer
    filterset_class = ObjectiveProgressFilter
    ordering_fields = ["date", "id"]

    def change_target(self, obj: Any) -> Model:
        objective: Objective = obj.objective
        return objective

    def perform_create(self, serializer):
        record = serializer.build()
        self.check_can_change(record)
        record = services.objective_progress_add(
            objective=record.objective, value=record.value, date=record.date, note=record.note,
            acting_user=self.request.user,
        )  # fmt: skip
        serializer.instance = self.reread(record)

    def perform_update(self, serializer):
        record = serializer.build()
        self.check_can_change(record)
        services.objective_progress_save(record=record, acting_user=self.request.user)
        serializer.instance = self.reread(record)

    def perform_destroy(self, instance):
        services.objective_progress_delete(record=instance, acting_user=self.request.user)


class CompetenceRecordFilter(django_filters.FilterSet):
    member = django_filters.NumberFilter(field_name="member_id")

    class Meta:
        model = CompetenceRecord
        fields = ["member", "kind"]


@crud_schema("competence record")
class CompetenceRecordViewSet(CrudViewSet):
    """Training, qualifications, awareness sessions and experience of members (7.2, 7.3)."""

    queryset = CompetenceRecord.objects.all()
    selector = staticmethod(selectors.competence_record_list)
    serializer_class = CompetenceRecordSerializer
    filterset_class = CompetenceRecordFilter
    search_fields = ["title", "provider", "evidence_note"]
    ordering_fields = ["date_completed", "valid_until", "title", "id"]


ROUTES: list[tuple[str, type[viewsets.ViewSetMixin], str]] = [
    ("aims-scope", ScopeViewSet, "aimsscope"),
    ("context-issues", ContextIssueViewSet, "contextissue"),
    ("interested-parties", InterestedPartyViewSet, "interestedparty"),
    ("policies", PolicyViewSet, "policy"),
    ("policy-versions", PolicyVersionViewSet, "policyversion"),
    ("org-roles", OrgRoleViewSet, "orgrole"),
    ("concern-channels", ConcernChannelViewSet, "concernchannel"),
    ("objectives", ObjectiveViewSet, "objective"),
    ("objective-progress", ObjectiveProgressViewSet, "objectiveprogress"),
    ("competence-records", CompetenceRecordViewSet, "competencerecord"),
]
