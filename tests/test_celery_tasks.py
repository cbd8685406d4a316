"""A worker knows every task the portal sends: each module of tasks is one it imports.

Autodiscovery finds only an app's top-level ``tasks`` module; a sub-package's tasks must be in
``CELERY_IMPORTS``, or a worker answers the message with "unregistered task" and drops it.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

APPS = ("aims", "registry", "risk", "controls", "audits")


def test_every_tasks_module_is_imported_by_the_worker():
    root = Path(settings.BASE_DIR)
    modules = {
        ".".join(path.relative_to(root).with_suffix("").parts)
        for app in APPS
        for path in (root / app).rglob("tasks.py")
    }
    top_level = {f"{app}.tasks" for app in APPS}
    missing = sorted(modules - top_level - set(settings.CELERY_IMPORTS))
    assert not missing, f"add to CELERY_IMPORTS: {missing}"
    assert "aims.collaboration.tasks" in modules
