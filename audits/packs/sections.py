"""The sections of an evidence pack. Each collects its data with a fixed number of queries.

A section returns the context its template needs and the records it shows, which go
into the evidence index and the embedded manifest with their SHA-256.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time

from django.core.files.storage import default_storage
from django.db.models import Case, Count, F, Max, Prefetch, Q, Value, When
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext

from aims.history import (
    HistoryEntry,
    merged_history,
    organization_history,
    organization_history_counts,
    organization_history_pages,
    records_history,
)
from aims.models import Membership, User
from aims.roles import Role
from audits.models import EvidencePack, PackDetail, PackSection
from audits.packs.models import HIGH_RISK_LEVELS, HIGH_RISK_TIERS
from audits.packs.records import RecordEntry, record_entry
from audits.packs.sections_aims import (
    audit_data,
    audits_data,
    competence_data,
    context_data,
    improvement_data,
    leadership_data,
    objectives_data,
    reviews_data,
)
from audits.packs.sections_monitoring import monitoring_data
from controls.models import Evidence, EvidenceLink, EvidenceVersion, Framework, Mapping, Requirement
from controls.readiness import readiness
from controls.soa.selectors import control_risk_summaries, framework_coverage, soa_latest_approved, soa_rows
from registry.models import (
    AISystem,
    LifecycleStage,
    ModelDataset,
    Resource,
    RoleAssignment,
    SystemModel,
    SystemStatus,
    SystemSupplier,
)
from risk.models import LEVEL_RANK, ImpactAssessment, ImpactItem, Level, Risk, TreatmentAction, TreatmentControl
from risk.selectors import heat_maps
from risk.services import criteria_for

# The pack's pages show the most recent changes; the attached change history holds them all.
HISTORY_LIMIT = 200
# The attached change history stops here: past it, the period should be split into several packs.
HISTORY_ATTACHMENT_LIMIT = 100_000
# The risk summary lists this many of the worst open risks; the attached register holds every risk.
WORST_RISKS = 25
# Up to this many risks, the register is printed risk by risk as well as summarised.
RISK_DETAIL_LIMIT = 100
# Overdue treatments and reviews printed, the oldest first; the attached register has every one.
OVERDUE_LIMIT = 500
# Rows read per round trip while records are fingerprinted.
RECORD_CHUNK = 2000
# Past this many, a list of names (systems without an impact assessment...) is shown as a count and the first few.
LIST_PREVIEW = 30
# Stages in which a system is built or used: "proposed" no longer describes it, whatever its status says.
STAGES_IN_USE = (LifecycleStage.DEPLOYMENT, LifecycleStage.OPERATION, LifecycleStage.REEVALUATION)


@dataclass
class SectionResult:
    key: str
    title: str
    template: str
    context: dict
    records: list[RecordEntry] = field(default_factory=list)


def _period_bounds(pack: EvidencePack) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(pack.period_start, time.min, tzinfo=tz)
    end = datetime.combine(pack.period_end, time.max, tzinfo=tz)
    return start, end


def _systems(pack: EvidencePack):
    systems = AISystem.objects.for_org(pack.organization)
    if pack.scope == EvidencePack.Scope.SYSTEM:
        systems = systems.filter(pk=pack.system_id)
    return systems.select_related("owner").order_by("ref_code")


def collect_scope(pack: EvidencePack) -> SectionResult:
    memberships = list(
        Membership.objects.for_org(pack.organization).select_related("user").order_by("role", "user__email")
    )
    by_role = Counter(m.role for m in memberships)
    systems = list(_systems(pack))
    context = {
        "memberships": memberships,
        "role_counts": [(label, by_role.get(value, 0)) for value, label in Role.choices],
        "system_count": len(systems),
        "systems_by_status": Counter(portfolio_status(s) for s in systems).most_common(),
        "systems_by_stage": Counter(s.get_lifecycle_stage_display() for s in systems).most_common(),
        "systems_by_tier": Counter(s.get_eu_ai_act_tier_display() for s in systems).most_common(),
    }
    records = [record_entry(pack.organization)] + [record_entry(m, f"Membership {m.user.email}") for m in memberships]
    extra, extra_records = context_data(pack)
    context.update(extra)
    return SectionResult(
        PackSection.SCOPE, str(PackSection.SCOPE.label), "pdf/sections/scope.html", context, records + extra_records
    )


def portfolio_status(system: AISystem) -> str:
    """The status to count a system under: a "proposed" system already deployed or operated is counted as in use.

    Systems registered after they went live often keep the default status; counting them as
    proposed told auditors that systems in operation had not been approved yet.
    """
    if system.status == SystemStatus.PROPOSED and system.lifecycle_stage in STAGES_IN_USE:
        return gettext("In use (%(stage)s), status not updated") % {
            "stage": system.get_lifecycle_stage_display().lower()
        }
    return system.get_status_display()


def high_risk_system_ids(pack: EvidencePack) -> set[int]:
    """Systems in the EU AI Act high-risk or prohibited tier, or with an open risk at a high or critical level."""
    systems = _systems(pack)
    by_tier = systems.filter(eu_ai_act_tier__in=HIGH_RISK_TIERS).values_list("pk", flat=True)
    risky = Risk.objects.for_org(pack.organization).open().filter(system__in=systems.values("pk"))
    # The current level is the residual one once assessed, otherwise the inherent one.
    risky = risky.filter(
        Q(residual_level__in=HIGH_RISK_LEVELS) | Q(residual_level="", inherent_level__in=HIGH_RISK_LEVELS)
    )
    return set(by_tier) | set(risky.values_list("system_id", flat=True).distinct())


def detailed_system_ids(pack: EvidencePack) -> list[int]:
    """The systems that get detail pages in the inventory, in reference order, as ``pack.detail`` says."""
    if pack.detail == PackDetail.NONE:
        return []
    ids = list(_systems(pack).values_list("pk", flat=True))
    if pack.detail == PackDetail.HIGH_RISK:
        chosen = high_risk_system_ids(pack)
        ids = [pk for pk in ids if pk in chosen]
    return ids


def inventory_summary(pack: EvidencePack, offset: int = 0, limit: int | None = None) -> dict:
    """One row per AI system in scope, whatever the detail level: the table an auditor starts from.

    With ``offset`` and ``limit``, the rows of one slice of the systems (one part of a large pack).
    """
    systems = list(
        _systems(pack)[offset : None if limit is None else offset + limit].prefetch_related(
            Prefetch(
                "role_assignments",
                queryset=RoleAssignment.objects.filter(raci=RoleAssignment.Raci.ACCOUNTABLE).select_related("member"),
            )
        )
    )
    ids = [system.pk for system in systems]
    open_risks = Risk.objects.for_org(pack.organization).open().filter(system_id__in=ids)
    risk_counts: Counter[int] = Counter()
    worst: dict[int, str] = {}
    for system_id, residual, inherent, n in (
        open_risks.values_list("system_id", "residual_level", "inherent_level").annotate(n=Count("*")).order_by()
    ):
        risk_counts[system_id] += n
        level = residual or inherent
        if level and LEVEL_RANK[level] > LEVEL_RANK.get(worst.get(system_id, ""), -1):
            worst[system_id] = level
    last_assessed = dict(
        ImpactAssessment.objects.for_org(pack.organization)
        .filter(status=ImpactAssessment.Status.APPROVED, system_id__in=ids)
        .values_list("system_id")
        .annotate(last=Max("approved_at"))
        .order_by()
    )
    rows = [
        {
            "system": system,
            "open_risks": risk_counts.get(system.pk, 0),
            "worst_level": worst.get(system.pk, ""),
            "last_assessed": last_assessed.get(system.pk),
        }
        for system in systems
    ]
    first = offset == 0
    summary: dict = {"summary_rows": rows, "summary_first": first, "detail": pack.detail}
    if first:
        detailed = detailed_system_ids(pack)
        summary.update(
            summary_total=len(rows) if limit is None else inventory_system_count(pack),
            detailed_count=len(detailed),
            # Said when no system gets detail pages, so the reader knows what the option would add.
            high_risk_count=len(high_risk_system_ids(pack)) if pack.detail == PackDetail.NONE else None,
            detail_label=pack.get_detail_display(),
        )
    return summary


def inventory_system_count(pack: EvidencePack) -> int:
    return _systems(pack).count()


def collect_inventory(
    pack: EvidencePack,
    system_ids: Sequence[int] | None = None,
    *,
    with_summary: bool | None = None,
    summary_offset: int = 0,
    summary_limit: int | None = None,
) -> SectionResult:
    """The inventory: the summary table of every system, then the detail pages of the detailed systems.

    With ``system_ids``, only the detail pages of those systems, in that order (one chunk of a large
    pack), and the summary table only if ``with_summary``: all of it, or the slice of
    ``summary_limit`` systems from ``summary_offset`` (a large inventory's summary spans parts).
    """
    chunk = system_ids is not None and not with_summary
    ids = list(system_ids) if system_ids is not None else detailed_system_ids(pack)
    systems = list(
        _systems(pack)
        .filter(pk__in=ids)
        .prefetch_related(
            Prefetch(
                "model_links",
                queryset=SystemModel.objects.select_related("model__supplier").prefetch_related(
                    Prefetch("model__dataset_links", queryset=ModelDataset.objects.select_related("dataset__supplier"))
                ),
            ),
            Prefetch("supplier_links", queryset=SystemSupplier.objects.select_related("supplier")),
            Prefetch("resources", queryset=Resource.objects.order_by("kind", "name")),
            Prefetch("role_assignments", queryset=RoleAssignment.objects.select_related("member")),
        )
    )
    position = {pk: i for i, pk in enumerate(ids)}
    systems.sort(key=lambda s: position[s.pk])
    records: list[RecordEntry] = []
    seen: set[tuple[str, int]] = set()

    def add(instance, label=None):
        key = (instance._meta.label, instance.pk)
        if key not in seen:
            seen.add(key)
            records.append(record_entry(instance, label))

    for system in systems:
        add(system)
        for link in system.model_links.all():
            add(link.model)
            if link.model.supplier:
                add(link.model.supplier)
            for dataset_link in link.model.dataset_links.all():
                add(dataset_link.dataset)
        for link in system.supplier_links.all():
            add(link.supplier)
        for assignment in system.role_assignments.all():
            add(assignment, f"{system.ref_code} {assignment.get_raci_display()}: {assignment.party}")
    # "systems" are the detailed ones: the contents page lists each of them.
    context: dict = {"systems": systems, "summary_rows": None}
    if not chunk:
        context.update(inventory_summary(pack, summary_offset, summary_limit))
        # Every system in scope is in the summary: each is a record of the pack, detailed or not.
        for row in context["summary_rows"]:
            add(row["system"])
    return SectionResult(
        PackSection.INVENTORY, str(PackSection.INVENTORY.label), "pdf/sections/inventory.html", context, records
    )


def collect_controls(pack: EvidencePack) -> SectionResult:
    """The Statement of Applicability: all 38 controls under their objectives, with the evidence behind them."""
    organization = pack.organization
    rows = list(soa_rows(organization))
    relied_on = control_risk_summaries(organization)
    links = (
        EvidenceLink.objects.for_org(organization)
        .filter(target=EvidenceLink.Target.CONTROL)
        .select_related("evidence")
        .order_by("evidence__title")
    )
    evidence_by_control: dict[int, list] = {}
    for link in links:
        evidence_by_control.setdefault(link.control_id, []).append(link.evidence)
    objectives = {r.pk: r for r in Requirement.objects.of_framework("ISO42001").filter(kind=Requirement.Kind.OBJECTIVE)}
    table, last_parent = [], None
    for row in rows:
        parent = objectives.get(row.control.parent_id)
        if parent is not None and parent.pk != last_parent:
            table.append({"objective": parent, "row": None})
            last_parent = parent.pk
        # Shown beside the row in the table: set on the instance for the template.
        # The count and the first risks by reference: the risk register section lists each risk's controls.
        row.relied_on = relied_on.get(row.control_id)  # type: ignore[attr-defined]
        row.evidence_items = evidence_by_control.get(row.control_id, [])  # type: ignore[attr-defined]
        table.append({"objective": None, "row": row})
    approved = soa_latest_approved(organization)
    records = [record_entry(row, f"SoA {row.control.ref}") for row in rows]
    if approved is not None:
        records.append(record_entry(approved, f"SoA version {approved.number} (approved)"))
    context = {
        "table": table,
        "approved": approved,
        "applicable": sum(r.applicable is True for r in rows),
        "excluded": sum(r.applicable is False for r in rows),
        "undecided": sum(r.applicable is None for r in rows),
        "implemented": sum(r.applicable is True and r.implementation_status == "implemented" for r in rows),
        "total": len(rows),
    }
    return SectionResult(
        PackSection.CONTROLS, str(PackSection.CONTROLS.label), "pdf/sections/controls.html", context, records
    )


def collect_crosswalk(pack: EvidencePack) -> SectionResult:
    frameworks = []
    for framework in Framework.objects.exclude(code="ISO42001").order_by("order"):
        rows = framework_coverage(pack.organization, framework)
        measured = [r.coverage for r in rows if r.coverage is not None]
        average = round(sum(measured) / len(measured)) if measured else None
        origin = Mapping.objects.filter(source__framework=framework).values_list("origin", flat=True).first()
        frameworks.append({"framework": framework, "rows": rows, "average": average, "origin": origin})
    context = {"frameworks": frameworks}
    return SectionResult(
        PackSection.CROSSWALK, str(PackSection.CROSSWALK.label), "pdf/sections/crosswalk.html", context
    )


def collect_readiness(pack: EvidencePack) -> SectionResult:
    context = {"readiness": readiness(pack.organization)}
    return SectionResult(
        PackSection.READINESS, str(PackSection.READINESS.label), "pdf/sections/readiness.html", context
    )


def evidence_files(pack: EvidencePack) -> list[tuple[EvidenceVersion, bytes]]:
    """The latest version of every file evidence in scope, with its bytes, for attaching to the PDF."""
    evidence = Evidence.objects.for_org(pack.organization).filter(kind=Evidence.Kind.FILE)
    if pack.scope == EvidencePack.Scope.SYSTEM:
        evidence = evidence.filter(
            Q(links__system_id=pack.system_id) | Q(links__target=EvidenceLink.Target.CONTROL)
        ).distinct()
    versions = (
        EvidenceVersion.objects.filter(evidence__in=evidence)
        .exclude(file="")
        .order_by("evidence_id", "-number")
        .select_related("evidence")
    )
    latest, files = set(), []
    for version in versions:
        if version.evidence_id in latest:
            continue
        latest.add(version.evidence_id)
        with default_storage.open(version.file.name, "rb") as fh:
            files.append((version, fh.read()))
    return files


def history_entries(pack: EvidencePack, limit: int) -> list[HistoryEntry]:
    """At most ``limit`` changes of the pack's period and scope, newest first."""
    start, end = _period_bounds(pack)
    if pack.scope == EvidencePack.Scope.SYSTEM:
        lookup = {"history_date__range": (start, end)}
        return merged_history(
            records_history(AISystem, id=pack.system_id, **lookup),
            *(
                records_history(model, system_id=pack.system_id, **lookup)
                for model in (SystemModel, SystemSupplier, Resource, RoleAssignment)
            ),
        )[:limit]
    return organization_history(pack.organization, start, end, limit=limit)


def history_entries_streamed(pack: EvidencePack, limit: int) -> Iterator[HistoryEntry]:
    """The changes :func:`history_entries` gives, read a page at a time: for the attached history."""
    if pack.scope == EvidencePack.Scope.SYSTEM:
        yield from history_entries(pack, limit)
        return
    start, end = _period_bounds(pack)
    for page in organization_history_pages(pack.organization, start, end, limit=limit):
        yield from page


def history_counts(pack: EvidencePack) -> tuple[list[tuple[str, int]], list[tuple[str, int]], int]:
    """Changes in the period per record type and per user (most first), and their total."""
    by_type: Counter[str] = Counter()
    by_user_id: Counter[int | None] = Counter()
    if pack.scope == EvidencePack.Scope.SYSTEM:
        # A system's own history is short: count it from its entries.
        users: dict[int | None, str] = {}
        for entry in history_entries(pack, limit=HISTORY_ATTACHMENT_LIMIT):
            by_type[capfirst(entry.model)] += 1
            key = entry.who.pk if entry.who else None
            by_user_id[key] += 1
            users[key] = entry.who.display_name if entry.who else "the system"
    else:
        start, end = _period_bounds(pack)
        for label, user_id, n in organization_history_counts(pack.organization, start, end):
            by_type[capfirst(label)] += n
            by_user_id[user_id] += n
        known = User.objects.filter(pk__in=[pk for pk in by_user_id if pk is not None])
        users = {u.pk: u.display_name for u in known}
        users[None] = "the system"
    by_user: Counter[str] = Counter()
    for user_id, n in by_user_id.items():
        by_user[users.get(user_id, f"user #{user_id}")] += n
    return by_type.most_common(), by_user.most_common(), sum(by_type.values())


def collect_history(pack: EvidencePack, offset: int = 0, limit: int | None = None) -> SectionResult:
    """The change history: counts for the period and its most recent changes; ``offset`` and ``limit`` pick a chunk.

    Every change of the period is in the attached change history (CSV and JSON).
    """
    entries = history_entries(pack, limit=HISTORY_LIMIT)
    entries = entries[offset : None if limit is None else offset + limit]
    context: dict = {"entries": entries, "recent": HISTORY_LIMIT, "summary": offset == 0, "truncated": False}
    if offset == 0:
        by_type, by_user, total = history_counts(pack)
        context.update(by_type=by_type, by_user=by_user, total=total, truncated=total > HISTORY_LIMIT)
    return SectionResult(PackSection.HISTORY, str(PackSection.HISTORY.label), "pdf/sections/history.html", context)


def collect_risk_criteria(pack: EvidencePack) -> SectionResult:
    criteria = criteria_for(pack.organization)
    _, maps = heat_maps(pack.organization, Risk.objects.none())
    context = {"criteria": criteria, "matrix": maps[0]}
    records = [record_entry(criteria, "Risk criteria")]
    return SectionResult(
        PackSection.RISK_CRITERIA,
        str(PackSection.RISK_CRITERIA.label),
        "pdf/sections/risk_criteria.html",
        context,
        records,
    )


def collect_risks(pack: EvidencePack) -> SectionResult:
    """The register summarised: counts, heat maps, the worst open risks and what is overdue.

    The figures are aggregated in the database and the records streamed, so a register of any
    size costs the same memory. Each risk gets its own block only in a small register; the
    overdue lists print the oldest ``OVERDUE_LIMIT`` each; the attached risk register holds
    every risk and treatment.
    """
    risks = Risk.objects.for_org(pack.organization)
    if pack.scope == EvidencePack.Scope.SYSTEM:
        risks = risks.filter(system_id=pack.system_id)
    criteria, maps = heat_maps(pack.organization, risks)
    today = timezone.localdate()
    open_risks = risks.open()
    current = Coalesce(NullIf("residual_level", Value("")), "inherent_level")
    level_counts = Counter(
        dict(open_risks.annotate(level=current).values_list("level").annotate(n=Count("*")).order_by())
    )
    status_counts = Counter(dict(risks.values_list("status").annotate(n=Count("*")).order_by()))
    total, open_total = sum(status_counts.values()), sum(level_counts.values())
    ranked = Case(*(When(level=value, then=Value(rank)) for value, rank in LEVEL_RANK.items()), default=Value(-1))
    worst = list(
        open_risks.annotate(level=current)
        .exclude(level="")
        .select_related("system", "owner")
        .order_by(ranked.desc(), "ref_code")[:WORST_RISKS]
    )
    overdue_treatment_rows = TreatmentAction.objects.filter(
        risk__in=risks,
        status__in=(TreatmentAction.Status.PLANNED, TreatmentAction.Status.IN_PROGRESS),
        due_date__lt=today,
    )
    overdue_treatments = [
        (t.risk, t)
        for t in overdue_treatment_rows.select_related("risk", "owner").order_by("due_date", "risk__ref_code", "pk")[
            :OVERDUE_LIMIT
        ]
    ]
    overdue_review_rows = risks.review_overdue(today)
    overdue_reviews = list(
        overdue_review_rows.select_related("owner").order_by("next_review_date", "ref_code")[:OVERDUE_LIMIT]
    )
    each = total <= RISK_DETAIL_LIMIT and pack.detail != PackDetail.NONE
    rows: list[Risk] = []
    if each:
        rows = list(
            risks.select_related("system", "owner", "risk_source", "objective", "accepted_by")
            .prefetch_related(
                Prefetch(
                    "treatments",
                    queryset=TreatmentAction.objects.select_related("owner").prefetch_related(
                        Prefetch("control_links", queryset=TreatmentControl.objects.select_related("control"))
                    ),
                )
            )
            .order_by("ref_code")
        )
    context = {
        "risks": rows,
        "heat_maps": maps,
        "criteria": criteria,
        "total": total,
        "open_total": open_total,
        "level_counts": [(label, level_counts.get(value, 0)) for value, label in reversed(Level.choices)]
        + ([(gettext("Not assessed"), level_counts[""])] if level_counts.get("") else []),
        "status_counts": [(label, status_counts.get(value, 0)) for value, label in Risk.Status.choices],
        "worst": worst,
        "worst_limit": WORST_RISKS,
        "overdue_treatments": overdue_treatments,
        "overdue_treatment_count": _count_past(overdue_treatment_rows, len(overdue_treatments)),
        "overdue_reviews": overdue_reviews,
        "overdue_review_count": _count_past(overdue_review_rows, len(overdue_reviews)),
        "overdue_limit": OVERDUE_LIMIT,
        "each": each,
        "detail_limit": RISK_DETAIL_LIMIT,
    }
    return SectionResult(
        PackSection.RISKS, str(PackSection.RISKS.label), "pdf/sections/risks.html", context, _risk_records(risks)
    )


def _count_past(rows, shown: int) -> int:
    """How many ``rows`` there are, when the first ``OVERDUE_LIMIT`` shown may not be all of them."""
    return rows.count() if shown == OVERDUE_LIMIT else shown


def _risk_records(risks) -> list[RecordEntry]:
    """Every risk and treatment of the register as a record, read in chunks (never all rows at once)."""
    records = []
    for risk in risks.order_by("ref_code", "pk").iterator(chunk_size=RECORD_CHUNK):
        records.append(record_entry(risk))
    # The risk's reference read with each treatment: the fingerprint covers concrete fields only.
    treatments = (
        TreatmentAction.objects.filter(risk__in=risks)
        .annotate(risk_ref=F("risk__ref_code"))
        .order_by("risk__ref_code", "pk")
    )
    for treatment in treatments.iterator(chunk_size=RECORD_CHUNK):
        records.append(record_entry(treatment, f"{treatment.risk_ref} treatment: {treatment.title}"))
    return records


def collect_impact(pack: EvidencePack) -> SectionResult:
    """Approved assessments as one table, in full for the detailed systems; the systems still missing one."""
    assessments = ImpactAssessment.objects.for_org(pack.organization).filter(status=ImpactAssessment.Status.APPROVED)
    if pack.scope == EvidencePack.Scope.SYSTEM:
        assessments = assessments.filter(system_id=pack.system_id)
    rows = list(
        assessments.select_related("system", "author", "approved_by")
        .prefetch_related(Prefetch("items", queryset=ImpactItem.objects.select_related("risk")))
        .order_by("system__ref_code", "version")
    )
    records = []
    for assessment in rows:
        records.append(
            record_entry(assessment, f"{assessment.system.ref_code} impact assessment v{assessment.version}")
        )
        records += [record_entry(i, f"{assessment.system.ref_code} impact: {i.get_dimension_display()}")
                    for i in assessment.items.all()]  # fmt: skip
        items = list(assessment.items.all())
        # Shown in the summary table: set on the instance for the template.
        assessment.item_count = len(items)
        assessment.worst_severity = max(items, key=lambda i: i.severity, default=None)
    missing = list(
        AISystem.objects.for_org(pack.organization)
        .exclude(status="retired")
        .exclude(impact_assessments__status=ImpactAssessment.Status.APPROVED)
        .order_by("ref_code")
    )
    if pack.scope == EvidencePack.Scope.SYSTEM:
        missing = [s for s in missing if s.pk == pack.system_id]
    detailed = set(detailed_system_ids(pack))
    context = {
        "assessments": rows,
        "detailed": [a for a in rows if a.system_id in detailed],
        "missing": missing[:LIST_PREVIEW],
        "missing_count": len(missing),
        "missing_more": max(len(missing) - LIST_PREVIEW, 0),
    }
    return SectionResult(
        PackSection.IMPACT, str(PackSection.IMPACT.label), "pdf/sections/impact.html", context, records
    )


def _section(key: PackSection, template: str, data_function):
    def collect(pack: EvidencePack) -> SectionResult:
        context, records = data_function(pack)
        return SectionResult(key, str(key.label), template, context, records)

    return collect


COLLECTORS: dict[str, Callable[[EvidencePack], SectionResult]] = {
    PackSection.LEADERSHIP: _section(PackSection.LEADERSHIP, "pdf/sections/leadership.html", leadership_data),
    PackSection.OBJECTIVES: _section(PackSection.OBJECTIVES, "pdf/sections/objectives.html", objectives_data),
    PackSection.COMPETENCE: _section(PackSection.COMPETENCE, "pdf/sections/competence.html", competence_data),
    PackSection.MONITORING: _section(PackSection.MONITORING, "pdf/sections/monitoring.html", monitoring_data),
    PackSection.AUDITS: _section(PackSection.AUDITS, "pdf/sections/audits.html", audits_data),
    PackSection.REVIEWS: _section(PackSection.REVIEWS, "pdf/sections/reviews.html", reviews_data),
    PackSection.IMPROVEMENT: _section(PackSection.IMPROVEMENT, "pdf/sections/improvement.html", improvement_data),
    PackSection.AUDIT: _section(PackSection.AUDIT, "pdf/sections/audits.html", audit_data),
    PackSection.CROSSWALK: collect_crosswalk,
    PackSection.READINESS: collect_readiness,
    PackSection.SCOPE: collect_scope,
    PackSection.INVENTORY: collect_inventory,
    PackSection.RISK_CRITERIA: collect_risk_criteria,
    PackSection.RISKS: collect_risks,
    PackSection.IMPACT: collect_impact,
    PackSection.CONTROLS: collect_controls,
    PackSection.HISTORY: collect_history,
}
