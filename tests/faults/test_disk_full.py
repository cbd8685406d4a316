"""The disk fills up while a worker writes a pack's PDF (``ENOSPC`` after the first kilobytes).

The pack fails saying so, leaves no file behind (neither the half-written temporary file nor
a final one) and is never marked succeeded; once there is room again, the same request
builds a complete pack.
"""

from __future__ import annotations

import errno
import os

import pytest

from audits.models import EvidencePack
from audits.packs import render, services
from tests.conftest import wait_for

pytestmark = [pytest.mark.services, pytest.mark.faults, pytest.mark.django_db(transaction=True)]


class FullDisk:
    """A file that accepts ``room`` bytes, then fails like a full file system."""

    def __init__(self, handle, room: int):
        self._file = handle
        self._room = room

    def write(self, data) -> int:
        if len(data) > self._room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._file.write(data)

    def __getattr__(self, name):
        return getattr(self._file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()


def finished(pack: EvidencePack):
    return lambda: EvidencePack.objects.get(pk=pack.pk).status not in EvidencePack.ACTIVE_STATUSES


def test_a_full_disk_fails_the_pack_cleanly_and_the_same_request_succeeds_afterwards(
    worker, acme, bob, monkeypatch, private_storage, settings
):
    settings.EVIDENCE_PACK_PART_RETRY_SECONDS = 0  # retried at once, as in test_parts_worker.py
    real_fdopen = os.fdopen
    with monkeypatch.context() as full:
        full.setattr(render.os, "fdopen", lambda fd, mode="r": FullDisk(real_fdopen(fd, mode), room=4096))
        pack, _ = services.evidence_pack_request(organization=acme, acting_user=bob, sections=["scope"])
        assert wait_for(finished(pack), timeout=180)
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.FAILED
    assert "No space left on device" in pack.error
    assert not pack.file and not pack.sha256
    assert not [path for path in private_storage.rglob("*") if path.is_file()], "a partial file was left behind"

    # Room again.
    again, created = services.evidence_pack_request(organization=acme, acting_user=bob, sections=["scope"])
    assert created and again.pk != pack.pk
    assert wait_for(finished(again), timeout=180)
    again.refresh_from_db()
    assert again.status == EvidencePack.Status.SUCCEEDED, again.error
    assert services.evidence_pack_verify(again).ok
