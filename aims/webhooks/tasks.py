"""Background work of webhooks: one delivery (from the outbox), and the retries that are due."""

from __future__ import annotations

from celery import shared_task

from aims.webhooks import services


@shared_task(soft_time_limit=30, time_limit=45)
def deliver_webhook(delivery_id: int) -> bool:
    """Send a delivery's first attempt once the change it announces has committed."""
    return services.delivery_attempt(delivery_id=delivery_id) is not None


@shared_task(soft_time_limit=400, time_limit=450)
def send_due_webhooks() -> int:
    """Every minute: the retries whose time has come (each request times out after a few seconds)."""
    return services.deliveries_send_due()
