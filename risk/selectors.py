"""Reads of the risk register: list, one risk, heat maps, and the module's dashboard tiles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from aims.dashboard import Tile
from aims.models import Organization
from aims.roles import Capability
from aims.setup import SetupStep
from aims.summaries import cached_summary
from aims.tenancy import Tenant
from aims.work import WORK_LIMIT, WorkItem, horizon
from risk.impact.models import ImpactItem
from risk.impact.selectors import impact_assessments_due, systems_without_approved_assessment
from risk.models import (
    Level,
    OpenRiskReviewTally,
    OpenRiskTally,
    Risk,
    RiskCriteria,
    TreatmentAction,
    TreatmentControl,
    scale_label,
)
from risk.services import criteria_for

if TYPE_CHECKING:
    from registry.models import AISystem
    from risk.filters import RiskFilter


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


# A text search matching more risks than this counts "1,000+" and maps nothing of its own: its
# matches are found by reading each row (a substring of free text), so an exact count, or heat
# maps, of a common word would read most of the register on every page of the search.
SEARCH_COUNT_CAP = 1000


@dataclass(frozen=True)
class RegisterFigures:
    """What the register shows about a whole (filtered) register: the heat maps' cells and the total.

    ``cells[kind][(likelihood, impact)]`` counts the open risks scored there ("inherent" or
    "residual"); ``total`` counts every risk, closed ones too. ``capped``: a search with more
    matches than :data:`SEARCH_COUNT_CAP`; ``total`` is then the cap and ``cells`` are empty.
    """

    cells: dict[str, dict[tuple[int, int], int]]
    total: int
    capped: bool = False


SCORE_COLUMNS = ("inherent_likelihood", "inherent_impact", "residual_likelihood", "residual_impact")


def _figures(risks: QuerySet[Risk]) -> RegisterFigures:
    """One aggregate over ``risks`` (bare): rows per status and score, which both maps and the
    total add up. The scores' index (``risk_org_scores``) holds every column it reads."""
    grouped = risks.order_by().values_list("status", *SCORE_COLUMNS).annotate(n=Count("*"))
    cells: dict[str, dict[tuple[int, int], int]] = {"inherent": {}, "residual": {}}
    total = 0
    for status, inherent_l, inherent_i, residual_l, residual_i, n in grouped:
        total += n
        if status == Risk.Status.CLOSED:
            continue
        for kind, likelihood, impact in (("inherent", inherent_l, inherent_i), ("residual", residual_l, residual_i)):
            if likelihood is not None and impact is not None:
                cells[kind][likelihood, impact] = cells[kind].get((likelihood, impact), 0) + n
    return RegisterFigures(cells, total)


def _capped_count(risks: QuerySet[Risk], cap: int) -> int:
    """How many of ``risks`` there are, counting no further than ``cap + 1``.

    In the register's order: PostgreSQL walks the ordering's index and stops at ``cap + 1``
    matches, where unordered it would start a scan of the table."""
    return risks[: cap + 1].count()


def register_figures(organization: Organization, filterset: RiskFilter | None = None) -> RegisterFigures:
    """The figures of the whole register, or of the register as ``filterset`` (bare) filters it.

    Cached per organisation and filter until a write makes them stale. A free-text search
    counts up to :data:`SEARCH_COUNT_CAP` first, and is aggregated only within that cap.
    """
    if filterset is None or not filterset.narrows():
        return cached_summary(organization.pk, figures_name(None), lambda: _figures(risk_register(organization)))
    risks, search = filterset.qs, filterset.searches()

    def compute() -> RegisterFigures:
        if search and _capped_count(risks, SEARCH_COUNT_CAP) > SEARCH_COUNT_CAP:
            return RegisterFigures({"inherent": {}, "residual": {}}, SEARCH_COUNT_CAP, capped=True)
        return _figures(risks)

    return cached_summary(organization.pk, figures_name(filterset), compute)


def figures_name(filterset: RiskFilter | None) -> str:
    """The cached summary name of the figures of ``filterset``'s register (None: the whole one)."""
    if filterset is None or not filterset.narrows():
        return "risk.register_figures"
    return f"risk.register_figures.{filterset.summary_key()}"


def register_total(organization: Organization, filterset: RiskFilter | None = None) -> int:
    """The exact number of risks ``filterset`` lets through, for numbered pages: the figures'
    total, or for a search a count of its matches (cached the same way; numbered pages need
    every page, so their count is not capped)."""
    if filterset is None or not filterset.searches():
        return register_figures(organization, filterset).total
    key = f"risk.register_total.{filterset.summary_key()}"
    return int(cached_summary(organization.pk, key, filterset.qs.count))


def register_summary(organization: Organization, filterset: RiskFilter | None = None) -> dict[str, Any]:
    """What the register page shows above and below its rows: criteria, heat maps and the total.

    ``risk_total_capped``: a search with more matches than :data:`SEARCH_COUNT_CAP`; the heat
    maps are then those of the whole register. ``heat_maps_name`` names the figures they map,
    for what is cached from them.
    """
    figures = register_figures(organization, filterset)
    mapped = register_figures(organization) if figures.capped else figures
    criteria = criteria_for(organization)
    return {
        "criteria": criteria,
        "heat_maps": _maps(criteria, mapped.cells),
        "heat_maps_name": figures_name(None if figures.capped else filterset),
        "risk_total": figures.total,
        "risk_total_capped": figures.capped,
    }


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

    @property
    def level_label(self) -> str:
        return str(Level(self.level).label) if self.level else ""


@dataclass
class HeatMap:
    kind: str  # "inherent" or "residual"
    likelihood_labels: list[str]
    rows: list[tuple[int, str, list[HeatCell]]]  # impact from the top level down
    total: int


def heat_maps(organization: Organization, risks: QuerySet[Risk] | None = None) -> tuple[RiskCriteria, list[HeatMap]]:
    """Inherent and residual heat maps of the open risks: those of the whole register (cached,
    :func:`register_figures`), or of ``risks`` (computed each time, for a pack's snapshot)."""
    criteria = criteria_for(organization)
    figures = register_figures(organization) if risks is None else _figures(risks)
    return criteria, _maps(criteria, figures.cells)


def _maps(criteria: RiskCriteria, counts: dict[str, dict[tuple[int, int], int]]) -> list[HeatMap]:
    maps = []
    likelihood_labels = [scale_label(lv) for lv in criteria.likelihood_levels]
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
            rows.append((impact, scale_label(criteria.impact_levels[impact - 1]), cells))
        maps.append(HeatMap(kind, likelihood_labels, rows, sum(cells_of_kind.values())))
    return maps


def system_risk_summary(organization: Organization, system: AISystem) -> dict[str, Any]:
    """What an AI system's Risks tab shows above its rows: the heat maps of its risks alone."""
    risks = risk_register(organization).filter(system=system)
    figures = cached_summary(organization.pk, f"risk.system_figures.{system.pk}", lambda: _figures(risks))
    criteria = criteria_for(organization)
    return {"criteria": criteria, "heat_maps": _maps(criteria, figures.cells), "risk_total": figures.total}


def system_risks(organization: Organization, system: AISystem) -> QuerySet[Risk]:
    """An AI system's risks with what a row of the register shows, in reference order."""
    return risk_rows(risk_register(organization).filter(system=system), treatment_counts=True)


def system_risk_records(organization: Organization, system: AISystem) -> list[QuerySet[Risk]]:
    """What the Risks tab of a system counts."""
    return [Risk.objects.for_org(organization).filter(system=system)]


# Every status but closed, as the register's filter writes it: the list of the "Open risks" tile.
OPEN_RISKS_QUERY = urlencode([("status", status) for status in Risk.Status.values if status != Risk.Status.CLOSED])


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
        Tile(
            gettext("Open risks"),
            figures["open"],
            gettext("%(critical)s critical, %(high)s high")
            % {"critical": figures["critical"], "high": figures["high"]},
            f"{risks_url}?{OPEN_RISKS_QUERY}",
            4,
        ),
        Tile(
            gettext("Risks with overdue treatments"),
            figures["overdue_treatments"],
            gettext("a treatment past its due date"),
            f"{risks_url}?treatment_overdue=true",
            5,
            attention=figures["overdue_treatments"] > 0,
        ),
        Tile(
            gettext("Systems without approved impact assessment"),
            figures["without_assessment"],
            gettext("active AI systems"),
            reverse("impact:systems_to_assess"),
            6,
            attention=figures["without_assessment"] > 0,
        ),
        Tile(
            gettext("Impact assessments due for review"),
            figures["assessments_due"],
            gettext("approved, review date reached"),
            f"{ia_url}?due=true",
            7,
            attention=figures["assessments_due"] > 0,
        ),
    ]


@dataclass(frozen=True)
class OpenRiskGroup:
    """How many open risks share a status and both levels."""

    status: str
    inherent_level: str
    residual_level: str
    count: int

    @property
    def current_level(self) -> str:
        """The residual level once assessed, otherwise the inherent one."""
        return self.residual_level or self.inherent_level


def _tallied(vendor: str | None) -> bool:
    return (vendor or connection.vendor) == "postgresql"


def open_risk_groups(organization: Organization, *, vendor: str | None = None) -> list[OpenRiskGroup]:
    """The open risks counted by status and both levels.

    On PostgreSQL this reads the tallies the register's triggers keep (risk.models.OpenRiskTally):
    a few dozen rows, whatever the size of the register and however recently it changed. On
    SQLite (or when ``vendor`` says so) the register is counted.
    """
    if _tallied(vendor):
        tallies = OpenRiskTally.objects.filter(organization=organization, count__gt=0).values_list(
            "status", "inherent_level", "residual_level", "count"
        )
        return [OpenRiskGroup(*row) for row in tallies]
    rows = (
        Risk.objects.for_org(organization)
        .open()
        .values_list("status", "inherent_level", "residual_level")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return [OpenRiskGroup(*row) for row in rows]


def open_risks_past_review(organization: Organization, *, vendor: str | None = None) -> int:
    """How many open risks are past their review date: on PostgreSQL, a sum over the tallied days before today."""
    today = timezone.localdate()
    if _tallied(vendor):
        days = OpenRiskReviewTally.objects.filter(organization=organization, review_date__lt=today)
        return days.aggregate(total=Sum("count"))["total"] or 0
    return Risk.objects.for_org(organization).review_overdue(today).count()


def _tile_figures(organization: Organization) -> dict[str, int]:
    today = timezone.localdate()
    groups = open_risk_groups(organization)
    levels = {
        "critical": sum(g.count for g in groups if g.current_level == Level.CRITICAL),
        "high": sum(g.count for g in groups if g.current_level == Level.HIGH),
        "open": sum(g.count for g in groups),
    }
    # Risks, not actions: the tile opens the register filtered to exactly these.
    past_due = TreatmentAction.objects.for_org(organization).filter(TreatmentAction.past_due(today))
    # Counted from the open treatments' index alone, never the register: DISTINCT of their risks.
    with_overdue = past_due.aggregate(risks=Count("risk_id", distinct=True))["risks"]
    return {**levels, "overdue_treatments": with_overdue}


# What the impact assessment tiles read (RiskConfig.ready registers it).
IMPACT_TILES_SCOPE = "risk.impact_tiles"


def _impact_tile_figures(organization: Organization) -> dict[str, int]:
    return {
        "without_assessment": systems_without_approved_assessment(organization).count(),
        "assessments_due": impact_assessments_due(organization).count(),
    }


def risk_setup_steps(organization: Organization) -> list[SetupStep]:
    """First-run steps: the risk criteria (saved once by a person, not only the defaults) and the
    first impact assessment."""
    from risk.impact.models import ImpactAssessment

    reviewed = RiskCriteria.history.filter(organization_id=organization.pk, history_type="~").exists()
    assessments = ImpactAssessment.objects.for_org(organization).count()
    return [
        SetupStep(40, gettext("Set the risk criteria"),
                  gettext("The likelihood and impact scales, the matrix and the level of risk the organisation "
                          "accepts (clause 6.1.2). Review the defaults and save them."),
                  reviewed, reverse("risk:criteria"), gettext("Review the criteria"),
                  gettext("saved") if reviewed else gettext("the defaults, not reviewed yet")),
        SetupStep(70, gettext("Assess the impact of a first AI system"),
                  gettext("Its consequences for individuals, groups and society (clause 6.1.4, A.5)."),
                  assessments > 0, reverse("impact:list"), gettext("Start an assessment"),
                  gettext("%(count)s assessment(s)") % {"count": assessments}),
    ]  # fmt: skip


def risk_work(tenant: Tenant, today: date) -> list[WorkItem]:
    """My work in the risk module: my open treatments and risk reviews coming due, impact
    assessments to approve (written by someone else), my drafts, my systems' reviews due."""
    from risk.impact.models import ImpactAssessment

    user, organization, until = tenant.user, tenant.organization, horizon(today)
    treatments = (
        TreatmentAction.objects.for_org(organization)
        .filter(owner=user, status__in=[TreatmentAction.Status.PLANNED, TreatmentAction.Status.IN_PROGRESS])
        .filter(Q(due_date__lte=until) | Q(due_date__isnull=True))
        .select_related("risk")
        .order_by("due_date", "pk")[:WORK_LIMIT]
    )
    items = [
        WorkItem(
            gettext("Risks"),
            gettext("Treatment"),
            t.title,
            reverse("risk:detail", args=[t.risk_id]),
            t.risk.ref_code,
            t.due_date,
        )
        for t in treatments
    ]
    reviews = Risk.objects.for_org(organization).open().filter(owner=user, next_review_date__lte=until)
    items += [
        WorkItem(
            gettext("Risks"),
            gettext("Risk review"),
            r.title,
            reverse("risk:detail", args=[r.pk]),
            r.ref_code,
            r.next_review_date,
        )
        for r in reviews.order_by("next_review_date", "pk")[:WORK_LIMIT]
    ]
    assessments = ImpactAssessment.objects.for_org(organization).select_related("system")
    waiting: list[tuple[str, Any]] = []
    if tenant.can(Capability.APPROVE):
        waiting += [
            (gettext("Approve an impact assessment"), a)
            for a in assessments.filter(status=ImpactAssessment.Status.IN_REVIEW).exclude(author=user)[:WORK_LIMIT]
        ]
    waiting += [
        (gettext("Finish a draft impact assessment"), a)
        for a in assessments.filter(status=ImpactAssessment.Status.DRAFT, author=user)[:WORK_LIMIT]
    ]
    items += [
        WorkItem(
            gettext("Impact assessments"),
            kind,
            gettext("%(system)s, version %(number)s") % {"system": a.system.name, "number": a.version},
            reverse("impact:detail", args=[a.pk]),
            a.system.ref_code,
        )
        for kind, a in waiting
    ]
    due = assessments.filter(status=ImpactAssessment.Status.APPROVED, system__owner=user, next_review_date__lte=until)
    items += [
        WorkItem(
            gettext("Impact assessments"),
            gettext("Review an impact assessment"),
            gettext("%(system)s, version %(number)s") % {"system": a.system.name, "number": a.version},
            reverse("impact:detail", args=[a.pk]),
            a.system.ref_code,
            a.next_review_date,
        )
        for a in due[:WORK_LIMIT]
    ]
    return items  # fmt: skip
