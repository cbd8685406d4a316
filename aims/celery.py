"""The Celery application. Tasks live in each app's ``tasks.py``."""

from __future__ import annotations

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aims.settings.base")

app = Celery("aims")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def close_stale_database_connections(task=None, **kwargs) -> None:
    # Outside a web request nothing closes Django's connections: do it around each task, so a
    # worker never reuses a connection the database has dropped, nor holds one it no longer needs.
    # An eager task runs inside the caller's request or transaction, whose connection is not ours.
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
