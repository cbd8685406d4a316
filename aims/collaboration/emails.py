"""E-mails of collaboration: one per notification, and the weekly digest.

Both are sent at most once: a notification records when it was e-mailed, a digest row is
written per member and ISO week (like :mod:`controls.evidence.reminders`), in the transaction
that sends it, so a retried or doubled run sends nothing twice and a failed send is tried again.
Each is written in its recipient's language (:func:`aims.i18n.recipient_language`).
"""

from __future__ import annotations

import logging
from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext

from aims.collaboration.models import DigestSent, Notification, NotificationPreference
from aims.i18n import recipient_language
from aims.links import absolute_url
from aims.models import Membership
from aims.tenancy import Tenant
from aims.work import work_for

logger = logging.getLogger(__name__)

# The digest lists this many of the newest unread notifications, and counts the rest.
DIGEST_LISTED = 10


def notification_email_send(notification_id: int) -> bool:
    """E-mail one notification to its recipient; False when it went already, or is not wanted.

    Not wanted: the recipient turned these e-mails off, or is no longer a member.
    """
    notification = (
        Notification.objects.select_related("recipient", "organization", "actor")
        .filter(pk=notification_id, emailed_at__isnull=True)
        .first()
    )
    if notification is None:
        return False
    recipient = notification.recipient
    member = Membership.objects.filter(organization_id=notification.organization_id, user=recipient).exists()
    wanted = not NotificationPreference.objects.filter(
        organization_id=notification.organization_id, user=recipient, email_notifications=False
    ).exists()
    if not (member and wanted and recipient.is_active):
        return False
    context = {
        "notification": notification,
        "organization": notification.organization,
        "link": settings.SITE_URL + notification.url,
        "inbox": absolute_url("notifications"),
    }
    with transaction.atomic():
        # The claim and the send share a transaction: a send that fails leaves the claim undone.
        claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if not claimed:
            return False
        with recipient_language(recipient, notification.organization):
            message = render_to_string("emails/notification.txt", context)
        send_mail(
            subject=f"[{notification.organization.name}] {notification.text}",
            message=message,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[recipient.email],
        )
    return True


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def digests_send(today: date | None = None) -> int:
    """E-mail each member who wants it a digest of their unread notifications and My work, once per ISO week.

    A member with nothing unread and nothing waiting gets no e-mail (and may still get one later in
    the week). Returns the number of digests sent.
    """
    today = today or timezone.localdate()
    week = iso_week(today)
    already = DigestSent.objects.filter(
        organization_id=OuterRef("organization_id"), user_id=OuterRef("user_id"), week=week
    )
    opted_out = NotificationPreference.objects.filter(
        organization_id=OuterRef("organization_id"), user_id=OuterRef("user_id"), weekly_digest=False
    )
    members = (
        Membership.objects.filter(user__is_active=True)
        .exclude(Exists(already))
        .exclude(Exists(opted_out))
        .select_related("user", "organization")
        .order_by("pk")
    )
    sent = 0
    for membership in members.iterator(chunk_size=200):
        sent += _digest_send(membership, today, week)
    return sent


def _digest_send(membership: Membership, today: date, week: str) -> bool:
    tenant = Tenant(
        organization=membership.organization, role=membership.role, user=membership.user, membership=membership
    )
    unread = Notification.objects.filter(
        recipient=membership.user, organization=membership.organization, read_at__isnull=True
    )
    unread_total = unread.count()
    work_total = len(work_for(tenant))
    if not unread_total and not work_total:
        return False
    context = {
        "user": membership.user,
        "organization": membership.organization,
        "week": week,
        "unread_total": unread_total,
        "unread": list(unread[:DIGEST_LISTED]),
        "more": max(unread_total - DIGEST_LISTED, 0),
        "work_total": work_total,
        "inbox": absolute_url("notifications"),
        "my_work": absolute_url("my_work"),
        "site": settings.SITE_URL,
    }
    with recipient_language(membership.user, membership.organization):
        subject = gettext("[%(organization)s] Your week on the AIMS portal (%(week)s)") % {
            "organization": membership.organization.name,
            "week": week,
        }
        message = render_to_string("emails/weekly_digest.txt", context)
    try:
        with transaction.atomic():
            # The unique constraint is the guard against two runs at once; it is enforced by the insert.
            DigestSent.objects.create(organization=membership.organization, user=membership.user, week=week)
            send_mail(
                subject=subject,
                message=message,
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[membership.user.email],
            )
    except IntegrityError:
        return False
    return True
