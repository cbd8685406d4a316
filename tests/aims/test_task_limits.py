"""Every Celery task has its own soft and hard time limit, so none can hold a worker for ever."""

from __future__ import annotations

from django.conf import settings

from aims.celery import app

EXPECTED = {
    "aims.tasks.send_invitation_email",
    "aims.tasks.send_policy_review_reminders",
    "audits.packs.tasks.generate_evidence_pack",
    "audits.packs.tasks.recover_stale_evidence_packs",
    "audits.packs.tasks.expire_evidence_packs",
    "controls.tasks.send_reminders",
    "registry.monitoring.tasks.check_monitoring",
}


def portal_tasks() -> dict:
    app.loader.import_default_modules()  # the tasks modules of every installed app
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_registered_task_has_a_soft_and_a_larger_hard_time_limit():
    tasks = portal_tasks()
    assert set(tasks) >= EXPECTED
    for name, task in tasks.items():
        assert task.soft_time_limit, f"{name} has no soft_time_limit"
        assert task.time_limit, f"{name} has no time_limit"
        # The gap lets the task clean up (e.g. fail its pack) before the worker kills it.
        assert task.time_limit > task.soft_time_limit, name


def test_evidence_packs_get_the_long_limit_and_housekeeping_short_ones():
    tasks = portal_tasks()
    assert (
        tasks["audits.packs.tasks.generate_evidence_pack"].soft_time_limit == settings.EVIDENCE_PACK_TIME_LIMIT >= 1800
    )
    for name in EXPECTED - {"audits.packs.tasks.generate_evidence_pack"}:
        assert tasks[name].time_limit <= 600, name
