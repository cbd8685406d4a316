"""A pack stopped by Celery's soft time limit is failed with a clear error and leaves no file.

The worker raises SoftTimeLimitExceeded inside the running task when the limit is reached;
here a patched rendering step raises it at the same place.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from audits.models import EvidencePack
from audits.packs import render
from tests.audits.packs.test_services import request_pack


def _too_slow(*args, **kwargs):
    raise SoftTimeLimitExceeded()


@pytest.mark.parametrize("step", ["layout", "file_sha256"])
def test_a_pack_that_reaches_the_soft_time_limit_is_failed_not_left_running(
    acme, bob, monkeypatch, private_storage, step
):
    monkeypatch.setattr(render, step, _too_slow)  # while laying out pages / while writing the PDF
    pack, _ = request_pack(acme, bob)
    assert pack.status == EvidencePack.Status.FAILED
    assert pack.error == f"Generation took longer than {settings.EVIDENCE_PACK_TIME_LIMIT} s and was stopped."
    assert pack.current_step == "Failed" and pack.finished_at is not None
    assert not pack.file and not pack.sha256
    assert not [p for p in Path(private_storage).rglob("*") if p.is_file()], "a partial file was left behind"
    # The failure is the pack's final state in its history too.
    assert pack.history.first().status == EvidencePack.Status.FAILED
