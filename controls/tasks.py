"""Celery tasks of the controls app: reminders about expiring evidence and late SoA rows."""

from __future__ import annotations

import smtplib

from celery import shared_task

from controls.evidence import staging
from controls.evidence.reminders import reminders_send


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=300,
    time_limit=330,
)
def send_reminders() -> int:
    """Send the reminders that are due; returns how many e-mails went out.

    Safe to retry or run twice: every item sent is recorded, so a retry after a mail server
    failure only sends what was not sent yet.
    """
    return reminders_send()


@shared_task(soft_time_limit=300, time_limit=330)
def discard_stale_staged_files() -> int:
    """Remove the files kept for evidence forms that were never sent again."""
    return staging.discard_stale()
