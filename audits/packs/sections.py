"""The sections of an evidence pack. Each collects its data with a fixed number of queries.

A section returns the context its template needs and the records it shows, which go
into the evidence index and the embedded manifest with their SHA-256.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time

from django.core.files.storage import default_storage
from django.db.models import Prefetch, Q
from django.utils import timezone

from aims.history import HistoryEntry, merged_history, organization_history, records_history
from aims.models import Membership
from aims.roles import Role
from audits.models import EvidencePack, PackSection
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
    ModelDataset,
    Resource,
    RoleAssignment,
    SystemModel,
    SystemSupplier,
)
from risk.models import ImpactAssessment, ImpactItem, Risk, TreatmentAction, TreatmentControl
from risk.selectors import heat_maps
from risk.services import criteria_for

HISTORY_LIMIT = 2000


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
        "systems_by_status": Counter(s.get_status_display() for s in systems).most_common(),
        "systems_by_tier": Counter(s.get_eu_ai_act_tier_display() for s in systems).most_common(),
    }
    records = [record_entry(pack.organization)] + [record_entry(m, f"Membership {m.user.email}") for m in memberships]
    extra, extra_records = context_data(pack)
    context.update(extra)
    return SectionResult(
        PackSection.SCOPE, PackSection.SCOPE.label, "pdf/sections/scope.html", context, records + extra_records
    )


def detailed_system_ids(pack: EvidencePack) -> list[int]:
    """The systems that get detail pages in the inventory, in the order they appear."""
    return list(_systems(pack).values_list("pk", flat=True))


def collect_inventory(pack: EvidencePack, system_ids: Sequence[int] | None = None) -> SectionResult:
    """The inventory; with ``system_ids``, only those systems, in that order (one chunk of a large pack)."""
    chosen = _systems(pack)
    if system_ids is not None:
        chosen = chosen.filter(pk__in=system_ids)
    systems = list(
        chosen.prefetch_related(
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
    if system_ids is not None:
        position = {pk: i for i, pk in enumerate(system_ids)}
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
    context = {"systems": systems}
    return SectionResult(
        PackSection.INVENTORY, PackSection.INVENTORY.label, "pdf/sections/inventory.html", context, records
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
        PackSection.CONTROLS, PackSection.CONTROLS.label, "pdf/sections/controls.html", context, records
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
    return SectionResult(PackSection.CROSSWALK, PackSection.CROSSWALK.label, "pdf/sections/crosswalk.html", context)


def collect_readiness(pack: EvidencePack) -> SectionResult:
    context = {"readiness": readiness(pack.organization)}
    return SectionResult(PackSection.READINESS, PackSection.READINESS.label, "pdf/sections/readiness.html", context)


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


def collect_history(pack: EvidencePack, offset: int = 0, limit: int | None = None) -> SectionResult:
    """The change history; ``offset`` and ``limit`` pick one chunk of it, newest first."""
    start, end = _period_bounds(pack)
    if pack.scope == EvidencePack.Scope.SYSTEM:
        lookup = {"history_date__range": (start, end)}
        entries: list[HistoryEntry] = merged_history(
            records_history(AISystem, id=pack.system_id, **lookup),
            *(
                records_history(model, system_id=pack.system_id, **lookup)
                for model in (SystemModel, SystemSupplier, Resource, RoleAssignment)
            ),
        )[: HISTORY_LIMIT + 1]
    else:
        entries = organization_history(pack.organization, start, end, limit=HISTORY_LIMIT + 1)
    truncated = len(entries) > HISTORY_LIMIT
    entries = entries[:HISTORY_LIMIT][offset : None if limit is None else offset + limit]
    context = {"entries": entries, "truncated": truncated and offset == 0, "limit": HISTORY_LIMIT}
    return SectionResult(PackSection.HISTORY, PackSection.HISTORY.label, "pdf/sections/history.html", context)


def collect_risk_criteria(pack: EvidencePack) -> SectionResult:
    criteria = criteria_for(pack.organization)
    _, maps = heat_maps(pack.organization, Risk.objects.none())
    context = {"criteria": criteria, "matrix": maps[0]}
    records = [record_entry(criteria, "Risk criteria")]
    return SectionResult(
        PackSection.RISK_CRITERIA, PackSection.RISK_CRITERIA.label, "pdf/sections/risk_criteria.html", context, records
    )


def collect_risks(pack: EvidencePack) -> SectionResult:
    risks = Risk.objects.for_org(pack.organization)
    if pack.scope == EvidencePack.Scope.SYSTEM:
        risks = risks.filter(system_id=pack.system_id)
    criteria, maps = heat_maps(pack.organization, risks)
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
    records = []
    for risk in rows:
        records.append(record_entry(risk))
        records += [record_entry(t, f"{risk.ref_code} treatment: {t.title}") for t in risk.treatments.all()]
    context = {"risks": rows, "heat_maps": maps, "criteria": criteria}
    return SectionResult(PackSection.RISKS, PackSection.RISKS.label, "pdf/sections/risks.html", context, records)


def collect_impact(pack: EvidencePack) -> SectionResult:
    assessments = ImpactAssessment.objects.for_org(pack.organization).filter(status=ImpactAssessment.Status.APPROVED)
    if pack.scope == EvidencePack.Scope.SYSTEM:
        assessments = assessments.filter(system_id=pack.system_id)
    rows = list(
        assessments.select_related("system", "author", "approved_by")
        .prefetch_related(Prefetch("items", queryset=ImpactItem.objects.select_related("risk")))
        .order_by("system__ref_code")
    )
    records = []
    for assessment in rows:
        records.append(
            record_entry(assessment, f"{assessment.system.ref_code} impact assessment v{assessment.version}")
        )
        records += [record_entry(i, f"{assessment.system.ref_code} impact: {i.get_dimension_display()}")
                    for i in assessment.items.all()]  # fmt: skip
    missing = list(
        AISystem.objects.for_org(pack.organization)
        .exclude(status="retired")
        .exclude(impact_assessments__status=ImpactAssessment.Status.APPROVED)
        .order_by("ref_code")
    )
    if pack.scope == EvidencePack.Scope.SYSTEM:
        missing = [s for s in missing if s.pk == pack.system_id]
    context = {"assessments": rows, "missing": missing}
    return SectionResult(PackSection.IMPACT, PackSection.IMPACT.label, "pdf/sections/impact.html", context, records)


def _section(key: PackSection, template: str, data_function):
    def collect(pack: EvidencePack) -> SectionResult:
        context, records = data_function(pack)
        return SectionResult(key, key.label, template, context, records)

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
