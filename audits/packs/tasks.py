"""Celery tasks of the audits app: evidence packs planned, rendered in parts, merged; housekeeping.

Every task here goes to the ``packs`` queue (``CELERY_TASK_ROUTES``). The time limit
applies to each part and to the merge, not to the whole pack: parts are what keeps each
task (and each worker's memory) small.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from audits.models import EvidencePack
from audits.packs import parts, services

logger = logging.getLogger(__name__)

TIME_LIMITS = {
    "soft_time_limit": settings.EVIDENCE_PACK_TIME_LIMIT,
    "time_limit": settings.EVIDENCE_PACK_TIME_LIMIT + 30,
}


def _time_limit_message() -> str:
    return f"Generation took longer than {settings.EVIDENCE_PACK_TIME_LIMIT} s and was stopped."


def _retry_countdown(retries: int) -> int:
    # The broken connection is already replaced, so the first retry goes at once (a dropped
    # connection is the usual case); a database that stays away gets a growing back-off.
    return min(120, 5 * 2**retries) if retries else 0


@shared_task(bind=True, max_retries=3, acks_late=True, **TIME_LIMITS)
def generate_evidence_pack(self, pack_id: int) -> str | None:
    """Claim and plan one pack (and, without workers, build it); returns its status.

    Returns None when another worker has it, or it is done. Idempotent: a repeated delivery
    (the outbox sends at least once) finds the pack claimed or finished and does nothing.

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
        raise self.retry(exc=exc, countdown=_retry_countdown(self.request.retries)) from exc
    except SoftTimeLimitExceeded:
        services.fail_pack(pack_id, _time_limit_message())
        return EvidencePack.Status.FAILED
    return pack.status if pack else None


@shared_task(bind=True, max_retries=settings.EVIDENCE_PACK_PART_RETRIES, acks_late=True, **TIME_LIMITS)
def render_evidence_pack_part(self, part_id: int) -> str | None:
    """Render one part of a pack; returns its status (None when it is not this worker's to do).

    Idempotent, like the pack's task. Any error is retried (the part goes back to the queue,
    keeping its error); when the retries run out the part and its pack are failed, saying why.
    """
    try:
        part = services.evidence_pack_part_render(part_id)
    except SoftTimeLimitExceeded:
        parts.part_fail(part_id, _time_limit_message())
        return parts.PartStatus.FAILED
    except Exception as exc:
        if isinstance(exc, OperationalError | InterfaceError):
            services.reset_connection()
        message = services.readable_error(exc)
        if self.request.retries >= self.max_retries:
            logger.exception("Part %s failed for good", part_id)
            parts.part_fail(part_id, message)
            return parts.PartStatus.FAILED
        logger.warning("Part %s failed, trying again: %s", part_id, message)
        services.evidence_pack_part_retry(part_id, message)
        countdown = settings.EVIDENCE_PACK_PART_RETRY_SECONDS * 2**self.request.retries
        raise self.retry(exc=exc, countdown=countdown) from exc
    return part.status if part else None


@shared_task(bind=True, max_retries=3, acks_late=True, **TIME_LIMITS)
def merge_evidence_pack(self, pack_id: int) -> str | None:
    """Merge a pack whose parts have all succeeded; returns its status (None when not due)."""
    try:
        pack = services.evidence_pack_merge(pack_id)
    except SoftTimeLimitExceeded:
        services.fail_pack(pack_id, _time_limit_message())
        return EvidencePack.Status.FAILED
    except (OperationalError, InterfaceError) as exc:
        services.reset_connection()
        if self.request.retries >= self.max_retries:
            services.fail_pack(pack_id, f"The database could not be reached after several attempts ({exc}).")
            return EvidencePack.Status.FAILED
        raise self.retry(exc=exc, countdown=_retry_countdown(self.request.retries)) from exc
    except Exception as exc:
        logger.exception("Merging evidence pack %s failed", pack_id)
        services.fail_pack(pack_id, f"Merging the parts failed: {services.readable_error(exc)}")
        return EvidencePack.Status.FAILED
    return pack.status if pack else None


@shared_task(soft_time_limit=120, time_limit=150)
def recover_stale_evidence_packs() -> int:
    return services.evidence_packs_recover_stale()


@shared_task(soft_time_limit=300, time_limit=330)
def expire_evidence_packs() -> int:
    return services.evidence_packs_expire()
