"""Reads of the risk register: list, one risk, heat maps, and the module's dashboard tiles."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from aims.dashboard import Tile
from aims.models import Organization
from risk.impact.models import ImpactItem
from risk.impact.selectors import impact_assessments_due, systems_without_approved_assessment
from risk.models import Level, Risk, RiskCriteria, TreatmentAction, TreatmentControl
from risk.services import criteria_for


def risk_list(organization: Organization) -> QuerySet[Risk]:
    return (
        Risk.objects.for_org(organization)
        .select_related("system", "owner", "risk_source", "objective")
        .annotate(treatment_count=Count("treatments", distinct=True))
        .order_by("ref_code")
    )


def risk_detail(organization: Organization, pk: int) -> Risk:
    risk: Risk = (
        Risk.objects.for_org(organization)
        .select_related("system__owner", "owner", "risk_source", "objective", "accepted_by")
        .prefetch_related(
            Prefetch(
                "treatments",
                queryset=TreatmentAction.objects.select_related("owner").prefetch_related(
                    Prefetch("control_links", queryset=TreatmentControl.objects.select_related("control"))
                ),
            ),
            Prefetch("impact_items", queryset=ImpactItem.objects.select_related("assessment")),
        )
        .get(pk=pk)
    )
    return risk


@dataclass
class HeatCell:
    likelihood: int
    impact: int
    level: str
    count: int


@dataclass
class HeatMap:
    kind: str  # "inherent" or "residual"
    likelihood_labels: list[str]
    rows: list[tuple[int, str, list[HeatCell]]]  # impact from the top level down
    total: int


def heat_maps(organization: Organization, risks: QuerySet[Risk] | None = None) -> tuple[RiskCriteria, list[HeatMap]]:
    """Inherent and residual heat maps of the open risks: one counting query each."""
    criteria = criteria_for(organization)
    risks = (risks if risks is not None else Risk.objects.for_org(organization)).exclude(status=Risk.Status.CLOSED)
    maps = []
    for kind in ("inherent", "residual"):
        counts = {
            (row[f"{kind}_likelihood"], row[f"{kind}_impact"]): row["n"]
            for row in risks.exclude(**{f"{kind}_likelihood": None})
            .values(f"{kind}_likelihood", f"{kind}_impact")
            .annotate(n=Count("id"))
            .order_by()
        }
        rows = []
        for impact in range(len(criteria.impact_levels), 0, -1):
            cells = [
                HeatCell(
                    likelihood, impact, criteria.level_for(likelihood, impact), counts.get((likelihood, impact), 0)
                )
                for likelihood in range(1, len(criteria.likelihood_levels) + 1)
            ]
            rows.append((impact, criteria.impact_levels[impact - 1]["label"], cells))
        maps.append(HeatMap(kind, [lv["label"] for lv in criteria.likelihood_levels], rows, sum(counts.values())))
    return criteria, maps


def risk_tiles(organization: Organization) -> list[Tile]:
    """Dashboard tiles of the risk module (four queries)."""
    today = timezone.localdate()
    risks = Risk.objects.for_org(organization).open()
    levels = risks.aggregate(
        critical=Count(
            "id", filter=Q(residual_level=Level.CRITICAL) | Q(residual_level="", inherent_level=Level.CRITICAL)
        ),
        high=Count("id", filter=Q(residual_level=Level.HIGH) | Q(residual_level="", inherent_level=Level.HIGH)),
        total=Count("id"),
    )
    overdue_treatments = (
        TreatmentAction.objects.for_org(organization)
        .filter(status__in=[TreatmentAction.Status.PLANNED, TreatmentAction.Status.IN_PROGRESS], due_date__lt=today)
        .count()
    )
    without_ia = systems_without_approved_assessment(organization).count()
    due = impact_assessments_due(organization).count()
    risks_url, ia_url = reverse("risk:list"), reverse("impact:list")
    return [
        Tile("Open risks", levels["total"], f"{levels['critical']} critical, {levels['high']} high", risks_url, 4),
        Tile("Overdue treatments", overdue_treatments, "actions past their due date", risks_url, 5),
        Tile("Systems without approved impact assessment", without_ia, "active AI systems", ia_url, 6),
        Tile("Impact assessments due for review", due, "approved, review date reached", f"{ia_url}?due=true", 7),
    ]
