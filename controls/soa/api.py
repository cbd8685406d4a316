"""API of the Statement of Applicability, its versions, the crosswalks and certification readiness.

Endpoints (all under ``/api/v1/``)::

    GET    soa/                          the 38 SoA rows (filters area, decision, implementation_status)
    GET    soa/{ref}/                    one row by control identifier, e.g. ``soa/A.6.2.6/``
    PATCH  soa/{ref}/                    decide, justify, implement, assign, link AI systems
    GET    soa-versions/                 submitted versions, newest first
    POST   soa-versions/                 submit the current SoA for approval (``{"note": …}``)
    GET    soa-versions/{id}/            one version with its frozen rows
    POST   soa-versions/{id}/approve/    approve (administrators; not the submitter)
    POST   soa-versions/{id}/return/     return with a comment (administrators; not the submitter)
    GET    mappings/                     crosswalk pairs (filters framework, source, target, relationship)
    GET    mappings/coverage/            how far implemented controls cover another framework
    GET    readiness/                    readiness per clause 4-10 and per Annex A area

Reads need "view". Changing a row needs "edit"; an AI system owner changes only the rows they
own, or rows nobody owns yet. Submitting needs "edit", deciding on a version "approve_soa".
Every write goes through :mod:`controls.soa.services`, so its rules (justification either way, no
exclusion of a control a risk treatment relies on, submitter cannot decide) hold for the API as
for the pages. Another organisation's rows and versions are never found (404) and its AI
systems are never accepted (400).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import django_filters
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aims.api.base import SelectorQuerysetMixin, TenantScopedMixin, TransitionActionMixin, VersionedMixin
from aims.api.fields import MemberField
from aims.api.permissions import HasOrganizationRole
from aims.api.schema import IF_MATCH
from aims.content_cache import CachedListMixin
from aims.roles import Capability
from controls.catalogue.models import Framework, Mapping
from controls.readiness import readiness_summary
from controls.soa import selectors
from controls.soa import services as soa
from controls.soa.models import ApplicabilityStatement, ImplementationStatus, SoAVersion
from registry.models import AISystem
from registry.serializers import OrgRecordIdsField

FORBIDDEN_CHANGE = "Your role only lets you change the SoA rows you own (or rows nobody owns yet)."
AREAS = [f"A.{n}" for n in range(2, 11)]
DECISIONS = {"applicable": True, "excluded": False, "undecided": None}
DECISION_NAMES = {value: name for name, value in DECISIONS.items()}
REF_PARAMETER = OpenApiParameter(
    "ref", str, OpenApiParameter.PATH, description="Annex A control identifier, e.g. A.6.2.6."
)


def _absolute(request, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None and path else path


# --- SoA rows ------------------------------------------------------------------------------------


def can_change_row(tenant, row: ApplicabilityStatement) -> bool:
    """Edit roles change any row; an AI system owner the rows they own and rows without an owner."""
    return tenant.can(Capability.EDIT) and (row.owner_id is None or tenant.can_change(row))


class CanChangeRow(permissions.BasePermission):
    message = FORBIDDEN_CHANGE

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in permissions.SAFE_METHODS or can_change_row(request.tenant, obj)


class RiskRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="risk_id")
    ref = serializers.CharField(source="ref_code")
    title = serializers.CharField()


class SoARowSerializer(serializers.ModelSerializer):
    """One row of the Statement of Applicability (6.1.3): a control, whether it applies, why, and how far."""

    control = serializers.CharField(source="control.ref", read_only=True, help_text="Annex A identifier.")
    title = serializers.CharField(source="control.title", read_only=True)
    area = serializers.SerializerMethodField(help_text="The Annex A area (A.2 … A.10).")
    decision = serializers.SerializerMethodField(help_text="applicable, excluded or undecided.")
    owner_email = serializers.EmailField(source="owner.email", read_only=True, default=None, allow_null=True)
    past_target = serializers.BooleanField(read_only=True)
    systems = serializers.SerializerMethodField(help_text="References of the AI systems the control covers.")
    system_ids = serializers.SerializerMethodField(help_text="Ids of the AI systems the control covers.")
    risk_count = serializers.SerializerMethodField(
        help_text="Risks whose (not cancelled) treatments rely on the control: what makes it evidently applicable."
    )
    treatment_count = serializers.SerializerMethodField(help_text="Not cancelled treatments relying on the control.")
    risks = serializers.SerializerMethodField(
        help_text=f"The first {selectors.RISK_PREVIEW} of those risks by reference; `risks_url` lists them all."
    )
    risks_url = serializers.SerializerMethodField(help_text="The risk list filtered by this control.")
    evidence_count = serializers.IntegerField(read_only=True)
    valid_evidence_count = serializers.IntegerField(read_only=True, help_text="Evidence not expired today.")

    class Meta:
        model = ApplicabilityStatement
        fields = [
            "id", "control", "title", "area", "applicable", "decision", "justification", "implementation_status",
            "implementation", "owner", "owner_email", "target_date", "past_target", "systems", "system_ids",
            "risk_count", "treatment_count", "risks", "risks_url", "evidence_count", "valid_evidence_count",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_area(self, row: ApplicabilityStatement) -> str:
        return selectors.area_of(row.control).ref

    @extend_schema_field(serializers.ChoiceField(choices=list(DECISIONS)))
    def get_decision(self, row: ApplicabilityStatement) -> str:
        return DECISION_NAMES[row.applicable]

    def get_systems(self, row: ApplicabilityStatement) -> list[str]:
        return sorted(link.system.ref_code for link in row.system_links.all())

    def get_system_ids(self, row: ApplicabilityStatement) -> list[int]:
        return sorted(link.system_id for link in row.system_links.all())

    def _relied_on(self, row: ApplicabilityStatement) -> selectors.ControlRiskSummary:
        summaries = self.context.get("relied_on", {})
        return summaries.get(row.control_id) or selectors.ControlRiskSummary()

    def get_risk_count(self, row: ApplicabilityStatement) -> int:
        return self._relied_on(row).risk_count

    def get_treatment_count(self, row: ApplicabilityStatement) -> int:
        return self._relied_on(row).treatment_count

    @extend_schema_field(RiskRefSerializer(many=True))
    def get_risks(self, row: ApplicabilityStatement) -> Any:
        # The shape of RiskRefSerializer, written out: a serializer per row copies its fields each time.
        return [{"id": r.risk_id, "ref": r.ref_code, "title": r.title} for r in self._relied_on(row).first_risks]

    @cached_property
    def _risk_list_url(self) -> str:
        """The risk list's absolute URL, resolved once for all the rows of an answer (the list
        serializer renders every row with this one child)."""
        return _absolute(self.context.get("request"), reverse("risk-list"))

    @extend_schema_field(serializers.URLField())
    def get_risks_url(self, row: ApplicabilityStatement) -> str:
        return f"{self._risk_list_url}?control={row.control_id}"


class SoARowUpdateSerializer(serializers.Serializer):
    """The fields of a row a client may change; those not sent keep their value."""

    applicable = serializers.BooleanField(
        required=False, allow_null=True, help_text="true (applicable), false (excluded) or null (not decided)."
    )
    justification = serializers.CharField(
        required=False, allow_blank=True, help_text="Why the control is included or excluded: required either way."
    )
    implementation_status = serializers.ChoiceField(choices=ImplementationStatus.choices, required=False)
    implementation = serializers.CharField(required=False, allow_blank=True, help_text="How it is implemented.")
    owner = MemberField(required=False, allow_null=True, help_text="User id of a member of the organisation.")
    target_date = serializers.DateField(required=False, allow_null=True)
    systems = OrgRecordIdsField(
        model=AISystem,
        links="system_links",
        target="system",
        help_text="Ids of your AI systems the control covers; replaces the whole list.",
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        tenant = self.context["request"].tenant
        if tenant.edits_only_own and "owner" in attrs and attrs["owner"] != tenant.user:
            raise serializers.ValidationError(
                {"owner": "As an AI system owner you can only assign controls to yourself."}
            )
        return attrs


class SoAFilter(django_filters.FilterSet):
    area = django_filters.ChoiceFilter(
        choices=[(a, a) for a in AREAS], method="filter_area", help_text="Annex A area, e.g. A.6."
    )
    decision = django_filters.ChoiceFilter(
        choices=[(name, name) for name in DECISIONS], method="filter_decision", help_text="The decision taken."
    )
    implementation_status = django_filters.ChoiceFilter(choices=ImplementationStatus.choices)

    class Meta:
        model = ApplicabilityStatement
        fields = ["area", "decision", "implementation_status"]

    def filter_area(self, queryset, name, value):
        return queryset.filter(control__ref__startswith=value + ".")

    def filter_decision(self, queryset, name, value):
        wanted = DECISIONS[value]
        return queryset.filter(applicable__isnull=True) if wanted is None else queryset.filter(applicable=wanted)


class SoAViewSet(
    VersionedMixin,
    TenantScopedMixin,
    SelectorQuerysetMixin,
    CachedListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The Statement of Applicability (6.1.3): one row per Annex A control, created on first use."""

    queryset = ApplicabilityStatement.objects.all()
    serializer_class = SoARowSerializer
    permission_classes = [HasOrganizationRole, CanChangeRow]
    filterset_class = SoAFilter
    filter_backends = [DjangoFilterBackend]
    lookup_field = "control__ref"
    lookup_url_kwarg = "ref"
    lookup_value_regex = r"[A-Za-z0-9.]+"
    http_method_names = ["get", "patch", "head", "options"]
    # soa_rows creates missing rows first and annotates the evidence counts (fixed queries);
    # TenantScopedMixin narrows it to the organisation once more.
    selector = staticmethod(selectors.soa_rows)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "relied_on": self.relied_on}

    @cached_property
    def relied_on(self) -> dict[int, selectors.ControlRiskSummary]:
        # One query for all the rows of the answer (cached), whatever the number of risks behind them.
        if getattr(self, "swagger_fake_view", False):
            return {}
        return selectors.cached_control_risk_summaries(self.request.tenant.organization)  # type: ignore[attr-defined]

    @extend_schema(summary="List the SoA rows (all Annex A controls)")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One SoA row, by control identifier", parameters=[REF_PARAMETER])
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Change an SoA row",
        description="Decide (`applicable` true/false, or null to reopen), justify, describe the implementation, "
        "assign an owner and target date, and set the AI systems the control covers. A decision needs a "
        "justification either way (clause 6.1.3); a control that a risk treatment relies on cannot be excluded. "
        "An AI system owner changes only the rows they own or rows nobody owns yet.",
        parameters=[REF_PARAMETER, IF_MATCH],
        request=SoARowUpdateSerializer,
        responses={200: SoARowSerializer},
    )
    def partial_update(self, request, *args, **kwargs):
        row = self.get_object()
        data = SoARowUpdateSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        systems = values.pop("systems", None)
        for name, value in values.items():
            setattr(row, name, value)
        soa.soa_row_update(statement=row, acting_user=request.user, systems=systems)
        return self._with_etag(Response(self.get_serializer(self.reread(row)).data))


# --- Versions ------------------------------------------------------------------------------------


class SnapshotRowSerializer(serializers.Serializer):
    """A row as it was when the version was submitted."""

    ref = serializers.CharField()
    title = serializers.CharField()
    applicable = serializers.BooleanField(allow_null=True)
    justification = serializers.CharField()
    implementation_status = serializers.CharField()
    implementation = serializers.CharField()
    owner = serializers.EmailField(allow_null=True, help_text="The owner's e-mail address.")
    target_date = serializers.DateField(allow_null=True)
    systems = serializers.ListField(child=serializers.CharField(), help_text="AI system references.")
    risks = serializers.ListField(
        child=serializers.CharField(),
        help_text="References of the first risks relying on it (all of them in versions submitted before the counts).",
    )
    risk_count = serializers.SerializerMethodField(help_text="Risks relying on it at the time.")
    treatment_count = serializers.SerializerMethodField(
        allow_null=True, help_text="Treatments relying on it at the time; null for versions that did not record it."
    )
    evidence = serializers.IntegerField(help_text="Evidence items linked at the time.")

    def get_risk_count(self, row: dict[str, Any]) -> int:
        # Versions submitted before the counts were recorded listed every risk.
        return row.get("risk_count", len(row.get("risks", [])))

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_treatment_count(self, row: dict[str, Any]) -> int | None:
        return row.get("treatment_count")


class SoAVersionSerializer(serializers.ModelSerializer):
    """A submitted Statement of Applicability; its rows are frozen as submitted."""

    # Plain text: one choice set under a common name would clash with other "status" enums.
    status = serializers.CharField(read_only=True, help_text="submitted, approved or returned.")
    submitted_by = serializers.EmailField(source="submitted_by.email", read_only=True, default=None, allow_null=True)
    decided_by = serializers.EmailField(source="decided_by.email", read_only=True, default=None, allow_null=True)
    row_count = serializers.SerializerMethodField()

    class Meta:
        model = SoAVersion
        fields = [
            "id", "number", "status", "note", "submitted_by", "submitted_at", "decided_by", "decided_at",
            "decision_comment", "row_count",
        ]  # fmt: skip
        read_only_fields = fields

    def get_row_count(self, version: SoAVersion) -> int:
        return len(version.rows)


class SoAVersionDetailSerializer(SoAVersionSerializer):
    rows = SnapshotRowSerializer(many=True, read_only=True)

    class Meta(SoAVersionSerializer.Meta):
        fields = [*SoAVersionSerializer.Meta.fields, "rows"]
        read_only_fields = fields


class SoASubmitSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="What changed since the last approved version."
    )


class SoADecisionSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required when returning a version."
    )


class SoAVersionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SoAVersion.Status.choices)

    class Meta:
        model = SoAVersion
        fields = ["status"]


class SoAVersionViewSet(  # DRF stubs and TenantScopedMixin type permission_classes apart
    TenantScopedMixin,
    SelectorQuerysetMixin,
    TransitionActionMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Versions of the Statement of Applicability: submitted, then approved or returned by an administrator."""

    queryset = SoAVersion.objects.select_related("submitted_by", "decided_by")
    serializer_class = SoAVersionSerializer
    filterset_class = SoAVersionFilter
    filter_backends = [DjangoFilterBackend]
    decide_actions = frozenset({"approve", "return_"})
    transition_argument = "version"

    @property
    def write_capability(self) -> str:  # type: ignore[override]  # the capability depends on the action
        return Capability.APPROVE_SOA if getattr(self, "action", None) in self.decide_actions else Capability.EDIT

    def get_serializer_class(self):
        return SoAVersionSerializer if self.action == "list" else SoAVersionDetailSerializer

    @extend_schema(summary="List SoA versions, newest first")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One SoA version, with its frozen rows")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Submit the current SoA for approval",
        description="Freezes every row as a new version awaiting approval. Refused (400) while a control is "
        "undecided or unjustified (the message lists them) or while another version awaits a decision.",
        request=SoASubmitSerializer,
        responses={201: SoAVersionDetailSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = SoASubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = soa.soa_submit(
            organization=request.tenant.organization, acting_user=request.user, note=data.validated_data["note"]
        )
        return Response(self.get_serializer(self.reread(version)).data, status.HTTP_201_CREATED)

    def _decide(self, service, request) -> Response:
        data = SoADecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.transition(service, comment=data.validated_data["comment"])

    @extend_schema(
        summary="Approve a submitted SoA version",
        description="Administrators only; whoever submitted the version cannot approve it (400).",
        request=SoADecisionSerializer,
        responses={200: SoAVersionDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(soa.soa_approve, request)

    @extend_schema(
        summary="Return a submitted SoA version",
        description="Administrators only, with a comment saying what needs to change; whoever submitted the "
        "version cannot return it (400).",
        request=SoADecisionSerializer,
        responses={200: SoAVersionDetailSerializer},
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        return self._decide(soa.soa_return, request)


# --- Crosswalks ----------------------------------------------------------------------------------


class MappedRequirementSerializer(serializers.Serializer):
    framework = serializers.CharField(source="framework.code")
    ref = serializers.CharField()
    title = serializers.CharField()


class MappingPairSerializer(serializers.ModelSerializer):
    """A published relationship between a requirement of another framework and an ISO/IEC 42001 item."""

    source = MappedRequirementSerializer(read_only=True)  # type: ignore[assignment]  # a field named like Field.source
    target = MappedRequirementSerializer(read_only=True)

    class Meta:
        model = Mapping
        fields = ["id", "source", "target", "relationship", "origin", "note"]
        read_only_fields = fields


class MappingFilter(django_filters.FilterSet):
    framework = django_filters.CharFilter(
        field_name="source__framework__code", help_text="Code of the source framework, e.g. NISTAIRMF or EUAIACT."
    )
    source = django_filters.CharFilter(field_name="source__ref", help_text="Identifier of the source requirement.")
    target = django_filters.CharFilter(field_name="target__ref", help_text="Identifier of the target, e.g. A.6.2.6.")
    relationship = django_filters.ChoiceFilter(choices=Mapping.Relationship.choices)

    class Meta:
        model = Mapping
        fields = ["framework", "source", "target", "relationship"]


class CoverageQuerySerializer(serializers.Serializer):
    framework = serializers.CharField(help_text="Code of the other framework: NISTAIRMF or EUAIACT.")

    def validate_framework(self, value: str) -> Framework:
        framework = Framework.objects.filter(code=value).exclude(code="ISO42001").first()
        if framework is None:
            codes = ", ".join(Framework.objects.exclude(code="ISO42001").values_list("code", flat=True))
            raise serializers.ValidationError(f"Choose another framework than ISO42001: one of {codes}.")
        return framework


class CoveredControlSerializer(serializers.Serializer):
    ref = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField(
        help_text="The implementation status if applicable, 'excluded', or empty while undecided."
    )


class CoverageRowSerializer(serializers.Serializer):
    requirement = MappedRequirementSerializer()
    controls = serializers.SerializerMethodField()
    clauses = serializers.SerializerMethodField(help_text="ISO/IEC 42001 clauses mapped to the requirement.")
    implemented = serializers.IntegerField(help_text="How many mapped controls are implemented.")
    coverage = serializers.IntegerField(
        allow_null=True, help_text="Percentage of mapped controls implemented; null when no control is mapped."
    )

    @extend_schema_field(CoveredControlSerializer(many=True))
    def get_controls(self, row) -> list[dict]:
        return [{"ref": c.ref, "title": c.title, "status": status} for c, status in row.controls]

    def get_clauses(self, row) -> list[str]:
        return [clause.ref for clause in row.clauses]


class CoverageSerializer(serializers.Serializer):
    framework = serializers.CharField(source="framework.code")
    name = serializers.CharField(source="framework.name")
    rows = CoverageRowSerializer(many=True)


class MappingViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Crosswalks from the EU AI Act and the NIST AI RMF to ISO/IEC 42001 (reference data, read-only)."""

    queryset = Mapping.objects.select_related("source__framework", "target__framework").order_by(
        "source__framework__order", "source__order", "target__order"
    )
    serializer_class = MappingPairSerializer
    filterset_class = MappingFilter
    filter_backends = [DjangoFilterBackend]

    @extend_schema(summary="List crosswalk pairs")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="How far your implemented Annex A controls cover another framework",
        description="For each requirement of the framework that maps to ISO/IEC 42001: the mapped controls with "
        "your SoA status, the mapped clauses, and the share of mapped controls implemented.",
        parameters=[CoverageQuerySerializer],
        responses={200: CoverageSerializer},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def coverage(self, request):
        query = CoverageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        framework = query.validated_data["framework"]
        rows = selectors.framework_coverage(request.tenant.organization, framework)
        return Response(CoverageSerializer({"framework": framework, "rows": rows}).data)


# --- Readiness -----------------------------------------------------------------------------------


class CheckSerializer(serializers.Serializer):
    clause = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    ok = serializers.BooleanField()
    measured = serializers.BooleanField(
        help_text="False while there is nothing to check yet: the check then counts neither way in the score."
    )
    detail = serializers.CharField()
    url = serializers.SerializerMethodField(help_text="The portal page where it is fixed.")

    def get_url(self, check) -> str:
        return _absolute(self.context.get("request"), check.url)


class ClauseReadinessSerializer(serializers.Serializer):
    ref = serializers.CharField()
    title = serializers.CharField()
    score = serializers.IntegerField(
        allow_null=True, help_text="Percentage of checks passed; null when nothing is measured for the clause yet."
    )
    checks = CheckSerializer(many=True)


class MissingSerializer(serializers.Serializer):
    what = serializers.CharField()
    url = serializers.CharField()


class AreaReadinessSerializer(serializers.Serializer):
    ref = serializers.CharField()
    title = serializers.CharField()
    score = serializers.IntegerField(
        help_text="Mean of the shares decided, implemented (of applicable) and with valid evidence (of applicable)."
    )
    total = serializers.IntegerField()
    decided = serializers.IntegerField(help_text="Decided and justified.")
    applicable = serializers.IntegerField()
    excluded = serializers.IntegerField()
    implemented = serializers.IntegerField()
    evidenced = serializers.IntegerField(help_text="Applicable controls with valid evidence.")
    missing = serializers.SerializerMethodField()

    @extend_schema_field(MissingSerializer(many=True))
    def get_missing(self, area) -> list[dict]:
        request = self.context.get("request")
        return [{"what": what, "url": _absolute(request, url)} for what, url in area.missing]


class ReadinessSerializer(serializers.Serializer):
    overall = serializers.IntegerField()
    clause_score = serializers.IntegerField(allow_null=True)
    annex_score = serializers.IntegerField()
    clauses = ClauseReadinessSerializer(many=True)
    areas = AreaReadinessSerializer(many=True)


class _SingleObjectSchema(AutoSchema):
    """The readiness "list" answers one object, not a page of them."""

    def _is_list_view(self, serializer=None) -> bool:
        if getattr(self.view, "action", None) == "list":
            return False
        return super()._is_list_view(serializer)


class ReadinessViewSet(viewsets.ViewSet):
    """Certification readiness (clauses 4-10 and Annex A), as on the readiness page."""

    permission_classes = [HasOrganizationRole]
    schema = _SingleObjectSchema()

    @extend_schema(
        summary="Certification readiness of the organisation",
        description="One object: a score per clause 4-10 (share of checks passed; null for a clause nothing "
        "measures yet), a score per Annex A area from the SoA and its evidence, and the overall figure.",
        responses={200: ReadinessSerializer},
        operation_id="readiness_current",
    )
    def list(self, request):
        result = readiness_summary(request.tenant.organization)
        return Response(ReadinessSerializer(result, context={"request": request}).data)


ROUTES: list[tuple[str, type[viewsets.ViewSetMixin], str]] = [
    ("soa", SoAViewSet, "soa"),
    ("soa-versions", SoAVersionViewSet, "soaversion"),
    ("mappings", MappingViewSet, "mapping"),
    ("readiness", ReadinessViewSet, "readiness"),
]
