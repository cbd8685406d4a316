"""Periodic dispatch of the outbox (the beat needs the broker too, so requests and a command also send)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from aims.outbox import services


@shared_task(soft_time_limit=120, time_limit=150)
def dispatch_outbox() -> int:
    result = services.outbox_dispatch()
    services.outbox_purge(older_than_days=settings.OUTBOX_RETENTION_DAYS)
    return result.sent
