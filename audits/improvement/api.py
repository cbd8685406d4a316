"""API of internal audits, findings, corrective actions, management reviews and incidents.

Reads go through the selectors of :mod:`audits.improvement.services` (a page of a list costs a fixed
number of queries); every write goes through its services, so the rules (independence of
auditors, findings only while an audit is under way, effectiveness checked by someone else
before a corrective action closes) and the history hold for the API as for the pages.
Another organisation's records are never found (404) and their ids never accepted (400).

Roles: planning (programmes, audits, management reviews) and effectiveness checks need
"approve" (officers, administrators); findings and checklist results are recorded by them
and by the auditors assigned to the audit; corrective actions and incidents need "edit",
and an AI system owner changes only those they own.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from aims.api.base import CrudMixin, SelectorQuerysetMixin, TenantScopedMixin, TransitionActionMixin, VersionedMixin
from aims.api.fields import ByReferenceMixin, MemberField, OrgRecordField
from aims.api.permissions import HasOrganizationRole
from aims.api.schema import IF_MATCH, crud_schema
from aims.filters import RecordChoiceFilter, organization_records
from aims.models import User
from aims.roles import Capability
from aims.tenancy import Tenant
from audits.improvement import services as improvement
from audits.improvement.forms import (
    AuditFilter,
    ChecklistFilter,
    CorrectiveActionFilter,
    FindingFilter,
    IncidentFilter,
    ManagementReviewFilter,
    ReviewActionFilter,
)
from audits.improvement.services import MANAGE
from audits.models import (
    Audit,
    AuditMember,
    AuditProgramme,
    ChecklistItem,
    CorrectiveAction,
    Finding,
    Incident,
    ManagementReview,
    ReviewAction,
)
from controls.models import Evidence
from registry.models import AISystem
from registry.monitoring.api import PERMISSIONS as MONITORING_PERMISSIONS
from registry.monitoring.models import MonitoringAlert
from registry.serializers import OrgRecordIdsField

FORBIDDEN_CHANGE = "Your role only lets you change the corrective actions and incidents you own."


def _organization(field: serializers.Field[Any, Any, Any, Any]) -> Any:
    return field.context["request"].tenant.organization


def _tenant(request: Request) -> Tenant:
    """The caller's organisation and role, resolved and kept on the request by :class:`HasOrganizationRole`."""
    return request.tenant  # type: ignore[attr-defined]


def _user(request: Request) -> User:
    """The caller: :class:`HasOrganizationRole` admits only signed-in members of the organisation."""
    return cast(User, request.user)


def _ids(data: Any) -> list[int]:
    if not isinstance(data, list):
        raise serializers.ValidationError("Give a list of ids.")
    ids = []
    for value in data:
        if isinstance(value, bool) or not str(value).isdigit():
            raise serializers.ValidationError(f"{value!r} is not a valid id.")
        ids.append(int(value))
    return list(dict.fromkeys(ids))


class _Builder:
    """``build()`` applies the validated values to the instance, or to a new record of the caller's
    organisation, without saving: the view hands the record to the service that owns the write."""

    link_fields: tuple[str, ...] = ()

    def build(self) -> tuple[Model, dict[str, Any]]:
        serializer = cast("serializers.ModelSerializer[Model]", self)  # mixed into model serializers only
        data = dict(serializer.validated_data)
        links = {name: data.pop(name) for name in self.link_fields if name in data}
        model: type[Model] = serializer.Meta.model
        record = serializer.instance or model(organization=_organization(serializer))
        for name, value in data.items():
            setattr(record, name, value)
        return record, links


# --- Fields ------------------------------------------------------------------------------------


@extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
class TeamField(serializers.Field):
    """User ids of members with one role on the audit, read from the (prefetched) team links."""

    def __init__(self, *, role: str, **kwargs):
        self.role = role
        kwargs.setdefault("required", False)
        super().__init__(source="*", **kwargs)

    def to_representation(self, value: Audit) -> list[int]:
        return sorted(link.user_id for link in value.member_links.all() if link.role == self.role)

    def to_internal_value(self, data: Any) -> dict[str, list[User]]:
        ids = _ids(data)
        found = {u.pk: u for u in User.objects.filter(pk__in=ids, memberships__organization=_organization(self))}
        missing = [str(pk) for pk in ids if pk not in found]
        if missing:
            raise serializers.ValidationError(f"User {', '.join(missing)} is not a member of your organisation.")
        return {cast(str, self.field_name): [found[pk] for pk in ids]}  # set once the field is bound


@extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
class CriteriaField(serializers.Field):
    """Ids of the ISO/IEC 42001 clauses and Annex A controls the audit checks."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(source="*", **kwargs)

    def to_representation(self, value: Audit) -> list[int]:
        return sorted(link.requirement_id for link in value.criteria_links.all())

    def to_internal_value(self, data: Any) -> dict[str, list[Model]]:
        ids = _ids(data)
        found = {r.pk: r for r in improvement.criteria_choices().filter(pk__in=ids)}
        missing = [str(pk) for pk in ids if pk not in found]
        if missing:
            raise serializers.ValidationError(
                f"No ISO/IEC 42001 clause or Annex A control with id {', '.join(missing)}."
            )
        return {"criteria": [found[pk] for pk in ids]}


@extend_schema_field(serializers.ListField(child=serializers.CharField()))
class CriteriaRefsField(CriteriaField):
    """Instead of ids: identifiers such as ``"8.2"`` or ``"A.6.2.8"``."""

    def to_representation(self, value: Audit) -> list[str]:  # type: ignore[override]  # refs, not ids
        links = sorted(value.criteria_links.all(), key=lambda link: link.requirement.order)
        return [link.requirement.ref for link in links]

    def to_internal_value(self, data: Any) -> dict[str, list[Model]]:
        if not isinstance(data, list) or any(not isinstance(ref, str) for ref in data):
            raise serializers.ValidationError('Give a list of identifiers such as "8.2" or "A.6.2.8".')
        refs = list(dict.fromkeys(ref.strip() for ref in data))
        found = {r.ref: r for r in improvement.criteria_choices().filter(ref__in=refs)}
        missing = [ref for ref in refs if ref not in found]
        if missing:
            raise serializers.ValidationError(f"No ISO/IEC 42001 clause or control {', '.join(map(repr, missing))}.")
        return {"criteria_refs": [found[ref] for ref in refs]}


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}], "nullable": True})
class RequirementField(ByReferenceMixin, serializers.PrimaryKeyRelatedField):
    """A clause or Annex A control by id or identifier (``8.2``, ``A.6.2.8``)."""

    default_error_messages = {"does_not_exist": "No ISO/IEC 42001 clause or Annex A control with id {pk_value}."}
    reference_error = "No ISO/IEC 42001 clause or Annex A control {reference!r}."

    def get_queryset(self) -> QuerySet:
        return improvement.criteria_choices()


class ApiFindingFilter(FindingFilter):
    """The findings page's filters, and the AI system a finding concerns (id or reference)."""

    system = RecordChoiceFilter(queryset=organization_records(AISystem), help_text="AI system id or reference.")

    class Meta(FindingFilter.Meta):
        fields = [*FindingFilter.Meta.fields, "system"]


# --- Serializers -------------------------------------------------------------------------------


class AuditProgrammeSerializer(_Builder, serializers.ModelSerializer):
    """The internal audit programme of one year (9.2.2)."""

    audit_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = AuditProgramme
        fields = ["id", "year", "objectives", "notes", "audit_count", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class AuditSerializer(_Builder, serializers.ModelSerializer):
    """An internal audit (9.2): `criteria` (or `criteria_refs`), `auditors` and `area_owners` replace the lists."""

    link_fields = ("criteria", "criteria_refs", "auditors", "area_owners")

    programme = OrgRecordField(queryset=AuditProgramme.objects.all(), help_text="Id of one of your programmes.")
    lead_auditor = MemberField(required=False, allow_null=True, help_text="User id of a member.")
    auditors = TeamField(role=AuditMember.Role.AUDITOR, help_text="User ids of the auditors.")
    area_owners = TeamField(
        role=AuditMember.Role.AREA_OWNER,
        help_text="User ids of the members responsible for the audited area; none of them may audit it.",
    )
    criteria = CriteriaField(help_text="Ids of the clauses and Annex A controls checked.")
    criteria_refs = CriteriaRefsField(help_text='Instead of `criteria`: identifiers, e.g. ["8.2", "A.6.2.8"].')
    finding_count = serializers.IntegerField(read_only=True)
    nc_count = serializers.IntegerField(read_only=True, help_text="Major and minor nonconformities.")

    class Meta:
        model = Audit
        fields = [
            "id", "ref_code", "programme", "title", "scope", "auditee_area", "lead_auditor", "auditors",
            "area_owners", "criteria", "criteria_refs", "planned_start", "planned_end", "actual_start", "actual_end",
            "status", "conclusion", "finding_count", "nc_count", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["ref_code", "status", "created_at", "updated_at"]
        extra_kwargs = {"status": {"help_text": "Moves with the start, report and close actions."}}

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if "criteria_refs" in attrs:
            if "criteria" in attrs:
                raise serializers.ValidationError({"criteria_refs": "Give either criteria or criteria_refs."})
            attrs["criteria"] = attrs.pop("criteria_refs")
        if self.instance is None and not attrs.get("criteria"):
            raise serializers.ValidationError({"criteria": "Choose the clauses and controls the audit checks."})
        return attrs


class ChecklistItemSerializer(_Builder, serializers.ModelSerializer):
    """One question of an audit's checklist; its result, notes and the evidence checked are recorded."""

    class Meta:
        model = ChecklistItem
        fields = [
            "id", "audit", "requirement", "ref", "question", "result", "notes", "evidence_checked", "checked_by",
            "checked_at", "order",
        ]  # fmt: skip
        read_only_fields = ["audit", "requirement", "ref", "question", "checked_by", "checked_at", "order"]


class FindingSerializer(_Builder, serializers.ModelSerializer):
    """A finding of an audit. `evidence`, when given, replaces the evidence it rests on."""

    link_fields = ("evidence",)

    audit = OrgRecordField(queryset=Audit.objects.all(), help_text="Id of one of your audits (under way).")
    requirement = RequirementField(
        required=False, allow_null=True, help_text="Clause or control not met; required for a nonconformity."
    )
    requirement_ref = serializers.CharField(source="requirement.ref", read_only=True, default=None, allow_null=True)
    checklist_item = OrgRecordField(queryset=ChecklistItem.objects.all(), required=False, allow_null=True)
    system = OrgRecordField(
        queryset=AISystem.objects.all(), required=False, allow_null=True, help_text="Id of the AI system it concerns."
    )
    system_ref = serializers.CharField(source="system.ref_code", read_only=True, default=None, allow_null=True)
    evidence = OrgRecordIdsField(
        model=Evidence,
        links="evidence_links",
        target="evidence",
        help_text="Ids of your evidence items the finding rests on.",
    )
    corrective_action_count = serializers.IntegerField(source="action_count", read_only=True)

    class Meta:
        model = Finding
        fields = [
            "id", "audit", "ref_code", "kind", "title", "description", "requirement", "requirement_ref",
            "checklist_item", "system", "system_ref", "evidence", "raised_by", "raised_at", "corrective_action_count",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = ["ref_code", "raised_by", "raised_at", "updated_at"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None and "audit" in attrs and attrs["audit"].pk != self.instance.audit_id:
            raise serializers.ValidationError({"audit": "A finding stays with its audit."})
        return attrs


class CorrectiveActionSerializer(_Builder, serializers.ModelSerializer):
    """A corrective action (10.2). Progress moves with the start, complete and verify actions."""

    finding = OrgRecordField(queryset=Finding.objects.all(), required=False, allow_null=True)
    incident = OrgRecordField(queryset=Incident.objects.all(), required=False, allow_null=True)
    owner = MemberField(help_text="User id of the member who implements it (not read-only).")
    overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = CorrectiveAction
        fields = [
            "id", "ref_code", "finding", "incident", "title", "correction", "root_cause", "action", "owner",
            "due_date", "status", "overdue", "implemented_by", "implemented_at", "verified_by", "verified_on",
            "verification_note", "closed_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "ref_code", "status", "implemented_by", "implemented_at", "verified_by", "verified_on",
            "verification_note", "closed_at", "created_at", "updated_at",
        ]  # fmt: skip


class VerifySerializer(serializers.Serializer):
    effective = serializers.BooleanField(help_text="Did the action remove the cause? If so, the action closes.")
    note = serializers.CharField(help_text="What was checked and what it showed.")
    verified_on = serializers.DateField(required=False, allow_null=True, help_text="Today if not given.")


class ReviewActionSerializer(_Builder, serializers.ModelSerializer):
    """An action decided in a management review."""

    review = OrgRecordField(queryset=ManagementReview.objects.all(), help_text="Id of one of your reviews.")
    owner = MemberField(help_text="User id of the member who carries it out.")
    overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = ReviewAction
        fields = ["id", "review", "title", "description", "owner", "due_date", "status", "overdue", "created_at"]
        read_only_fields = ["created_at"]


class ReviewActionBriefSerializer(serializers.ModelSerializer):
    # Plain text: the status choice set is documented once, on the review action itself.
    status = serializers.CharField(read_only=True, help_text="See the review action's status.")

    class Meta:
        model = ReviewAction
        fields = ["id", "title", "owner", "due_date", "status"]
        read_only_fields = fields


@extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
class AttendeesField(TeamField):
    """User ids of the members who attended a review, read from the (prefetched) attendee links."""

    def __init__(self, **kwargs):
        super().__init__(role="", **kwargs)

    def to_representation(self, value: ManagementReview) -> list[int]:  # type: ignore[override]  # reviews, not audits
        return sorted(link.user_id for link in value.attendee_links.all())


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "description": "The inputs of ISO/IEC 42001 9.3.2 as gathered from the portal: period, previous_actions, "
        "context_changes, interested_parties, objectives, audits, findings_by_kind, nonconformities, "
        "corrective_actions, risks, impact_assessments, incidents, opportunities.",
    }
)
class InputsField(serializers.JSONField):
    pass


class ManagementReviewSerializer(_Builder, serializers.ModelSerializer):
    """A management review (9.3); its inputs are gathered when it is created and kept as they were."""

    link_fields = ("attendees",)

    attendees = AttendeesField(help_text="User ids of the members who attended.")
    inputs = InputsField(read_only=True)
    actions = ReviewActionBriefSerializer(many=True, read_only=True)

    class Meta:
        model = ManagementReview
        fields = [
            "id", "title", "held_on", "period_start", "period_end", "attendees", "external_attendees", "inputs",
            "inputs_gathered_at", "decisions", "actions", "created_by", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["inputs_gathered_at", "created_by", "created_at", "updated_at"]


class IncidentSerializer(_Builder, serializers.ModelSerializer):
    """An AI incident (A.8.4): what happened, who was informed and when, and its corrective actions."""

    system = OrgRecordField(queryset=AISystem.objects.all(), required=False, allow_null=True)
    system_ref = serializers.CharField(source="system.ref_code", read_only=True, default=None, allow_null=True)
    corrective_action_count = serializers.IntegerField(source="action_count", read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id", "ref_code", "system", "system_ref", "title", "severity", "description", "occurred_at",
            "detected_at", "reported_by", "informed_parties", "informed_at", "authority_notified",
            "authority_notified_at", "status", "resolution", "corrective_action_count", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["ref_code", "reported_by", "created_at", "updated_at"]


# --- Permissions and base ----------------------------------------------------------------------


class CanChangeOwned(permissions.BasePermission):
    """Object level: an AI system owner changes only what they own (``Tenant.can_change``)."""

    message = FORBIDDEN_CHANGE

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in permissions.SAFE_METHODS or request.tenant.can_change(obj)


class CanRecordFindings(permissions.BasePermission):
    """Findings and checklist results: the audit decides who records (its assigned auditors, officers, admins)."""

    message = "Only the audit's assigned auditors, officers and administrators record its findings."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or improvement.may_record_anywhere(request.tenant)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return improvement.may_record_findings(request.tenant, obj.audit)


class ImprovementViewSet(TenantScopedMixin, SelectorQuerysetMixin, TransitionActionMixin, viewsets.GenericViewSet):
    permission_classes = [HasOrganizationRole]
    # Actions needing the approve capability whatever the viewset's write capability.
    manage_actions: frozenset[str] = frozenset()
    base_write_capability: str = Capability.EDIT

    @property  # per action, where the mixin has one class attribute
    def write_capability(self) -> str:  # type: ignore[override]
        return MANAGE if getattr(self, "action", None) in self.manage_actions else self.base_write_capability

    def respond(self, record: Model, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.reread(record)).data, status=status_code)


def _transition_schema(summary: str, description: str, request=None, serializer=None):
    return extend_schema(summary=summary, description=description, request=request, responses={200: serializer})


# --- Programmes and audits ---------------------------------------------------------------------


@crud_schema("audit programme")
class AuditProgrammeViewSet(CrudMixin, ImprovementViewSet):
    """Internal audit programmes, one per year (9.2.2). Changes need the approve capability."""

    queryset = AuditProgramme.objects.all()
    selector = staticmethod(improvement.programme_list)
    serializer_class = AuditProgrammeSerializer
    filterset_fields = ["year"]
    ordering_fields = ["year"]
    base_write_capability = MANAGE

    def _save(self, serializer) -> None:
        programme, _ = serializer.build()
        improvement.programme_save(programme=programme, acting_user=_user(self.request))
        serializer.instance = self.reread(programme)

    perform_create = _save
    perform_update = _save

    def perform_destroy(self, instance):
        improvement.programme_delete(programme=instance, acting_user=_user(self.request))


@crud_schema(
    "audit",
    start=_transition_schema(
        "Start a planned audit",
        "Needs a lead auditor or an auditor. The checklist is generated from the criteria.",
        serializer=AuditSerializer,
    ),
    report=_transition_schema(
        "Move an audit in progress to reporting", "The fieldwork is over.", serializer=AuditSerializer
    ),
    close=_transition_schema(
        "Close an audit",
        "Needs the conclusion and every checklist item checked. A closed audit no longer changes.",
        serializer=AuditSerializer,
    ),
    generate_checklist=extend_schema(
        summary="Make the checklist follow the criteria",
        description="Adds one item per criterion without one; unanswered items of removed criteria go.",
        request=None,
        responses={200: OpenApiResponse(description='How many items were added: {"added": n}.')},
    ),
)
class AuditViewSet(CrudMixin, ImprovementViewSet):
    """Internal audits (9.2): scope, criteria, team (independent of the audited area), dates, status."""

    queryset = Audit.objects.all()
    selector = staticmethod(improvement.audit_api_rows)
    transition_argument = "audit"
    serializer_class = AuditSerializer
    filterset_class = AuditFilter
    ordering_fields = ["planned_start", "ref_code", "status"]
    base_write_capability = MANAGE

    def _save(self, serializer) -> None:
        audit, links = serializer.build()
        improvement.audit_save(audit=audit, acting_user=_user(self.request), **links)
        serializer.instance = self.reread(audit)

    perform_create = _save
    perform_update = _save

    def perform_destroy(self, instance):
        improvement.audit_delete(audit=instance, acting_user=_user(self.request))

    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self.transition(improvement.audit_start)

    @action(detail=True, methods=["post"])
    def report(self, request, pk=None):
        return self.transition(improvement.audit_report)

    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self.transition(improvement.audit_close)

    @action(detail=True, methods=["post"], url_path="generate-checklist", url_name="generate-checklist")
    def generate_checklist(self, request, pk=None):
        added = improvement.audit_checklist_generate(audit=self.get_object(), acting_user=request.user)
        return Response({"added": added})


@extend_schema_view(
    list=extend_schema(summary="List checklist items"),
    retrieve=extend_schema(summary="One checklist item"),
    partial_update=extend_schema(
        summary="Record a checklist result",
        description="By the audit's assigned auditors, officers and administrators, while the audit is under way.",
        parameters=[IF_MATCH],
    ),
)
class ChecklistItemViewSet(
    VersionedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, ImprovementViewSet
):
    """Checklists of audits, one item per criterion (filter with `?audit=`)."""

    queryset = ChecklistItem.objects.all()
    selector = staticmethod(improvement.checklist_rows)
    serializer_class = ChecklistItemSerializer
    filterset_class = ChecklistFilter
    permission_classes = [HasOrganizationRole, CanRecordFindings]
    base_write_capability = Capability.VIEW
    http_method_names = ["get", "patch", "head", "options"]

    def perform_update(self, serializer):
        item, _ = serializer.build()
        improvement.checklist_item_record(
            item=item, acting_user=_user(self.request), acting_role=_tenant(self.request).role
        )
        serializer.instance = self.reread(item)


@crud_schema("finding")
class FindingViewSet(CrudMixin, ImprovementViewSet):
    """Findings of audits (major or minor nonconformity, observation, opportunity for improvement).

    Recorded by the audit's assigned auditors, officers and administrators while the audit is under way.
    """

    queryset = Finding.objects.all()
    selector = staticmethod(improvement.finding_list)
    serializer_class = FindingSerializer
    filterset_class = ApiFindingFilter
    ordering_fields = ["raised_at", "kind", "id"]
    permission_classes = [HasOrganizationRole, CanRecordFindings]
    base_write_capability = Capability.VIEW

    def _save(self, serializer) -> None:
        finding, links = serializer.build()
        improvement.finding_save(
            finding=finding,
            acting_user=_user(self.request),
            acting_role=_tenant(self.request).role,
            evidence=links.get("evidence"),
        )
        serializer.instance = self.reread(finding)

    perform_create = _save
    perform_update = _save

    def perform_destroy(self, instance):
        improvement.finding_delete(
            finding=instance, acting_user=_user(self.request), acting_role=_tenant(self.request).role
        )


# --- Corrective actions ------------------------------------------------------------------------


@crud_schema(
    "corrective action",
    start=_transition_schema(
        "Start work on a corrective action",
        "From open, or after an effectiveness check found it not effective.",
        serializer=CorrectiveActionSerializer,
    ),
    complete=_transition_schema(
        "Mark a corrective action done",
        "Needs the root cause and the action described; the caller is recorded as having implemented it.",
        serializer=CorrectiveActionSerializer,
    ),
    verify=_transition_schema(
        "Record the effectiveness check",
        "Needs the approve capability and someone other than the owner and the implementer. Effective: the action "
        "is verified and closes. Not effective: it goes back to work. A corrective action never closes otherwise.",
        request=VerifySerializer,
        serializer=CorrectiveActionSerializer,
    ),
)
class CorrectiveActionViewSet(CrudMixin, ImprovementViewSet):
    """Corrective actions (10.2) from findings or incidents: correction, root cause, action, effectiveness."""

    queryset = CorrectiveAction.objects.all()
    selector = staticmethod(improvement.corrective_action_list)
    transition_argument = "action"
    serializer_class = CorrectiveActionSerializer
    filterset_class = CorrectiveActionFilter
    ordering_fields = ["due_date", "created_at", "status", "id"]
    permission_classes = [HasOrganizationRole, CanChangeOwned]
    manage_actions = frozenset({"verify"})

    def _save(self, serializer) -> None:
        record, _ = serializer.build()
        if not _tenant(self.request).can_change(record):
            raise exceptions.PermissionDenied(FORBIDDEN_CHANGE)
        improvement.corrective_action_save(action=record, acting_user=_user(self.request))
        serializer.instance = self.reread(record)

    perform_create = _save
    perform_update = _save

    def perform_destroy(self, instance):
        improvement.corrective_action_delete(action=instance, acting_user=_user(self.request))

    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self.transition(improvement.corrective_action_start)

    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self.transition(improvement.corrective_action_complete)

    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        record = self.get_object()  # another organisation's action is 404 before its input is read
        data = VerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        improvement.corrective_action_verify(action=record, acting_user=request.user, **data.validated_data)
        return self.respond(record)


# --- Management reviews ------------------------------------------------------------------------


@crud_schema(
    "management review",
    gather_inputs=_transition_schema(
        "Gather the inputs again",
        "For a review prepared early: the inputs are gathered from the portal anew; the earlier set stays in the "
        "history.",
        serializer=ManagementReviewSerializer,
    ),
)
class ManagementReviewViewSet(CrudMixin, ImprovementViewSet):
    """Management reviews (9.3): inputs gathered from the portal at creation, decisions, actions."""

    queryset = ManagementReview.objects.all()
    selector = staticmethod(improvement.management_review_list)
    serializer_class = ManagementReviewSerializer
    filterset_class = ManagementReviewFilter
    ordering_fields = ["held_on", "id"]
    base_write_capability = MANAGE

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset
        return queryset.prefetch_related("actions")

    def perform_create(self, serializer):
        review, links = serializer.build()
        improvement.management_review_create(
            review=review, acting_user=_user(self.request), attendees=links.get("attendees", [])
        )
        serializer.instance = self.reread(review)

    def perform_update(self, serializer):
        review, links = serializer.build()
        improvement.management_review_save(
            review=review, acting_user=_user(self.request), attendees=links.get("attendees")
        )
        serializer.instance = self.reread(review)

    def perform_destroy(self, instance):
        improvement.management_review_delete(review=instance, acting_user=_user(self.request))

    @action(detail=True, methods=["post"], url_path="gather-inputs", url_name="gather-inputs")
    def gather_inputs(self, request, pk=None):
        review = self.get_object()
        improvement.management_review_gather_inputs(review=review, acting_user=request.user)
        return self.respond(review)


@crud_schema("management review action")
class ReviewActionViewSet(CrudMixin, ImprovementViewSet):
    """Actions decided in management reviews (filter with `?review=`)."""

    queryset = ReviewAction.objects.all()
    selector = staticmethod(improvement.review_action_list)
    serializer_class = ReviewActionSerializer
    filterset_class = ReviewActionFilter
    ordering_fields = ["due_date", "id"]
    base_write_capability = MANAGE

    def _save(self, serializer) -> None:
        record, _ = serializer.build()
        improvement.review_action_save(action=record, acting_user=_user(self.request))
        serializer.instance = self.reread(record)

    perform_create = _save
    perform_update = _save

    def perform_destroy(self, instance):
        improvement.review_action_delete(action=instance, acting_user=_user(self.request))


# --- Incidents ---------------------------------------------------------------------------------


@crud_schema("incident")
class IncidentViewSet(CrudMixin, ImprovementViewSet):
    """AI incidents (A.8.4). An AI system owner changes those they reported or that concern their systems."""

    queryset = Incident.objects.all()
    selector = staticmethod(improvement.incident_list)
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter
    ordering_fields = ["detected_at", "severity", "status", "id"]
    permission_classes = [HasOrganizationRole, CanChangeOwned]

    def _save(self, serializer) -> None:
        record, _ = serializer.build()
        if record.pk is None:
            record.reported_by = self.request.user
        if not _tenant(self.request).can_change(record):
            raise exceptions.PermissionDenied(FORBIDDEN_CHANGE)
        improvement.incident_save(incident=record, acting_user=_user(self.request))
        serializer.instance = self.reread(record)

    perform_create = _save
    perform_update = _save

    def perform_destroy(self, instance):
        improvement.incident_delete(incident=instance, acting_user=_user(self.request))


# --- Raised from a monitoring alert ------------------------------------------------------------


class AlertOwnerSerializer(serializers.Serializer):
    owner = MemberField(help_text="The member who owns the corrective action (a role that edits records).")


class RaisedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ref_code = serializers.CharField()
    title = serializers.CharField()


def _raised(record: Incident | CorrectiveAction) -> Response:
    return Response({"id": record.pk, "ref_code": record.ref_code, "title": record.title}, status=201)


@extend_schema_view(
    raise_incident=extend_schema(
        summary="Raise an AI incident for the alert", request=None, responses={201: RaisedSerializer}
    ),
    raise_corrective_action=extend_schema(
        summary="Raise a corrective action for the alert",
        request=AlertOwnerSerializer,
        responses={201: RaisedSerializer},
    ),
)
class AlertRaiseViewSet(TenantScopedMixin, viewsets.GenericViewSet):
    """Incidents and corrective actions raised from a monitoring alert (actions on the alerts' own route)."""

    queryset = MonitoringAlert.objects.select_related("metric", "system")
    serializer_class = RaisedSerializer
    permission_classes = MONITORING_PERMISSIONS

    @action(detail=True, methods=["post"], url_path="raise-incident")
    def raise_incident(self, request, pk=None) -> Response:
        return _raised(improvement.incident_raise_from_alert(alert=self.get_object(), acting_user=request.user))

    @action(detail=True, methods=["post"], url_path="raise-corrective-action")
    def raise_corrective_action(self, request, pk=None) -> Response:
        alert = self.get_object()
        serializer = AlertOwnerSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        owner = serializer.validated_data["owner"]
        return _raised(
            improvement.corrective_action_raise_from_alert(alert=alert, acting_user=request.user, owner=owner)
        )


ROUTES: list[tuple[str, type[viewsets.ViewSetMixin], str]] = [
    ("audit-programmes", AuditProgrammeViewSet, "auditprogramme"),
    ("audits", AuditViewSet, "audit"),
    ("audit-checklist-items", ChecklistItemViewSet, "checklistitem"),
    ("audit-findings", FindingViewSet, "finding"),
    ("corrective-actions", CorrectiveActionViewSet, "correctiveaction"),
    ("management-reviews", ManagementReviewViewSet, "managementreview"),
    ("management-review-actions", ReviewActionViewSet, "reviewaction"),
    ("incidents", IncidentViewSet, "incident"),
    # Same path as the alerts of registry.monitoring: the router only adds these two actions to it.
    ("monitoring-alerts", AlertRaiseViewSet, "alertraise"),
]
