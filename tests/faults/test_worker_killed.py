"""A worker is killed (``kill -9``) while it builds a pack: the pack is never left running.

The killed worker writes nothing more, not even an acknowledgement. Once its heartbeat is
older than the stale window, the reaper puts what it was doing back in the queue (the part it
was rendering, or the pack itself if it died while planning); another worker builds the rest.
Nothing is marked succeeded before its file is complete.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from aims.demo import demo_seed
from aims.models import Organization, User
from audits.models import EvidencePack, EvidencePackPart
from audits.packs import services
from tests.conftest import wait_for

pytestmark = [pytest.mark.services, pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_mid_pack_leaves_it_to_another_worker_within_the_stale_window(
    worker_processes, settings, private_storage
):
    settings.EVIDENCE_PACK_STALE_MINUTES = 0.1  # six seconds, as in the worker processes
    demo_seed()
    organization = Organization.objects.get(slug="acme-health-ai")
    requester = User.objects.get(email="admin@demo.example")
    first = worker_processes.start()
    # The whole AIMS pack of the demo organisation: long enough to be caught mid-way.
    pack, _ = services.evidence_pack_request(organization=organization, acting_user=requester)

    def running() -> bool:
        return EvidencePack.objects.get(pk=pack.pk).status == EvidencePack.Status.RUNNING

    assert wait_for(running, timeout=180), worker_processes.logs()
    worker_processes.kill(first)
    killed_at = timezone.now()
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.RUNNING, "the pack finished before the worker could be killed"
    assert not pack.file and not pack.sha256
    # Parts may have been written under parts/; the pack's own file is not there yet.
    assert not list((private_storage / "evidence-packs").glob("*.pdf")), "an unfinished pack has a file"

    # The reaper (every minute from the beat) waits for the stale window, not the time limit.
    assert services.evidence_packs_recover_stale() == 0
    assert wait_for(lambda: services.evidence_packs_recover_stale() >= 1, timeout=60)
    recovered_after = timezone.now() - killed_at
    assert recovered_after < services.stale_after() + timedelta(seconds=30)
    pack.refresh_from_db()
    requeued_parts = pack.parts.filter(status=EvidencePackPart.Status.QUEUED, attempts__gte=1)
    assert (pack.status == EvidencePack.Status.QUEUED and pack.current_step == services.REQUEUED_STEP) or (
        pack.status == EvidencePack.Status.RUNNING and requeued_parts.exists()
    ), (pack.status, list(pack.parts.values_list("key", "status", "attempts")))

    worker_processes.start()

    def finished() -> bool:
        return EvidencePack.objects.get(pk=pack.pk).status not in EvidencePack.ACTIVE_STATUSES

    assert wait_for(finished, timeout=300), worker_processes.logs()
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.SUCCEEDED, pack.error
    # Started twice: the pack itself, or the part the killed worker had taken.
    assert pack.progress == 100
    assert pack.attempts == 2 or pack.parts.filter(attempts=2).exists()
    report = services.evidence_pack_verify(pack)
    assert report.ok, report.as_dict()
