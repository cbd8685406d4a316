"""Write tasks to the outbox with their records, and send what is pending to the broker.

A request never talks to the broker inside its transaction: it writes an ``OutboxMessage``
and, once the transaction has committed, tries to send every pending message. When the
broker is unreachable the request still succeeds; the periodic ``dispatch_outbox`` task, the
``manage.py dispatch_outbox`` command or the next request sends the message later. A message
may reach the broker more than once (a dispatcher dying between send and bookkeeping), so
every consumer is idempotent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery.utils.imports import symbol_by_name
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from aims.outbox.models import OutboxMessage

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)


@dataclass
class DispatchResult:
    sent: int = 0
    failed: int = 0
    pending: int = 0


def outbox_enqueue(*, task: str, args: list[Any] | None = None, kwargs: dict[str, Any] | None = None) -> OutboxMessage:
    """Record a task in the caller's transaction; it is sent once that transaction commits."""
    message = OutboxMessage.objects.create(task=task, args=list(args or []), kwargs=dict(kwargs or {}))
    transaction.on_commit(lambda: outbox_dispatch(limit=settings.OUTBOX_REQUEST_BATCH))
    return message


def outbox_pending() -> int:
    return OutboxMessage.objects.filter(dispatched_at__isnull=True).count()


def _lease(limit: int) -> list[OutboxMessage]:
    now = timezone.now()
    with transaction.atomic():
        free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(free, dispatched_at__isnull=True)
            .order_by("created_at", "pk")[:limit]
        )
        OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(leased_until=now + LEASE)
    return messages


def _publish(message: OutboxMessage) -> None:
    from aims.celery import app

    task = symbol_by_name(message.task)  # a shared task's name is its dotted path
    # A fresh connection with a short timeout, and no publish retries: a broker that is down
    # must cost the request a moment, not the minutes of Celery's default retry policy. The
    # URL is the Celery app's own (the CELERY_BROKER_URL environment variable comes first),
    # the one the workers consume from.
    with app.connection_for_write(
        app.conf.broker_url,
        connect_timeout=settings.OUTBOX_BROKER_TIMEOUT,
        transport_options={"max_retries": 1},
    ) as connection:
        task.apply_async(args=message.args, kwargs=message.kwargs, connection=connection, retry=False)


def _mark_sent(message: OutboxMessage) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(
        dispatched_at=timezone.now(), leased_until=None, attempts=message.attempts + 1, last_error=""
    )


def outbox_dispatch(*, limit: int = 500) -> DispatchResult:
    """Send pending messages, oldest first; stops at the first broker failure (the rest would fail too)."""
    result = DispatchResult()
    messages = _lease(limit)
    for index, message in enumerate(messages):
        if settings.CELERY_TASK_ALWAYS_EAGER:
            # No broker configured: the task runs here, as it always has without one, and
            # its errors reach the caller as they always have.
            _mark_sent(message)
            result.sent += 1
            symbol_by_name(message.task).apply_async(args=message.args, kwargs=message.kwargs)
            continue
        try:
            _publish(message)
        except Exception as exc:  # any failure to publish leaves the message pending; nothing is lost
            logger.warning("Outbox message %s (%s) not sent: %s", message.pk, message.task, exc)
            unsent = [m.pk for m in messages[index:]]
            OutboxMessage.objects.filter(pk__in=unsent).update(leased_until=None)
            OutboxMessage.objects.filter(pk=message.pk).update(
                attempts=message.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
            )
            result.failed = len(unsent)
            break
        _mark_sent(message)
        result.sent += 1
    result.pending = outbox_pending()
    return result


def outbox_purge(*, older_than_days: int) -> int:
    """Delete messages sent long ago; pending ones always stay."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = OutboxMessage.objects.filter(dispatched_at__lt=cutoff).delete()
    return deleted
