"""Celery tasks of the audits app: evidence pack generation and housekeeping."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from audits.models import EvidencePack
from audits.packs import services

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    max_retries=3,
    acks_late=True,
    soft_time_limit=settings.EVIDENCE_PACK_TIME_LIMIT,
    time_limit=settings.EVIDENCE_PACK_TIME_LIMIT + 30,
)
def generate_evidence_pack(self, pack_id: int) -> str | None:
    """Generate one pack; returns its final status (None when another worker has it).

    A lost database connection is retried with back-off; when the retries run out the pack
    is failed, so that it never waits in the queue for ever.
    """
    try:
        pack = services.evidence_pack_generate(pack_id)
    except (OperationalError, InterfaceError) as exc:
        if self.request.retries >= self.max_retries:
            services.fail_pack(pack_id, f"The database could not be reached after several attempts ({exc}).")
            return EvidencePack.Status.FAILED
        raise self.retry(exc=exc, countdown=min(120, 5 * 2**self.request.retries)) from exc
    except SoftTimeLimitExceeded:
        services.fail_pack(
            pack_id, f"Generation took longer than {settings.EVIDENCE_PACK_TIME_LIMIT} s and was stopped."
        )
        return EvidencePack.Status.FAILED
    return pack.status if pack else None


@shared_task(soft_time_limit=120, time_limit=150)
def fail_stale_evidence_packs() -> int:
    return services.evidence_packs_fail_stale()


@shared_task(soft_time_limit=300, time_limit=330)
def expire_evidence_packs() -> int:
    return services.evidence_packs_expire()
