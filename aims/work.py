"""My work: everything across the modules that waits for the signed-in member.

Each app registers what it can tell (:func:`register`) in its ``AppConfig.ready``: treatments
and corrective actions someone owns, versions waiting for an approver who did not write them,
evidence about to expire, reviews coming due. A provider receives the :class:`Tenant` and
returns :class:`WorkItem` rows; the page sorts them by due date and filters them, the header
shows how many there are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from aims.summaries import CONTENT, cached_summary
from aims.tenancy import Tenant

# What falls due within this many days is listed (what is overdue always is).
HORIZON_DAYS = 30
# Items a provider lists at most per kind of item: the page stays one page.
WORK_LIMIT = 100


@dataclass(frozen=True)
class WorkItem:
    module: str  # "Risks", "Audits"...: the page's filter
    kind: str  # "Treatment", "Approve an impact assessment"...
    title: str
    url: str
    reference: str = ""
    due: date | None = None

    @property
    def overdue(self) -> bool:
        return self.due is not None and self.due < timezone.localdate()


WorkProvider = Callable[[Tenant, date], list[WorkItem]]
_providers: list[WorkProvider] = []


def register(provider: WorkProvider) -> WorkProvider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def horizon(today: date) -> date:
    return today + timedelta(days=HORIZON_DAYS)


def work_for(tenant: Tenant) -> list[WorkItem]:
    """What waits for the tenant's member: overdue first, then by due date, undated last."""
    if tenant.user is None:
        return []
    today = timezone.localdate()
    items = [item for provider in _providers for item in provider(tenant, today)]
    return sorted(items, key=lambda item: (item.due is None, item.due or today, item.module, item.reference))


def work_count(tenant: Tenant) -> int:
    """How many items :func:`work_for` lists, cached for the member until the organisation's next
    recorded change (or the next day: what falls due moves on at midnight)."""
    if tenant.user is None or tenant.token is not None:
        return 0
    name = f"work.count.{tenant.user.pk}.{tenant.role}.{timezone.localdate().isoformat()}"
    return cached_summary(tenant.organization.pk, name, lambda: len(work_for(tenant)), scope=CONTENT)
