"""Background work for the core: e-mails."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext

from aims.i18n import recipient_language
from aims.links import absolute_url
from aims.models import Invitation, invitation_token

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=30,
    time_limit=60,
)
def send_invitation_email(self, invitation_id: int, once: bool = False) -> bool:
    """E-mail the invitation link; returns False when the invitation is no longer pending.

    ``once`` (how the outbox sends it) makes a repeated delivery of the same message a no-op
    once the e-mail has gone; a deliberate resend leaves it off.
    """
    invitation = Invitation.objects.select_related("organization", "invited_by").filter(pk=invitation_id).first()
    if invitation is None or not invitation.is_pending:
        logger.info("Invitation %s is not pending; nothing sent.", invitation_id)
        return False
    if once and invitation.sent_at is not None:
        logger.info("Invitation %s was already sent; not sending it twice.", invitation_id)
        return False
    link = absolute_url("invitation_accept", args=[invitation_token(invitation)])
    context = {"invitation": invitation, "link": link}
    with recipient_language(None, invitation.organization):
        send_mail(
            subject=gettext("You are invited to %(organization)s on the AIMS portal")
            % {"organization": invitation.organization.name},
            message=render_to_string("emails/invitation.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[invitation.email],
        )
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())
    return True


@shared_task(soft_time_limit=300, time_limit=330)
def send_policy_review_reminders() -> int:
    """Daily: e-mail the owners of policies whose review is due within 30 days or overdue (once per date)."""
    from aims.governance.services import policy_review_reminders_send

    return policy_review_reminders_send()
