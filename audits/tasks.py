"""Celery tasks of the audits app: evidence pack generation and housekeeping."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from audits import services

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=120,
    max_retries=3,
    acks_late=True,
    soft_time_limit=settings.EVIDENCE_PACK_TIME_LIMIT,
    time_limit=settings.EVIDENCE_PACK_TIME_LIMIT + 30,
)
def generate_evidence_pack(self, pack_id: int) -> str | None:
    """Generate one pack; returns its final status (None when another worker has it)."""
    try:
        pack = services.evidence_pack_generate(pack_id)
    except SoftTimeLimitExceeded:
        services.fail_pack(
            pack_id, f"Generation took longer than {settings.EVIDENCE_PACK_TIME_LIMIT} s and was stopped."
        )
        return "failed"
    return pack.status if pack else None


@shared_task
def fail_stale_evidence_packs() -> int:
    return services.evidence_packs_fail_stale()


@shared_task
def expire_evidence_packs() -> int:
    return services.evidence_packs_expire()
