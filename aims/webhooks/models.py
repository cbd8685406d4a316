"""Webhook endpoints, their signing secrets, and the log of what was sent to them.

An endpoint is an AIMS record: who added it, changed its events or turned it off (and when
the portal turned it off after repeated failures) is kept in its history. Its secrets are kept
apart, in rows without history, so no history row ever holds a secret. Deliveries and their
attempts are a log, not records: they have no history either.
"""

from __future__ import annotations

import base64
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aims.tenancy import TenantModel

SECRET_PREFIX = "whsec_"  # noqa: S105  (the Standard Webhooks prefix, not a secret)


class WebhookEndpoint(TenantModel):
    """A URL of the organisation's that is sent the events it chose, signed with its secret."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Why the portal turned the endpoint off (empty when an administrator did, or it is on).
    disabled_reason = models.CharField(_("reason it was turned off"), max_length=300, blank=True)
    # Written with queryset updates, which write no history: a failed attempt is in the
    # delivery log, not a change of the endpoint.
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    # When the signing secret was last replaced: the history shows each rotation, never the secret.
    secret_rotated_at = models.DateTimeField(_("secret rotated"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("webhook endpoint")
        ordering = ["url", "pk"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return event_type in self.events


class WebhookSecretQuerySet(models.QuerySet["WebhookSecret"]):
    def valid(self) -> WebhookSecretQuerySet:
        """The secrets that sign: the current one, and one replaced less than a day ago."""
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


class WebhookSecret(models.Model):
    """One signing secret of an endpoint (``whsec_`` and base64, per Standard Webhooks).

    The current secret has no ``expires_at``; a rotated one keeps signing until then, so a
    receiver can take the new secret without missing an event.
    """

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="secrets")
    secret = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = WebhookSecretQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Secret of {self.endpoint} from {self.created_at:%Y-%m-%d %H:%M}"

    @staticmethod
    def generate() -> str:
        return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookDelivery(models.Model):
    """One event for one endpoint: the message (same id on every attempt) and where it stands."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed")

    organization = models.ForeignKey("aims.Organization", on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=60)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A sender claims a delivery until then, so two workers never send the same attempt.
    leased_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_response_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhookdelivery_log_idx"),
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhookdelivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint_id} ({self.status})"

    @staticmethod
    def new_message_id() -> str:
        return f"msg_{secrets.token_urlsafe(18)}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: its answer (or why none came) and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    manual = models.BooleanField(default=False)  # a redelivery an administrator asked for
    started_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    succeeded = models.BooleanField(default=False)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"Attempt {self.number} of {self.delivery_id}"
