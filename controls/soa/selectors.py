"""Reads of the Statement of Applicability: its rows, what relies on each control, its versions, and how
far the organisation's implemented controls cover another framework (the crosswalk coverage).

Every read costs a fixed number of queries for all 38 rows; writes are in :mod:`controls.soa.services`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import Count, Exists, F, Func, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, DenseRank, JSONObject
from django.utils import timezone
from django.utils.translation import gettext

from aims.models import Organization
from aims.roles import Capability
from aims.setup import SetupStep
from aims.summaries import cached_summary
from aims.tenancy import Tenant
from aims.work import WORK_LIMIT, WorkItem, horizon
from controls.catalogue.models import Framework, Mapping, Requirement
from controls.evidence.models import Evidence, EvidenceLink
from controls.soa.models import ApplicabilityStatement, ImplementationStatus, SoASystem, SoAVersion
from registry.models import AISystem
from risk.models import Risk, TreatmentAction, TreatmentControl

ISO_FRAMEWORK = "ISO42001"
# The status of a control in the coverage table when the organisation excluded it.
EXCLUDED = "excluded"


def annex_a_controls() -> QuerySet[Requirement]:
    return Requirement.objects.of_framework(ISO_FRAMEWORK).controls().order_by("order")


def _count(records: QuerySet[Any]) -> Coalesce:
    """How many ``records`` there are, as a correlated subquery (0 when there is none)."""
    return Coalesce(
        Subquery(records.order_by().values(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))), 0
    )


def soa_rows(organization: Organization) -> QuerySet[ApplicabilityStatement]:
    """All rows with control, area, owner, covered systems and evidence counts (fixed queries).

    The SoA always has one row per Annex A control: the missing ones are created, undecided, first.
    """
    ApplicabilityStatement.objects.ensure_rows(organization)
    today = timezone.localdate()
    links = EvidenceLink.objects.for_org(organization).filter(control_id=OuterRef("control_id"))
    rows: QuerySet[ApplicabilityStatement] = (
        ApplicabilityStatement.objects.for_org(organization)
        .select_related("control__parent__parent", "owner")
        .prefetch_related(Prefetch("system_links", queryset=SoASystem.objects.select_related("system")))
        # Per row, a count over the links of its control (an index range each), rather than a
        # GROUP BY of every joined column of the rows after joining all the links.
        .annotate(
            evidence_count=_count(links),
            # Each link's evidence looked up by key: a join would hash every evidence item per row.
            valid_evidence_count=_count(
                links.filter(Exists(Evidence.objects.valid(today).filter(pk=OuterRef("evidence_id"))))
            ),
        )
        .order_by("control__order")
    )
    return rows


# How many risks are named beside a control; the rest are one click away in the filtered risk register.
RISK_PREVIEW = 5


@dataclass(frozen=True)
class RiskRef:
    risk_id: int
    ref_code: str
    title: str


@dataclass
class ControlRiskSummary:
    """What relies on one control: how many risks and treatments, and the first few risks by reference."""

    risk_count: int = 0
    treatment_count: int = 0
    first_risks: list[RiskRef] = field(default_factory=list)

    @property
    def more(self) -> int:
        """Risks relying on the control beyond those named in ``first_risks``."""
        return self.risk_count - len(self.first_risks)


def control_treatment_links(
    organization: Organization, control_ids: Iterable[int] | None = None
) -> QuerySet[TreatmentControl]:
    """The links from the organisation's treatments (not cancelled) to controls: what makes a control
    evidently applicable, and what keeps it from being excluded."""
    links = TreatmentControl.objects.for_org(organization).exclude(treatment__status=TreatmentAction.Status.CANCELLED)
    if control_ids is not None:
        links = links.filter(control_id__in=list(control_ids))
    return links


def control_risk_summaries(
    organization: Organization, control_ids: Iterable[int] | None = None
) -> dict[int, ControlRiskSummary]:
    """Per control: the risks and treatments relying on it, and the first risks by reference (one
    query on PostgreSQL).

    Each Annex A control (or each of ``control_ids``) is one row, with its figures in correlated
    subqueries: the counts read that control's links through the (organization, control,
    treatment) index and the treatments' covering index, so every sort and count stays in memory
    whatever the size of the register; the first :data:`RISK_PREVIEW` risks walk the register's
    reference index and stop at the fifth one relying on the control. Controls nothing relies on
    are absent.
    """
    controls = Requirement.objects.filter(pk__in=list(control_ids)) if control_ids is not None else annex_a_controls()
    links = control_treatment_links(organization).filter(control_id=OuterRef("pk")).order_by()
    # A treatment links a control at most once (treatmentcontrol_unique): treatments need no DISTINCT.
    counts = (
        links.values("control_id")
        .annotate(figures=JSONObject(treatments=Count("*"), risks=Count("treatment__risk_id", distinct=True)))
        .values("figures")
    )
    relying = control_treatment_links(organization).filter(
        treatment__risk_id=OuterRef("pk"), control_id=OuterRef(OuterRef("pk"))
    )
    first = (
        Risk.objects.for_org(organization)
        .filter(Exists(relying))
        .order_by("ref_code")
        .values(ref=JSONObject(id="id", ref_code="ref_code", title="title"))[:RISK_PREVIEW]
    )
    # ARRAY(subquery) is PostgreSQL's; other databases (SQLite for local serving) rank the links instead.
    postgres = connection.vendor == "postgresql"
    annotations = {"figures": Subquery(counts)} | ({"first_risks": ArraySubquery(first)} if postgres else {})
    summaries = {}
    for row in controls.annotate(**annotations).values("pk", *annotations):
        if row["figures"] is None:
            continue
        figures = json.loads(row["figures"]) if isinstance(row["figures"], str) else row["figures"]
        summaries[row["pk"]] = ControlRiskSummary(
            figures["risks"],
            figures["treatments"],
            [RiskRef(risk["id"], risk["ref_code"], risk["title"]) for risk in row.get("first_risks", [])],
        )
    if not postgres:
        _add_first_risks_ranked(summaries, control_treatment_links(organization, summaries))
    return summaries


def _add_first_risks_ranked(summaries: dict[int, ControlRiskSummary], links: QuerySet[TreatmentControl]) -> None:
    """The first risks of each control by a window over its links, for databases without ARRAY()."""
    # Dense rank by reference: a risk with two treatments relying on the same control ranks once,
    # so "rank <= N" keeps N distinct risks (their repeated rows are skipped below).
    first = (
        links.annotate(
            rank=Window(DenseRank(), partition_by=F("control_id"), order_by=F("treatment__risk__ref_code").asc())
        )
        .filter(rank__lte=RISK_PREVIEW)
        .values_list("control_id", "treatment__risk_id", "treatment__risk__ref_code", "treatment__risk__title")
        .order_by("control_id", "treatment__risk__ref_code")
    )
    for control_id, risk_id, ref_code, title in first:
        named = summaries[control_id].first_risks
        if not named or named[-1].risk_id != risk_id:
            named.append(RiskRef(risk_id, ref_code, title))


# What the cached per-control figures read: links, treatments and the risks' references and
# titles. A new risk relies on no control yet (its treatments and links move the scope on).
CONTROL_RISKS_SCOPE = "soa.control_risks"


def cached_control_risk_summaries(
    organization: Organization, control_ids: Iterable[int] | None = None
) -> dict[int, ControlRiskSummary]:
    """:func:`control_risk_summaries` of the whole organisation, cached until a risk, treatment
    or control link changes (the counts read every link, from indexes: at 100,000 risks they
    cost more than the rest of the SoA page). For screens; snapshots and packs read the database."""
    summaries = cached_summary(
        organization.pk, "soa.control_risks", lambda: control_risk_summaries(organization), scope=CONTROL_RISKS_SCOPE
    )
    if control_ids is None:
        return summaries
    return {control_id: summaries[control_id] for control_id in control_ids if control_id in summaries}


def control_risk_summary(organization: Organization, control_id: int) -> ControlRiskSummary:
    return control_risk_summaries(organization, [control_id]).get(control_id, ControlRiskSummary())


@dataclass
class SystemControl:
    """A control that covers one AI system, and how: the SoA row names the system, treatments
    of the system's risks rely on it, or evidence about the system supports it."""

    control: Requirement
    statement: ApplicabilityStatement | None
    named_in_soa: bool = False
    treatment_count: int = 0
    evidence_count: int = 0


def _system_control_ids(
    organization: Organization, system: AISystem
) -> tuple[set[int], dict[int, int], dict[int, int]]:
    named = set(
        SoASystem.objects.for_org(organization).filter(system=system).values_list("statement__control_id", flat=True)
    )
    treated = dict(
        control_treatment_links(organization)
        .filter(treatment__risk__system=system)
        .order_by()
        .values("control_id")
        .annotate(n=Count("treatment", distinct=True))
        .values_list("control_id", "n")
    )
    evidenced = dict(
        EvidenceLink.objects.for_org(organization)
        .filter(
            target=EvidenceLink.Target.CONTROL,
            evidence__links__target=EvidenceLink.Target.SYSTEM,
            evidence__links__system=system,
        )
        .order_by()
        .values("control_id")
        .annotate(n=Count("evidence", distinct=True))
        .values_list("control_id", "n")
    )
    return named, treated, evidenced


def system_controls(organization: Organization, system: AISystem) -> list[SystemControl]:
    """The controls that cover ``system``, in catalogue order, with their SoA rows (four queries)."""
    named, treated, evidenced = _system_control_ids(organization, system)
    ids = named | set(treated) | set(evidenced)
    statements = {
        row.control_id: row
        for row in ApplicabilityStatement.objects.for_org(organization)
        .filter(control_id__in=ids)
        .select_related("owner")
    }
    controls = Requirement.objects.filter(pk__in=ids).select_related("framework").order_by("framework__code", "order")
    return [
        SystemControl(
            control=control,
            statement=statements.get(control.pk),
            named_in_soa=control.pk in named,
            treatment_count=treated.get(control.pk, 0),
            evidence_count=evidenced.get(control.pk, 0),
        )
        for control in controls
    ]


def system_control_records(organization: Organization, system: AISystem) -> list[QuerySet[Requirement]]:
    """What the Controls and evidence tab of a system counts: each control that covers it, once."""
    named = SoASystem.objects.for_org(organization).filter(system=system).values("statement__control_id")
    treated = control_treatment_links(organization).filter(treatment__risk__system=system).values("control_id")
    evidenced = (
        EvidenceLink.objects.for_org(organization)
        .filter(
            target=EvidenceLink.Target.CONTROL,
            evidence__links__target=EvidenceLink.Target.SYSTEM,
            evidence__links__system=system,
        )
        .values("control_id")
    )
    return [Requirement.objects.filter(Q(pk__in=named) | Q(pk__in=treated) | Q(pk__in=evidenced))]


def area_of(control: Requirement) -> Requirement:
    """The top-level Annex A area (A.2 … A.10) of a control; A.6 controls sit one level deeper."""
    area = control.parent
    while area is not None and area.parent_id is not None:
        area = area.parent
    if area is None:
        raise ValueError(f"{control.ref} is not an Annex A control: it sits in no area.")
    return area


def soa_pending(organization: Organization) -> SoAVersion | None:
    """The version awaiting a decision, if any."""
    return SoAVersion.objects.for_org(organization).filter(status=SoAVersion.Status.SUBMITTED).first()


def soa_latest_approved(organization: Organization) -> SoAVersion | None:
    return (
        SoAVersion.objects.for_org(organization)
        .filter(status=SoAVersion.Status.APPROVED)
        .select_related("decided_by", "submitted_by")
        .order_by("-number")
        .first()
    )


def evidence_counts_by_control(organization: Organization) -> dict[int, int]:
    return dict(
        EvidenceLink.objects.for_org(organization)
        .filter(target=EvidenceLink.Target.CONTROL)
        .values_list("control_id")
        .annotate(n=Count("id"))
        .order_by()
    )


# --- Crosswalk coverage --------------------------------------------------------------------------


@dataclass
class CoverageRow:
    requirement: Requirement
    controls: list[tuple[Requirement, str]]  # (ISO control, implementation status, "excluded" or "")
    clauses: list[Requirement]

    @property
    def implemented(self) -> int:
        return sum(status == ImplementationStatus.IMPLEMENTED for _, status in self.controls)

    @property
    def coverage(self) -> int | None:
        return round(100 * self.implemented / len(self.controls)) if self.controls else None


def framework_coverage(organization: Organization, framework: Framework) -> list[CoverageRow]:
    """For each requirement of another framework: the ISO/IEC 42001 items mapped to it and how far the
    organisation's implemented Annex A controls cover it (three queries)."""
    statuses = {
        control_id: (status if applicable else EXCLUDED if applicable is False else "")
        for control_id, applicable, status in ApplicabilityStatement.objects.for_org(organization).values_list(
            "control_id", "applicable", "implementation_status"
        )
    }
    by_source: dict[int, list[Requirement]] = {}
    for mapping in (
        Mapping.objects.filter(source__framework=framework).select_related("target").order_by("target__order")
    ):
        by_source.setdefault(mapping.source_id, []).append(mapping.target)
    rows = []
    for requirement in (
        Requirement.objects.filter(framework=framework)
        .exclude(kind__in=[Requirement.Kind.GROUP, Requirement.Kind.FUNCTION])
        .order_by("order")
    ):
        targets = by_source.get(requirement.pk, [])
        if not targets:
            continue
        controls = [(t, statuses.get(t.pk, "")) for t in targets if t.kind == Requirement.Kind.CONTROL]
        clauses = [t for t in targets if t.kind == Requirement.Kind.CLAUSE]
        rows.append(CoverageRow(requirement, controls, clauses))
    return rows


def soa_setup_steps(organization: Organization) -> list[SetupStep]:
    """First-run step: every Annex A control decided and justified, then the SoA approved."""
    from django.urls import reverse

    controls = Requirement.objects.of_framework(ISO_FRAMEWORK).controls().count()
    decided = (
        ApplicabilityStatement.objects.for_org(organization)
        .filter(applicable__isnull=False)
        .exclude(justification="")
        .count()
    )
    approved = soa_latest_approved(organization) is not None
    progress = gettext("%(decided)s of %(controls)s controls decided") % {"decided": decided, "controls": controls}
    if approved:
        progress = gettext("%(progress)s, approved") % {"progress": progress}
    return [
        SetupStep(60, gettext("Decide the Annex A controls in the Statement of Applicability"),
                  gettext("For each of the controls: applicable or not, and why; then submit the statement for "
                          "approval (clause 6.1.3)."),
                  decided >= controls > 0 and approved, reverse("soa:statement"), gettext("Open the SoA"), progress),
    ]  # fmt: skip


def controls_work(tenant: Tenant, today: date) -> list[WorkItem]:
    """My work in controls: SoA versions to approve (submitted by someone else), my controls not
    implemented by their target date, my evidence expiring."""
    from django.urls import reverse

    user, organization, until = tenant.user, tenant.organization, horizon(today)
    items = []
    if tenant.can(Capability.APPROVE_SOA):
        submitted = SoAVersion.objects.for_org(organization).filter(status=SoAVersion.Status.SUBMITTED)
        items += [
            WorkItem(gettext("Controls"), gettext("Approve the Statement of Applicability"),
                     gettext("Version %(number)s") % {"number": v.number},
                     reverse("soa:version", args=[v.number]), f"SoA v{v.number}")
            for v in submitted.exclude(submitted_by=user).order_by("number")[:WORK_LIMIT]
        ]  # fmt: skip
    rows = (
        ApplicabilityStatement.objects.for_org(organization)
        .filter(owner=user, applicable=True, target_date__lte=until)
        .exclude(implementation_status=ImplementationStatus.IMPLEMENTED)
        .select_related("control")
        .order_by("target_date", "control__order")[:WORK_LIMIT]
    )
    items += [
        WorkItem(gettext("Controls"), gettext("Implement a control"), row.control.title,
                 reverse("soa:control", args=[row.control.ref]), row.control.ref, row.target_date)
        for row in rows
    ]  # fmt: skip
    expiring = Evidence.objects.for_org(organization).filter(owner=user, valid_until__lte=until)
    items += [
        WorkItem(
            gettext("Evidence"),
            gettext("Evidence expires"),
            e.title,
            reverse("evidence:detail", args=[e.pk]),
            "",
            e.valid_until,
        )
        for e in expiring.order_by("valid_until", "pk")[:WORK_LIMIT]
    ]
    return items
