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
    """Generate one pack; returns its final status (None when another worker has it, or it is done).

    Idempotent: a repeated delivery (the outbox sends at least once) finds the pack claimed or
    finished and does nothing.

    A lost database connection is retried with back-off; when the retries run out the pack
    is failed, so that it never waits in the queue for ever.
    """
    try:
        pack = services.evidence_pack_generate(pack_id)
    except (OperationalError, InterfaceError) as exc:
        # Whatever happens next touches the database: never on the connection that just broke.
        services.reset_connection()
        if self.request.retries >= self.max_retries:
            services.fail_pack(pack_id, f"The database could not be reached after several attempts ({exc}).")
            return EvidencePack.Status.FAILED
        # The broken connection is already replaced, so the first retry goes at once (a dropped
        # connection is the usual case); a database that stays away gets a growing back-off.
        countdown = min(120, 5 * 2**self.request.retries) if self.request.retries else 0
        raise self.retry(exc=exc, countdown=countdown) from exc
    except SoftTimeLimitExceeded:
        services.fail_pack(
            pack_id, f"Generation took longer than {settings.EVIDENCE_PACK_TIME_LIMIT} s and was stopped."
        )
        return EvidencePack.Status.FAILED
    return pack.status if pack else None


@shared_task(soft_time_limit=120, time_limit=150)
def recover_stale_evidence_packs() -> int:
    return services.evidence_packs_recover_stale()


@shared_task(soft_time_limit=300, time_limit=330)
def expire_evidence_packs() -> int:
    return services.evidence_packs_expire()
