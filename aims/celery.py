"""The Celery application. Tasks live in the ``tasks.py`` of each app or sub-package."""

from __future__ import annotations

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aims.settings.base")

app = Celery("aims")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Sub-packages with tasks of their own; autodiscovery only looks at each app's top level.
app.autodiscover_tasks(["registry.monitoring.services", "audits.packs", "aims.outbox"])


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
