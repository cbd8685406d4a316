"""Reads of the inventory for pages, exports, the API and the dashboard."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise as StrPromise
from django.utils.translation import gettext

from aims.dashboard import Panel, Tile
from aims.models import Organization
from aims.setup import SetupStep
from aims.summaries import cached_summary
from aims.tenancy import Tenant
from aims.work import WORK_LIMIT, WorkItem, horizon
from registry.models import (
    AIModel,
    AISystem,
    Dataset,
    EUAIActTier,
    LifecycleStage,
    ModelDataset,
    RoleAssignment,
    Supplier,
    SystemModel,
    SystemStatus,
)


def system_list(organization: Organization) -> QuerySet[AISystem]:
    """Systems with what the list shows, in one query whatever their number."""
    accountable = RoleAssignment.objects.filter(system=OuterRef("pk"), raci=RoleAssignment.Raci.ACCOUNTABLE)
    systems: QuerySet[AISystem] = AISystem.objects.for_org(organization)
    return systems.select_related("owner").annotate(has_accountable=Exists(accountable)).order_by("ref_code")


# Cached figures (aims.summaries) that only the AI systems themselves change.
SYSTEMS_SCOPE = "registry.systems"


def system_count(organization: Organization) -> int:
    """How many AI systems the organisation has: the unfiltered inventory's total, cached until one changes."""
    return cached_summary(
        organization.pk, "registry.system_count", AISystem.objects.for_org(organization).count, SYSTEMS_SCOPE
    )


def system_detail(organization: Organization, pk: int) -> AISystem:
    """One system with its models (and their datasets), suppliers, resources and RACI prefetched."""
    systems: QuerySet[AISystem] = AISystem.objects.for_org(organization)
    system = (
        systems.select_related("owner")
        .prefetch_related(
            Prefetch(
                "model_links",
                queryset=SystemModel.objects.select_related("model__supplier").prefetch_related(
                    Prefetch("model__dataset_links", queryset=ModelDataset.objects.select_related("dataset"))
                ),
            ),
            "supplier_links__supplier",
            "dataset_links__dataset",
            "resources",
            Prefetch("role_assignments", queryset=RoleAssignment.objects.select_related("member")),
        )
        .get(pk=pk)
    )
    system.organization = organization  # read through it, as the organisation it was found in
    return system


def model_list(organization: Organization) -> QuerySet[AIModel]:
    models: QuerySet[AIModel] = AIModel.objects.for_org(organization)
    return (
        models.select_related("supplier")
        .annotate(
            system_count=Count("system_links", distinct=True), dataset_count=Count("dataset_links", distinct=True)
        )
        .order_by("name", "version")
    )


def model_detail(organization: Organization, pk: int) -> AIModel:
    models: QuerySet[AIModel] = AIModel.objects.for_org(organization)
    return (
        models.select_related("supplier")
        .prefetch_related(
            Prefetch("dataset_links", queryset=ModelDataset.objects.select_related("dataset")),
            Prefetch("system_links", queryset=SystemModel.objects.select_related("system")),
        )
        .get(pk=pk)
    )


def dataset_list(organization: Organization) -> QuerySet[Dataset]:
    datasets: QuerySet[Dataset] = Dataset.objects.for_org(organization)
    return (
        datasets.select_related("supplier")
        .annotate(model_count=Count("model_links__model", distinct=True))
        .order_by("name")
    )


def supplier_list(organization: Organization) -> QuerySet[Supplier]:
    suppliers: QuerySet[Supplier] = Supplier.objects.for_org(organization)
    return suppliers.annotate(
        system_count=Count("system_links", distinct=True), model_count=Count("models", distinct=True)
    ).order_by("name")


# Every status but retired, as the inventory's filter writes it: the list of the "AI systems" tile.
ACTIVE_SYSTEMS_QUERY = urlencode(
    [("status", status) for status in SystemStatus.values if status != SystemStatus.RETIRED]
)


def inventory_tiles(organization: Organization) -> list[Tile]:
    """Dashboard tiles: systems by tier and stage, missing Accountable, overdue reviews (two queries)."""
    systems = AISystem.objects.for_org(organization)
    counts = systems.aggregate(
        total=Count("id", filter=~Q(status=SystemStatus.RETIRED)),
        high=Count("id", filter=Q(eu_ai_act_tier=EUAIActTier.HIGH) & ~Q(status=SystemStatus.RETIRED)),
        overdue=Count("id", filter=Q(next_review_date__lt=timezone.localdate()) & ~Q(status=SystemStatus.RETIRED)),
    )
    missing = systems.missing_accountable().count()
    url = reverse("inventory:system_list")
    return [
        Tile(
            gettext("AI systems"),
            counts["total"],
            gettext("%(count)s high-risk") % {"count": counts["high"]},
            f"{url}?{ACTIVE_SYSTEMS_QUERY}",
            order=1,
        ),
        Tile(
            gettext("Reviews overdue"),
            counts["overdue"],
            gettext("systems past their review date"),
            f"{url}?review_overdue=true",
            2,
            attention=counts["overdue"] > 0,
        ),
        Tile(
            gettext("No Accountable person"),
            missing,
            gettext("active systems without RACI 'A'"),
            f"{url}?accountable=missing",
            3,
            attention=missing > 0,
        ),
    ]


def inventory_breakdown(organization: Organization) -> dict[str, list[tuple[str, str | StrPromise, int]]]:
    """Active systems counted by EU AI Act tier and by life-cycle stage (one query each)."""
    systems: QuerySet[AISystem] = AISystem.objects.for_org(organization)
    systems = systems.exclude(status=SystemStatus.RETIRED)
    by_tier = dict(systems.values_list("eu_ai_act_tier").annotate(n=Count("id")).order_by())
    by_stage = dict(systems.values_list("lifecycle_stage").annotate(n=Count("id")).order_by())
    return {
        "tier": [(value, label, by_tier.get(value, 0)) for value, label in EUAIActTier.choices],
        "stage": [(value, label, by_stage.get(value, 0)) for value, label in LifecycleStage.choices],
    }


def inventory_panels(organization: Organization) -> list[Panel]:
    breakdown = inventory_breakdown(organization)
    largest = max([n for _, _, n in breakdown["tier"] + breakdown["stage"]], default=0) or 1
    return [Panel(gettext("AI systems by EU AI Act tier and life-cycle stage"), "registry/_dashboard_panel.html",
                  {**breakdown, "largest": largest}, order=10)]  # fmt: skip


def inventory_setup_steps(organization: Organization) -> list[SetupStep]:
    """First-run step: the AI systems in scope, one by one or from a spreadsheet."""
    systems = AISystem.objects.for_org(organization).count()
    return [
        SetupStep(50, gettext("Record your AI systems"),
                  gettext("The inventory every other record points to: what each system does, who is accountable, "
                          "its EU AI Act tier (clause 4.3, A.4)."),
                  systems > 0, reverse("inventory:system_create"), gettext("Add a system"),
                  gettext("%(count)s system(s) recorded") % {"count": systems},
                  reverse("imports:upload"), gettext("Import a spreadsheet")),
    ]  # fmt: skip


def inventory_work(tenant: Tenant, today: date) -> list[WorkItem]:
    """My work in the inventory: reviews of my systems coming due, open alerts on them."""
    from registry.monitoring.models import MonitoringAlert

    user, organization, until = tenant.user, tenant.organization, horizon(today)
    mine = AISystem.objects.for_org(organization).filter(owner=user).exclude(status=SystemStatus.RETIRED)
    items = [
        WorkItem(gettext("Inventory"), gettext("System review"), s.name,
                 reverse("inventory:system_detail", args=[s.pk]), s.ref_code, s.next_review_date)
        for s in mine.filter(next_review_date__lte=until).order_by("next_review_date", "pk")[:WORK_LIMIT]
    ]  # fmt: skip
    alerts = (
        MonitoringAlert.objects.for_org(organization)
        .filter(system__owner=user, status=MonitoringAlert.Status.OPEN)
        .select_related("system", "metric")
        .order_by("pk")[:WORK_LIMIT]
    )
    items += [
        WorkItem(gettext("Monitoring"), gettext("Unacknowledged alert"),
                 gettext("%(metric)s on %(system)s") % {"metric": a.metric.name, "system": a.system.name},
                 reverse("monitoring:system", args=[a.system_id]), a.system.ref_code)
        for a in alerts
    ]  # fmt: skip
    return items
