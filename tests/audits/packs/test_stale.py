"""Stale packs are judged by their heartbeat, within a window of minutes set in the settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audits.models import EvidencePack
from audits.packs import services
from tests.conftest import wait_for


def running_pack(acme, bob, django_capture_on_commit_callbacks, beat_ago: timedelta) -> EvidencePack:
    with django_capture_on_commit_callbacks(execute=False):
        pack, _ = services.evidence_pack_request(organization=acme, acting_user=bob, sections=["scope"])
    EvidencePack.objects.filter(pk=pack.pk).update(status="running", heartbeat_at=timezone.now() - beat_ago)
    return pack


def test_the_reaper_uses_the_configured_window_of_minutes(settings, acme, bob, django_capture_on_commit_callbacks):
    settings.EVIDENCE_PACK_STALE_MINUTES = 5
    fresh = running_pack(acme, bob, django_capture_on_commit_callbacks, timedelta(minutes=4))
    assert services.evidence_packs_recover_stale() == 0
    EvidencePack.objects.filter(pk=fresh.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=6))
    with django_capture_on_commit_callbacks(execute=False):
        assert services.evidence_packs_recover_stale() == 1  # minutes, not the half hour of the time limit
    fresh.refresh_from_db()
    assert fresh.status == EvidencePack.Status.QUEUED and fresh.progress == 0
    settings.EVIDENCE_PACK_STALE_MINUTES = 30
    assert services.stale_after() == timedelta(minutes=30)
    settings.EVIDENCE_PACK_STALE_MINUTES = 0.25
    assert services.stale_after() == timedelta(seconds=15)


def test_a_pack_abandoned_too_often_is_failed_saying_why(settings, acme, bob, django_capture_on_commit_callbacks):
    settings.EVIDENCE_PACK_MAX_ATTEMPTS = 3
    pack = running_pack(acme, bob, django_capture_on_commit_callbacks, timedelta(hours=1))
    EvidencePack.objects.filter(pk=pack.pk).update(attempts=3)
    assert services.evidence_packs_recover_stale() == 1
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.FAILED and "worker stopped" in pack.error and "3 times" in pack.error


def test_the_reaper_runs_well_within_the_stale_window(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["recover-stale-evidence-packs"]
    assert schedule["task"] == "audits.packs.tasks.recover_stale_evidence_packs"
    assert timedelta(seconds=schedule["schedule"]) <= services.stale_after() / 2


def test_a_redelivered_task_takes_over_only_after_the_window(settings, acme, bob, django_capture_on_commit_callbacks):
    settings.EVIDENCE_PACK_STALE_MINUTES = 5
    pack = running_pack(acme, bob, django_capture_on_commit_callbacks, timedelta(minutes=2))
    assert services.evidence_pack_generate(pack.pk) is None  # its worker may still be alive
    EvidencePack.objects.filter(pk=pack.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=6))
    assert services.evidence_pack_generate(pack.pk).status == EvidencePack.Status.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_keeps_a_long_step_fresh(settings, acme, bob):
    settings.EVIDENCE_PACK_HEARTBEAT_SECONDS = 0.5
    pack, _ = services.evidence_pack_request(organization=acme, acting_user=bob, sections=["scope"])
    old = timezone.now() - timedelta(minutes=3)
    EvidencePack.objects.filter(pk=pack.pk).update(status="running", heartbeat_at=old)
    with services._heartbeat(pack.pk):
        assert wait_for(lambda: EvidencePack.objects.get(pk=pack.pk).heartbeat_at > old, timeout=30)
    assert services.evidence_packs_recover_stale() == 0
