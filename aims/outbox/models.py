"""One task waiting to reach the broker, written in the same transaction as the record it concerns."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxMessage(models.Model):
    """A Celery task to send. ``dispatched_at`` is set only once the broker has accepted it."""

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # A dispatcher leases the message while it talks to the broker; a dispatcher that dies
    # mid-send leaves the lease to expire, and the next one sends the message again.
    leased_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        app_label = "aims"
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(dispatched_at__isnull=True), name="outbox_pending_idx")
        ]

    def __str__(self) -> str:
        state = "sent" if self.dispatched_at else "pending"
        return f"{self.task}{tuple(self.args)} ({state})"
