"""The sections of an evidence pack. Each collects its data with a fixed number of queries.

A section returns the context its template needs and the records it shows, which go
into the evidence index and the embedded manifest with their SHA-256.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time

from django.db.models import Prefetch
from django.utils import timezone

from aims.history import HistoryEntry, merged_history, organization_history, records_history
from aims.models import Membership
from aims.roles import Role
from audits.models import EvidencePack, PackSection
from audits.packs.records import RecordEntry, record_entry
from controls.models import Requirement
from registry.models import (
    AISystem,
    ModelDataset,
    Resource,
    RoleAssignment,
    SystemModel,
    SystemSupplier,
)

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
    return SectionResult(PackSection.SCOPE, PackSection.SCOPE.label, "pdf/sections/scope.html", context, records)


def collect_inventory(pack: EvidencePack) -> SectionResult:
    systems = list(
        _systems(pack).prefetch_related(
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
    requirements = list(
        Requirement.objects.of_framework("ISO42001")
        .filter(kind__in=[Requirement.Kind.OBJECTIVE, Requirement.Kind.CONTROL])
        .order_by("order")
    )
    # The Statement of Applicability records each control's status; until one exists the
    # pack says so rather than implying a status.
    rows = [{"requirement": r, "status": "Not yet assessed"} for r in requirements]
    context = {"rows": rows, "control_count": sum(r.kind == Requirement.Kind.CONTROL for r in requirements)}
    return SectionResult(PackSection.CONTROLS, PackSection.CONTROLS.label, "pdf/sections/controls.html", context)


def collect_history(pack: EvidencePack) -> SectionResult:
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
    context = {"entries": entries[:HISTORY_LIMIT], "truncated": truncated, "limit": HISTORY_LIMIT}
    return SectionResult(PackSection.HISTORY, PackSection.HISTORY.label, "pdf/sections/history.html", context)


COLLECTORS = {
    PackSection.SCOPE: collect_scope,
    PackSection.INVENTORY: collect_inventory,
    PackSection.CONTROLS: collect_controls,
    PackSection.HISTORY: collect_history,
}
