"""Writes of webhooks: endpoints and their secrets, events, and the delivery of each attempt.

Deliveries are written in the transaction of the change they announce and handed to the
outbox, so they are sent only once it commits. A failed attempt is tried again after a growing
delay (:data:`RETRY_DELAYS`) by the periodic ``send_due_webhooks`` task; after
:data:`DISABLE_AFTER_FAILURES` failed attempts in a row the endpoint is turned off and the
organisation's administrators are told. The HTTP request never runs inside a transaction.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from standardwebhooks.webhooks import Webhook

from aims.collaboration.models import Notification
from aims.collaboration.services import notification_raise
from aims.models import Membership, Organization, User
from aims.outbox.services import outbox_enqueue
from aims.records import record_delete, record_save
from aims.roles import administrator_roles
from aims.webhooks import transport
from aims.webhooks.catalogue import EVENT_TYPES, TEST_EVENT
from aims.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookSecret
from aims.webhooks.selectors import listeners_changed

DELIVER_TASK = "aims.webhooks.tasks.deliver_webhook"
# The wait before each automatic retry: a delivery is tried at most len(RETRY_DELAYS) + 1 times.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=8),
    timedelta(hours=24),
)
DISABLE_AFTER_FAILURES = 10
# A rotated secret keeps signing this long, so receivers can change theirs without a gap.
PREVIOUS_SECRET_VALIDITY = timedelta(hours=24)
# A sender holds a delivery this long: longer than one request can take.
LEASE = timedelta(seconds=60)
NOTICE_KIND = Notification.Kind.NOTICE
TURNED_OFF = gettext_noop("Not sent: the endpoint is turned off.")


def absolute(path: str) -> str:
    return str(settings.SITE_URL) + path


# --- Endpoints -----------------------------------------------------------------------------------


@transaction.atomic
def endpoint_create(
    *, organization: Organization, url: str, description: str, events: list[str], acting_user: User
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint with a new secret; returns both (the secret is shown once, never again)."""
    endpoint = WebhookEndpoint(
        organization=organization, url=url, description=description, events=events, created_by=acting_user
    )
    _check(endpoint.url, events)
    record_save(endpoint, acting_user=acting_user)
    secret = WebhookSecret.objects.create(endpoint=endpoint, secret=WebhookSecret.generate())
    listeners_changed(organization.pk)
    return endpoint, secret.secret


@transaction.atomic
def endpoint_update(
    *, endpoint: WebhookEndpoint, url: str, description: str, events: list[str], enabled: bool, acting_user: User
) -> WebhookEndpoint:
    """Change an endpoint; turning it on again forgets its past failures."""
    _check(url, events)
    fields = ["url", "description", "events", "enabled", "disabled_reason"]
    if enabled and not endpoint.enabled:
        endpoint.disabled_reason, endpoint.consecutive_failures = "", 0
        fields.append("consecutive_failures")
    endpoint.url, endpoint.description, endpoint.events, endpoint.enabled = url, description, events, enabled
    # Only the fields the form changes: the failure count moves meanwhile, with each attempt.
    record_save(endpoint, acting_user=acting_user, update_fields=fields)
    listeners_changed(endpoint.organization_id)
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint, acting_user: User) -> None:
    organization_id = endpoint.organization_id
    record_delete(endpoint, acting_user=acting_user)
    listeners_changed(organization_id)


@transaction.atomic
def endpoint_secret_rotate(*, endpoint: WebhookEndpoint, acting_user: User) -> str:
    """A new signing secret; the current one keeps signing for a day beside it. Returns the new one."""
    now = timezone.now()
    endpoint.secrets.filter(expires_at__lte=now).delete()
    endpoint.secrets.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now + PREVIOUS_SECRET_VALIDITY)).update(
        expires_at=now + PREVIOUS_SECRET_VALIDITY
    )
    secret = WebhookSecret.objects.create(endpoint=endpoint, secret=WebhookSecret.generate())
    endpoint.secret_rotated_at = now
    record_save(endpoint, acting_user=acting_user, update_fields=["secret_rotated_at"])
    return secret.secret


def _check(url: str, events: list[str]) -> None:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown or not events:
        message = _("Choose events of the catalogue (unknown: %(events)s).") % {"events": ", ".join(unknown)}
        raise ValidationError({"events": message if unknown else _("Choose at least one event.")})
    try:
        transport.target_for(url)
    except transport.AddressRefused as exc:
        raise ValidationError({"url": str(exc)}) from exc


# --- Events and deliveries -------------------------------------------------------------------------


def _payload(event_type: str, occurred_at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": event_type, "timestamp": occurred_at.isoformat().replace("+00:00", "Z"), "data": data}


def _delivery_create(*, endpoint_id: int, organization_id: int, payload: dict[str, Any]) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        organization_id=organization_id,
        endpoint_id=endpoint_id,
        message_id=WebhookDelivery.new_message_id(),
        event_type=payload["type"],
        payload=payload,
        next_attempt_at=timezone.now(),
    )
    outbox_enqueue(task=DELIVER_TASK, args=[delivery.pk])
    return delivery


@transaction.atomic
def event_announce(
    *, organization_id: int, endpoint_ids: list[int], event_type: str, data: dict[str, Any], occurred_at: datetime
) -> list[WebhookDelivery]:
    """One delivery of the event per endpoint of the organisation listening to it."""
    payload = _payload(event_type, occurred_at, data)
    wanted = WebhookEndpoint.objects.filter(pk__in=endpoint_ids, organization_id=organization_id, enabled=True)
    return [
        _delivery_create(endpoint_id=endpoint.pk, organization_id=organization_id, payload=payload)
        for endpoint in wanted
        if endpoint.wants(event_type)
    ]


@transaction.atomic
def endpoint_send_test(*, endpoint: WebhookEndpoint, acting_user: User) -> WebhookDelivery:
    """A ``webhook.test`` event to the endpoint (whichever events it chose), sent once this commits."""
    data = {
        "id": endpoint.pk,
        "organization": endpoint.organization.slug,
        "url": absolute(reverse("webhooks:detail", args=[endpoint.pk])),
        "changed_fields": [],
        "sent_by": acting_user.email,
    }
    payload = _payload(TEST_EVENT, timezone.now(), data)
    return _delivery_create(endpoint_id=endpoint.pk, organization_id=endpoint.organization_id, payload=payload)


def delivery_redeliver(*, delivery: WebhookDelivery, acting_user: User) -> None:
    """Send the delivery again now (same message id, so a receiver that has it can tell)."""
    transaction.on_commit(lambda: delivery_attempt(delivery_id=delivery.pk, manual=True))


def signature_headers(secrets: list[str], message_id: str, sent_at: datetime, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers; one signature per valid secret, space-separated."""
    signatures = " ".join(Webhook(secret).sign(message_id, sent_at, body) for secret in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signatures,
        "Content-Type": "application/json",
    }


def _claim(delivery_id: int, *, manual: bool, now: datetime) -> bool:
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    due = Q() if manual else Q(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
    return bool(WebhookDelivery.objects.filter(free, due, pk=delivery_id).update(leased_until=now + LEASE))


def delivery_attempt(*, delivery_id: int, manual: bool = False) -> WebhookAttempt | None:
    """Send one attempt of a delivery and record it; None when it is not due, or taken by another sender.

    A failed automatic attempt is scheduled again (:data:`RETRY_DELAYS`) or, after the last,
    the delivery fails. A manual one (redelivery) only adds to the log and leaves the
    schedule as it was, unless it succeeds.
    """
    now = timezone.now()
    if not _claim(delivery_id, manual=manual, now=now):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.enabled and not manual:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED,
            next_attempt_at=None,
            leased_until=None,
            last_error=_(TURNED_OFF),
        )
        return None
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    secrets = list(endpoint.secrets.valid().values_list("secret", flat=True))
    answer = transport.post(endpoint.url, body, signature_headers(secrets, delivery.message_id, now, body))
    return _attempt_record(delivery, answer, manual=manual, started_at=now)


def _attempt_record(
    delivery: WebhookDelivery, answer: transport.Answer, *, manual: bool, started_at: datetime
) -> WebhookAttempt:
    automatic = delivery.attempt_log.filter(manual=False).count() + (0 if manual else 1)
    status, next_attempt_at = delivery.status, delivery.next_attempt_at
    if answer.succeeded:
        status, next_attempt_at = WebhookDelivery.Status.SUCCEEDED, None
    elif not manual:
        if automatic <= len(RETRY_DELAYS):
            status, next_attempt_at = WebhookDelivery.Status.PENDING, timezone.now() + RETRY_DELAYS[automatic - 1]
        else:
            status, next_attempt_at = WebhookDelivery.Status.FAILED, None
    with transaction.atomic():
        attempt = WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts + 1,
            manual=manual,
            started_at=started_at,
            status_code=answer.status_code,
            response_ms=answer.response_ms,
            error=answer.error,
            succeeded=answer.succeeded,
            next_attempt_at=next_attempt_at,
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=status,
            next_attempt_at=next_attempt_at,
            attempts=F("attempts") + 1,
            leased_until=None,
            last_status_code=answer.status_code,
            last_response_ms=answer.response_ms,
            last_error=answer.error,
        )
        _endpoint_health(delivery.endpoint, succeeded=answer.succeeded)
    return attempt


def _endpoint_health(endpoint: WebhookEndpoint, *, succeeded: bool) -> None:
    endpoints = WebhookEndpoint.objects.filter(pk=endpoint.pk)
    if succeeded:
        endpoints.update(consecutive_failures=0)
        return
    endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
    failures = endpoints.values_list("consecutive_failures", flat=True).first() or 0
    if failures >= DISABLE_AFTER_FAILURES and endpoint.enabled:
        endpoint_disable_after_failures(endpoint=endpoint, failures=failures)


@transaction.atomic
def endpoint_disable_after_failures(*, endpoint: WebhookEndpoint, failures: int) -> None:
    """Turn the endpoint off (its history says why), stop its retries and tell the administrators."""
    endpoint.refresh_from_db()
    if not endpoint.enabled:
        return
    endpoint.enabled = False
    endpoint.disabled_reason = _("Turned off by the portal after %(count)d failed attempts in a row.") % {
        "count": failures
    }
    record_save(endpoint, acting_user=None, update_fields=["enabled", "disabled_reason"])
    endpoint.deliveries.filter(status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED, next_attempt_at=None, last_error=_(TURNED_OFF)
    )
    url = reverse("webhooks:detail", args=[endpoint.pk])
    admins = Membership.objects.filter(
        organization_id=endpoint.organization_id, role__in=administrator_roles(), user__is_active=True
    ).select_related("user")
    for membership in admins:
        notification_raise(
            recipient=membership.user,
            organization_id=endpoint.organization_id,
            kind=NOTICE_KIND,
            text=_("The webhook endpoint %(url)s was turned off after %(count)d failed deliveries")
            % {"url": endpoint.url, "count": failures},
            url=url,
            actor=None,
        )
    listeners_changed(endpoint.organization_id)


def deliveries_send_due(*, limit: int = 50) -> int:
    """Send the attempts that are due (first sends the outbox missed, and retries); returns how many ran."""
    due = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now(), endpoint__enabled=True
    ).order_by("next_attempt_at", "pk")
    sent = 0
    for delivery_id in list(due.values_list("pk", flat=True)[:limit]):
        if delivery_attempt(delivery_id=delivery_id) is not None:
            sent += 1
    return sent
