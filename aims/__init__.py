"""The project package: settings, URLs, the Celery app and the core every module builds on."""

from __future__ import annotations

from aims.celery import app as celery_app

__all__ = ["celery_app"]
