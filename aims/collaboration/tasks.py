"""Background work of collaboration: notification e-mails and the weekly digest."""

from __future__ import annotations

import smtplib

from celery import shared_task

from aims.collaboration import emails


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=30,
    time_limit=60,
)
def send_notification_email(notification_id: int) -> bool:
    """E-mail one notification (sent by the outbox after the comment or task commits); at most once."""
    return emails.notification_email_send(notification_id)


@shared_task(soft_time_limit=600, time_limit=660)
def send_weekly_digests() -> int:
    """Daily: each member who wants it gets this ISO week's digest on the first run of the week."""
    return emails.digests_send()
