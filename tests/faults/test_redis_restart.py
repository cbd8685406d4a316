"""Redis (the broker) is restarted while a worker builds a pack, and while someone requests one.

The running pack does not need the broker and completes; the worker reconnects by itself
and takes the next pack; a pack requested while Redis was down waits in the outbox and is
sent once Redis is back. Redis here is a server of the test's own, so that restarting it
disturbs no other test.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command

from aims.demo import demo_seed
from aims.models import Organization, OutboxMessage, User
from audits.models import EvidencePack
from audits.packs import services
from tests.conftest import wait_for

pytestmark = [pytest.mark.services, pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def status_of(pack: EvidencePack):
    return EvidencePack.objects.get(pk=pack.pk).status


def test_a_redis_restart_loses_no_pack(own_redis, worker_processes, settings, monkeypatch):
    settings.CELERY_BROKER_URL = own_redis.url
    monkeypatch.setenv("CELERY_BROKER_URL", own_redis.url)
    worker_processes.env["CELERY_BROKER_URL"] = own_redis.url
    demo_seed()
    organization = Organization.objects.get(slug="acme-health-ai")
    requester = User.objects.get(email="admin@demo.example")
    worker_processes.start()

    building, _ = services.evidence_pack_request(organization=organization, acting_user=requester)
    assert wait_for(lambda: status_of(building) == EvidencePack.Status.RUNNING, timeout=180), worker_processes.logs()
    own_redis.stop()
    # Requested while the broker is down: kept, with its task waiting in the outbox.
    waiting, created = services.evidence_pack_request(
        organization=organization, acting_user=requester, sections=["scope"]
    )
    assert created and status_of(waiting) == EvidencePack.Status.QUEUED
    assert OutboxMessage.objects.filter(args=[waiting.pk], dispatched_at__isnull=True).exists()
    own_redis.start()

    assert wait_for(lambda: status_of(building) == EvidencePack.Status.SUCCEEDED, timeout=300), (
        EvidencePack.objects.get(pk=building.pk).error or worker_processes.logs()
    )
    call_command("dispatch_outbox")  # as the beat would, within a minute
    assert wait_for(lambda: status_of(waiting) == EvidencePack.Status.SUCCEEDED, timeout=180), (
        EvidencePack.objects.get(pk=waiting.pk).error or worker_processes.logs()
    )
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()
    for pack in (building, waiting):
        pack.refresh_from_db()
        assert pack.attempts == 1 and services.evidence_pack_verify(pack).ok
