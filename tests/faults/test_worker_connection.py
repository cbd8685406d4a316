"""A worker's database connection is terminated (``pg_terminate_backend``) in the middle of a pack.

Before the fix the "back to queued" update ran on the dead connection, so the pack stayed
``running`` at its last progress until the half-hour reaper. Now the worker drops the broken
connection first: the part that lost it is retried and the pack completes, or, once the part's
retries are spent, the pack fails saying why. It is never left running.
"""

from __future__ import annotations

import psycopg2
import pytest
from django.db import connection

from audits.models import EvidencePack
from audits.packs import sections, services
from audits.packs.tasks import render_evidence_pack_part
from tests.conftest import wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def terminate_own_connection() -> None:
    """Have another session kill this thread's backend, as a database restart or failover would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    killer = psycopg2.connect(**{k: v for k, v in connection.get_connection_params().items() if k != "cursor_factory"})
    killer.autocommit = True
    with killer.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    killer.close()


@pytest.fixture
def lose_connection(monkeypatch):
    """The scope section's collector loses its connection the first ``times`` it runs."""
    original = sections.COLLECTORS["scope"]
    calls = []

    def arm(times: int) -> list[int]:
        def collector(pack):
            calls.append(pack.pk)
            if len(calls) <= times:
                terminate_own_connection()
            return original(pack)

        monkeypatch.setitem(sections.COLLECTORS, "scope", collector)
        return calls

    return arm


def request(acme, bob) -> EvidencePack:
    pack, _ = services.evidence_pack_request(organization=acme, acting_user=bob, sections=["scope"])
    return pack


def finished(pack_id):
    return lambda: EvidencePack.objects.get(pk=pack_id).status not in EvidencePack.ACTIVE_STATUSES


def test_a_connection_terminated_mid_pack_is_retried_and_the_pack_completes(
    worker, acme, bob, lose_connection, settings
):
    settings.EVIDENCE_PACK_PART_RETRY_SECONDS = 0  # retried at once, as in test_parts_worker.py
    calls = lose_connection(times=1)
    pack = request(acme, bob)
    assert wait_for(finished(pack.pk), timeout=120), EvidencePack.objects.filter(pk=pack.pk).values().get()
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.SUCCEEDED, pack.error
    scope_part = pack.parts.get(key="section:scope")
    assert scope_part.attempts == 2 and len(calls) == 2 and pack.progress == 100


def test_a_connection_lost_on_every_attempt_fails_the_pack_cleanly(worker, acme, bob, lose_connection, monkeypatch):
    monkeypatch.setattr(render_evidence_pack_part, "max_retries", 0)  # no back-off waits in the test
    lose_connection(times=10)
    pack = request(acme, bob)
    assert wait_for(finished(pack.pk), timeout=120), EvidencePack.objects.filter(pk=pack.pk).values().get()
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.FAILED
    # The error names the part and what happened to it.
    assert pack.error.startswith(pack.parts.get(key="section:scope").label) and "connection" in pack.error
    assert not pack.file
