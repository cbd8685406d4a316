"""The tabs of an AI system's page: the inventory's own, and those the other modules add.

The system page is where an owner sees everything about one system, but its risks, impact
assessments, controls, incidents and findings belong to modules that the inventory may not
import. Each of them registers a :class:`SystemTab` (in its ``AppConfig.ready``) and serves the
tab's page from a :class:`~registry.views.SystemTabView`; the page's tab bar lists every tab in
``order``, each with its count.

A tab counts what it lists by giving the querysets of its records (their counts add up); the
tab bar reads every count in one query of scalar subqueries, so a system page costs the same
one query more however many tabs the modules add.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import F, Func, IntegerField, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.functional import Promise as StrPromise
from django.utils.translation import gettext_lazy as _

from aims.templatetags.url_cache import cached_reverse

if TYPE_CHECKING:
    from aims.models import Organization
    from registry.models import AISystem

# The records a tab lists, as querysets whose counts add up to the tab's count.
TabRecords = Callable[["Organization", "AISystem"], Sequence[QuerySet[Any]]]


@dataclass(frozen=True)
class SystemTab:
    key: str  # the page's ``tab``: which one is current
    label: str | StrPromise  # translated when shown
    url_name: str  # takes the system's pk
    order: int
    records: TabRecords | None = None
    # A count read from the system as its page fetched it (prefetched links): no query.
    count_from_system: Callable[[AISystem], int] | None = None


@dataclass(frozen=True)
class ShownTab:
    key: str
    label: str | StrPromise
    url: str
    count: int | None


_tabs: dict[str, SystemTab] = {}


def register(tab: SystemTab) -> SystemTab:
    _tabs[tab.key] = tab
    return tab


def registered() -> list[SystemTab]:
    return sorted(_tabs.values(), key=lambda tab: (tab.order, tab.key))


def _count(records: QuerySet[Any]) -> Coalesce:
    """How many ``records`` there are, as a scalar subquery of a larger query."""
    return Coalesce(
        Subquery(records.order_by().values(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))), 0
    )


def _counted(organization: Organization, system: AISystem) -> dict[str, int]:
    """The counts of every tab that gives its records, read in one query."""
    parts: dict[str, Coalesce] = {}
    owners: dict[str, str] = {}  # which tab each part counts for
    for tab in registered():
        for records in tab.records(organization, system) if tab.records is not None else ():
            name = f"tab_count_{len(parts)}"
            parts[name], owners[name] = _count(records), tab.key
    if not parts:
        return {}
    row = type(system).objects.filter(pk=system.pk).annotate(**parts).values(*parts).get()
    counts: dict[str, int] = {}
    for name, value in row.items():
        counts[owners[name]] = counts.get(owners[name], 0) + int(value)
    return counts


def system_tabs(organization: Organization, system: AISystem) -> list[ShownTab]:
    """The tab bar of ``system``'s page, in order, each tab with its count (None: not counted)."""
    counts = _counted(organization, system)
    shown = []
    for tab in registered():
        if tab.count_from_system is not None:
            count: int | None = tab.count_from_system(system)
        else:
            count = counts.get(tab.key)
        shown.append(ShownTab(tab.key, tab.label, cached_reverse(tab.url_name, [system.pk]), count))
    return shown


def register_inventory_tabs() -> None:
    """The inventory's own tabs: the system's record, links and responsibilities, its monitoring."""
    register(SystemTab("overview", _("Overview"), "inventory:system_detail", 0))
    register(
        SystemTab(
            "models",
            _("Models and data"),
            "inventory:system_models",
            10,
            count_from_system=lambda system: len(system.model_links.all()),
        )
    )
    register(SystemTab("suppliers", _("Suppliers and resources"), "inventory:system_suppliers", 20))
    register(
        SystemTab(
            "raci",
            _("Responsibilities"),
            "inventory:system_raci",
            30,
            count_from_system=lambda system: len(system.role_assignments.all()),
        )
    )
    register(SystemTab("monitoring", _("Monitoring"), "monitoring:system", 40))
    register(SystemTab("history", _("History"), "inventory:system_history", 1000))
