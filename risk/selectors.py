"""Reads of the risk register: list, one risk, heat maps, and the module's dashboard tiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from aims.dashboard import Tile
from aims.models import Organization
from aims.summaries import cached_summary
from risk.impact.models import ImpactItem
from risk.impact.selectors import impact_assessments_due, systems_without_approved_assessment
from risk.models import Level, Risk, RiskCriteria, TreatmentAction, TreatmentControl
from risk.services import criteria_for


def risk_register(organization: Organization) -> QuerySet[Risk]:
    """The organisation's risks, bare (no join, no annotation), in the register's default order.

    Filters, counts and the heat maps of a filter start from this; the rows of a page add their
    joins afterwards (:func:`risk_rows`), so a count never joins what only the page displays.
    """
    return Risk.objects.for_org(organization).order_by("ref_code", "id")


def risk_rows(risks: QuerySet[Risk], *, treatment_counts: bool = False) -> QuerySet[Risk]:
    """``risks`` with what a row of the register shows; ``treatment_counts`` adds ``treatment_count``.

    The count is a correlated subquery: PostgreSQL runs it for the rows of the page only (after
    the LIMIT), where a grouped join would count the treatments of the whole register first.
    """
    rows = risks.select_related("system", "owner", "risk_source", "objective")
    if not treatment_counts:
        return rows
    per_risk = TreatmentAction.objects.filter(risk=OuterRef("pk")).order_by().values("risk").annotate(n=Count("pk"))
    return rows.annotate(treatment_count=Coalesce(Subquery(per_risk.values("n")), 0))


def risk_list(organization: Organization) -> QuerySet[Risk]:
    """The register's rows with their treatment counts, for the register page."""
    return risk_rows(risk_register(organization), treatment_counts=True)


def register_summary(
    organization: Organization, risks: QuerySet[Risk] | None = None, *, total: int | None = None
) -> dict[str, Any]:
    """What the register page shows above and below its rows: criteria, heat maps and the total.

    For the whole register (no ``risks``) both come from the cache; for a filtered register
    (``risks``, bare: no joins) they are two aggregate queries and a count of the filter,
    unless the caller has counted it already (``total``).
    """
    criteria, maps = heat_maps(organization, risks)
    if total is None and risks is None:
        total = cached_summary(organization.pk, "risk.count", Risk.objects.for_org(organization).count)
    elif total is None and risks is not None:
        total = risks.count()
    return {"criteria": criteria, "heat_maps": maps, "risk_total": total}


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
    """Inherent and residual heat maps of the open risks, one aggregate query each.

    Without ``risks``, the maps of the whole register, cached until a risk or the criteria
    change (:mod:`aims.summaries`); with ``risks`` (a filtered register), the maps of those,
    computed each time.
    """
    criteria = criteria_for(organization)
    if risks is None:
        counts = cached_summary(
            organization.pk, "risk.heat_map_counts", lambda: _heat_counts(Risk.objects.for_org(organization))
        )
    else:
        counts = _heat_counts(risks)
    maps = []
    for kind in ("inherent", "residual"):
        cells_of_kind = counts[kind]
        rows = []
        for impact in range(len(criteria.impact_levels), 0, -1):
            cells = [
                HeatCell(
                    likelihood,
                    impact,
                    criteria.level_for(likelihood, impact),
                    cells_of_kind.get((likelihood, impact), 0),
                )
                for likelihood in range(1, len(criteria.likelihood_levels) + 1)
            ]
            rows.append((impact, criteria.impact_levels[impact - 1]["label"], cells))
        total = sum(cells_of_kind.values())
        maps.append(HeatMap(kind, [lv["label"] for lv in criteria.likelihood_levels], rows, total))
    return criteria, maps


def _heat_counts(risks: QuerySet[Risk]) -> dict[str, dict[tuple[int, int], int]]:
    """Open risks per (likelihood, impact), inherent and residual: one GROUP BY query each."""
    open_risks = risks.exclude(status=Risk.Status.CLOSED).order_by()
    counts: dict[str, dict[tuple[int, int], int]] = {}
    for kind in ("inherent", "residual"):
        likelihood, impact = f"{kind}_likelihood", f"{kind}_impact"
        grouped = (
            open_risks.filter(**{f"{likelihood}__isnull": False, f"{impact}__isnull": False})
            .values_list(likelihood, impact)
            .annotate(n=Count("*"))
        )
        counts[kind] = {(cell_likelihood, cell_impact): n for cell_likelihood, cell_impact, n in grouped}
    return counts


def risk_tiles(organization: Organization) -> list[Tile]:
    """Dashboard tiles of the risk module: four aggregate queries, cached for the day.

    The day is part of the name: "overdue" and "due" move on at midnight with no write.
    """
    today = timezone.localdate()
    register = cached_summary(organization.pk, f"risk.tiles.{today.isoformat()}", lambda: _tile_figures(organization))
    # Apart from the register's figures: a new risk leaves the impact assessment tiles cached.
    impact = cached_summary(
        organization.pk,
        f"risk.impact_tiles.{today.isoformat()}",
        lambda: _impact_tile_figures(organization),
        scope=IMPACT_TILES_SCOPE,
    )
    figures = {**register, **impact}
    risks_url, ia_url = reverse("risk:list"), reverse("impact:list")
    return [
        Tile("Open risks", figures["open"], f"{figures['critical']} critical, {figures['high']} high", risks_url, 4),
        Tile("Overdue treatments", figures["overdue_treatments"], "actions past their due date", risks_url, 5),
        Tile(
            "Systems without approved impact assessment",
            figures["without_assessment"],
            "active AI systems",
            ia_url,
            6,
        ),
        Tile(
            "Impact assessments due for review",
            figures["assessments_due"],
            "approved, review date reached",
            f"{ia_url}?due=true",
            7,
        ),
    ]


def _tile_figures(organization: Organization) -> dict[str, int]:
    today = timezone.localdate()

    def current(level: str) -> Q:
        return Q(residual_level=level) | Q(residual_level="", inherent_level=level)

    levels = (
        Risk.objects.for_org(organization)
        .open()
        .aggregate(
            critical=Count("pk", filter=current(Level.CRITICAL)),
            high=Count("pk", filter=current(Level.HIGH)),
            open=Count("pk"),
        )
    )
    overdue_treatments = (
        TreatmentAction.objects.for_org(organization)
        .filter(status__in=[TreatmentAction.Status.PLANNED, TreatmentAction.Status.IN_PROGRESS], due_date__lt=today)
        .count()
    )
    return {**levels, "overdue_treatments": overdue_treatments}


# What the impact assessment tiles read (RiskConfig.ready registers it).
IMPACT_TILES_SCOPE = "risk.impact_tiles"


def _impact_tile_figures(organization: Organization) -> dict[str, int]:
    return {
        "without_assessment": systems_without_approved_assessment(organization).count(),
        "assessments_due": impact_assessments_due(organization).count(),
    }
