"""Demo webhooks: one endpoint, turned off until its URL points at a real receiver, with one delivery."""

from __future__ import annotations

from django.utils import timezone

from aims.models import Organization, User
from aims.records import record_save
from aims.webhooks.catalogue import EVENT_TYPES
from aims.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookSecret


def webhooks_demo_seed(organization: Organization, users: dict[str, User]) -> None:
    if WebhookEndpoint.objects.for_org(organization).exists():
        return
    admin = users["admin"]
    # Saved directly rather than through the service: the demo host is not resolved (the demo
    # works offline), and the endpoint stays off so the demo sends nothing anywhere.
    endpoint = WebhookEndpoint(
        organization=organization,
        url="https://hooks.example.com/aims",
        description="Ticketing system (demo)",
        events=[event for event in EVENT_TYPES if event.split(".")[0] in ("risk", "incident", "finding")],
        enabled=False,
        disabled_reason="Demo endpoint: set its URL to your receiver, then turn it on.",
        created_by=admin,
    )
    record_save(endpoint, acting_user=admin)
    WebhookSecret.objects.create(endpoint=endpoint, secret=WebhookSecret.generate())
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        organization=organization,
        endpoint=endpoint,
        message_id=WebhookDelivery.new_message_id(),
        event_type="webhook.test",
        payload={"type": "webhook.test", "timestamp": now.isoformat(), "data": {"id": endpoint.pk}},
        status=WebhookDelivery.Status.SUCCEEDED,
        attempts=1,
        last_status_code=200,
        last_response_ms=84,
    )
    WebhookAttempt.objects.create(
        delivery=delivery, number=1, started_at=now, status_code=200, response_ms=84, succeeded=True
    )
