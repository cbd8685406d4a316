"""Reads of the Statement of Applicability: its rows, what relies on each control, its versions, and how
far the organisation's implemented controls cover another framework (the crosswalk coverage).

Every read costs a fixed number of queries for all 38 rows; writes are in :mod:`controls.soa.services`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from aims.models import Organization
from controls.catalogue.models import Framework, Mapping, Requirement
from controls.evidence.models import EvidenceLink
from controls.soa.models import ApplicabilityStatement, ImplementationStatus, SoASystem, SoAVersion
from risk.models import TreatmentAction, TreatmentControl

ISO_FRAMEWORK = "ISO42001"
# The status of a control in the coverage table when the organisation excluded it.
EXCLUDED = "excluded"


def annex_a_controls() -> QuerySet[Requirement]:
    return Requirement.objects.of_framework(ISO_FRAMEWORK).controls().order_by("order")


def soa_rows(organization: Organization) -> QuerySet[ApplicabilityStatement]:
    """All rows with control, area, owner, covered systems and evidence counts (fixed queries).

    The SoA always has one row per Annex A control: the missing ones are created, undecided, first.
    """
    ApplicabilityStatement.objects.ensure_rows(organization)
    today = timezone.localdate()
    rows: QuerySet[ApplicabilityStatement] = (
        ApplicabilityStatement.objects.for_org(organization)
        .select_related("control__parent__parent", "owner")
        .prefetch_related(Prefetch("system_links", queryset=SoASystem.objects.select_related("system")))
        .annotate(
            evidence_count=Count(
                "control__evidence_links",
                filter=Q(control__evidence_links__organization=organization),
                distinct=True,
            ),
            valid_evidence_count=Count(
                "control__evidence_links",
                filter=Q(control__evidence_links__organization=organization)
                & (
                    Q(control__evidence_links__evidence__valid_until__isnull=True)
                    | Q(control__evidence_links__evidence__valid_until__gte=today)
                ),
                distinct=True,
            ),
        )
        .order_by("control__order")
    )
    return rows


@dataclass
class RiskUse:
    risk_id: int
    ref_code: str
    title: str
    treatment: str


def control_risk_uses(organization: Organization, control_ids: Iterable[int] | None = None) -> dict[int, list[RiskUse]]:
    """Which risks' treatments rely on each control (one query): what makes a control evidently applicable."""
    links = TreatmentControl.objects.for_org(organization).exclude(treatment__status=TreatmentAction.Status.CANCELLED)
    if control_ids is not None:
        links = links.filter(control_id__in=list(control_ids))
    uses: dict[int, list[RiskUse]] = defaultdict(list)
    for link in links.select_related("treatment__risk").order_by("treatment__risk__ref_code"):
        risk = link.treatment.risk
        uses[link.control_id].append(RiskUse(risk.pk, risk.ref_code, risk.title, link.treatment.title))
    return uses


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
