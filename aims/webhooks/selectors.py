"""Reads of webhooks: an organisation's endpoints, their delivery log, who listens to an event."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet

from aims.models import Organization
from aims.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

LISTENERS_CACHE_SECONDS = 3600


def endpoint_list(organization: Organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.for_org(organization).select_related("created_by")


def delivery_log(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries, newest first (paginated by the page)."""
    return WebhookDelivery.objects.filter(endpoint=endpoint, organization_id=endpoint.organization_id)


def attempt_list(delivery: WebhookDelivery) -> QuerySet[WebhookAttempt]:
    return WebhookAttempt.objects.filter(delivery=delivery)


@dataclass(frozen=True)
class Listeners:
    organization_slug: str
    endpoints: tuple[tuple[int, frozenset[str]], ...]

    def for_event(self, event_type: str) -> list[int]:
        return [endpoint_id for endpoint_id, events in self.endpoints if event_type in events]


def _listeners_key(organization_id: int) -> str:
    return f"webhooks:listeners:{organization_id}"


def listeners(organization_id: int) -> Listeners:
    """The organisation's enabled endpoints and their events, cached until an endpoint changes.

    Read on every change of a record in the catalogue: an organisation without endpoints costs
    one query per cache period, not one per change.
    """
    cached = cache.get(_listeners_key(organization_id))
    if isinstance(cached, Listeners):
        return cached
    rows = list(
        WebhookEndpoint.objects.filter(organization_id=organization_id, enabled=True).values_list(
            "pk", "events", "organization__slug"
        )
    )
    found = Listeners(
        rows[0][2] if rows else "",
        tuple((pk, frozenset(events or ())) for pk, events, _slug in rows),
    )
    cache.set(_listeners_key(organization_id), found, LISTENERS_CACHE_SECONDS)
    return found


def listeners_changed(organization_id: int) -> None:
    """Forget the cached listeners now and again once the transaction commits (a reader in
    between may have cached the rows from before the change)."""
    key = _listeners_key(organization_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))
