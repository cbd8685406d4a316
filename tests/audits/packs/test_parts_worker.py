"""Packs in parts on a real Celery worker (Redis, PostgreSQL): merged, numbered, PDF/A-3b; failures.

CI runs these with AIMS_REQUIRE_SERVICES=1. The worker consumes the default queue and the
``packs`` queue, as a production worker started with ``-Q celery,packs`` does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from aims.roles import Role
from audits.models import EvidencePack, EvidencePackPart
from audits.packs import parts
from tests.audits.packs.pdf_checks import check_numbering, check_outline_and_links, check_pdfa
from tests.conftest import wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _finished(pack_id: int) -> bool:
    return EvidencePack.objects.get(pk=pack_id).status in ("succeeded", "failed", "cancelled")


def test_a_pack_in_parts_is_merged_numbered_and_pdfa(catalogue, worker, api_for, acme, bob, inventory, settings):
    settings.EVIDENCE_PACK_INVENTORY_CHUNK = 2
    api = api_for(acme, role=Role.AUDITOR, created_by=bob)
    created = api.post(reverse("evidencepack-list"), {}, format="json")
    assert created.status_code == 201, created.content
    pack_id = created.json()["id"]
    assert wait_for(lambda: _finished(pack_id), timeout=240), "the workers did not finish the pack"
    body = api.get(reverse("evidencepack-detail", args=[pack_id])).json()
    assert body["status"] == "succeeded", body["error"]
    assert body["progress"] == 100
    keys = [part["key"] for part in body["parts"]]
    assert keys[0] == "front" and keys[-1] == "section:evidence"
    assert [k for k in keys if k.startswith("inventory:")] == ["inventory:1", "inventory:2"]
    assert {part["status"] for part in body["parts"]} == {"succeeded"}
    assert all(part["worker"] for part in body["parts"])
    # The registers are parts that attach files and lay out no page; every other part has pages.
    assert {k for k in keys if k.startswith("data:")} == {"data:risks", "data:soa", "data:history"}
    assert all(bool(part["page_count"]) != part["key"].startswith("data:") for part in body["parts"])
    pack = EvidencePack.objects.get(pk=pack_id)
    assert all(p.peak_rss_mb and p.started_at and p.finished_at for p in pack.parts.all())
    content = b"".join(api.get(body["download_url"]).streaming_content)
    assert len(content) == body["size"]
    starts = check_numbering(content, pack)
    check_outline_and_links(content, pack, starts)
    check_pdfa(content)
    report = api.post(reverse("evidencepack-verify", args=[pack_id])).json()
    assert report["ok"], report["problems"]
    assert not Path(default_storage.path(parts.parts_dir(pack))).exists()


def test_a_part_that_keeps_failing_fails_the_pack_and_never_yields_a_file(
    catalogue, worker, acme, bob, monkeypatch, django_capture_on_commit_callbacks, settings
):
    from audits.packs import sections, services

    # Retried at once: the test worker need not hold delayed messages.
    settings.EVIDENCE_PACK_PART_RETRY_SECONDS = 0
    calls = []

    def broken(pack):
        calls.append(pack.pk)
        raise RuntimeError("the readiness data is unreadable")

    monkeypatch.setitem(sections.COLLECTORS, "readiness", broken)
    with django_capture_on_commit_callbacks(execute=True):
        pack, _ = services.evidence_pack_request(
            organization=acme, acting_user=bob, sections=["scope", "readiness", "evidence"]
        )
    assert wait_for(lambda: _finished(pack.pk), timeout=120), list(
        pack.parts.values_list("key", "status", "attempts", "error")
    )
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.FAILED and not pack.file and not pack.sha256
    assert "Readiness summary" in pack.error and "the readiness data is unreadable" in pack.error
    failed = pack.parts.get(key="section:readiness")
    # Tried once and then retried until the retries ran out.
    assert failed.status == EvidencePackPart.Status.FAILED and failed.attempts == 1 + settings_retries()
    assert len(calls) == failed.attempts
    # The later phases never ran; nothing was merged; no part file is left.
    assert pack.parts.get(key=parts.FRONT).status == EvidencePackPart.Status.CANCELLED
    assert not [p for p in Path(default_storage.path("")).rglob("*.pdf")]


def settings_retries() -> int:
    from django.conf import settings

    return settings.EVIDENCE_PACK_PART_RETRIES
