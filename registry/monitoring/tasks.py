"""Celery tasks of the registry: performance monitoring checks."""

from __future__ import annotations

import smtplib

from celery import shared_task

from registry.monitoring.services import monitoring_check


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=300,
    time_limit=330,
)
def check_monitoring() -> dict[str, int]:
    """E-mail about metrics that went silent and alerts not yet told about; returns the counts.

    Safe to retry or run twice: each stale episode and each alert is claimed before its
    e-mail is sent, in the same transaction, so a retry only sends what was not sent yet.
    """
    return monitoring_check()
