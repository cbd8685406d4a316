"""Packs rendered in parts: planning, the merged PDF, failures, cancelling, the reaper, progress."""

from __future__ import annotations

import json
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from aims.models import OutboxMessage
from aims.roles import Role
from audits.models import EvidencePack, EvidencePackPart
from audits.packs import parts, services
from tests.audits.packs.pdf_checks import check_numbering, check_outline_and_links, check_pdfa
from tests.audits.packs.test_services import request_pack

PartStatus = EvidencePackPart.Status


def planned_pack(acme, bob, settings, **options) -> EvidencePack:
    """A pack claimed and planned as with workers: its first parts wait in the outbox."""
    with TestCase.captureOnCommitCallbacks(execute=False):
        pack, _ = services.evidence_pack_request(organization=acme, acting_user=bob, **options)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with TestCase.captureOnCommitCallbacks(execute=False):
        services.evidence_pack_generate(pack.pk)
    pack.refresh_from_db()
    return pack


def test_a_pack_is_planned_as_parts_with_the_inventory_in_chunks(acme, bob, inventory, settings):
    settings.EVIDENCE_PACK_INVENTORY_CHUNK = 2
    pack = planned_pack(acme, bob, settings, sections=["scope", "inventory", "history", "evidence"])
    rows = list(pack.parts.order_by("index").values_list("key", "phase", "status", "params"))
    keys = [row[0] for row in rows]
    # The attached change history is written by a part of its own, sent to the workers first.
    assert keys == [
        "front", "data:history", "section:scope", "inventory:1", "inventory:2", "history:1", "section:evidence",
    ]  # fmt: skip
    assert [row[1] for row in rows] == [2, 0, 0, 0, 0, 0, 1]
    assert rows[3][3]["system_ids"] == [s.pk for s in inventory[:2]] and rows[4][3]["system_ids"] == [inventory[2].pk]
    assert all(row[2] == PartStatus.QUEUED for row in rows)
    assert pack.status == EvidencePack.Status.RUNNING and pack.attempts == 1
    # Only the first phase goes to the workers; the evidence index and the cover wait for it.
    sent = [
        args[0]
        for args in OutboxMessage.objects.filter(task=parts.PART_TASK).order_by("pk").values_list("args", flat=True)
    ]
    assert sorted(sent) == sorted(pack.parts.filter(phase=0).values_list("pk", flat=True))
    # The long parts are sent first, the short sections fill in after them.
    key_of = dict(pack.parts.values_list("pk", "key"))
    assert [key_of[pk] for pk in sent] == ["data:history", "inventory:1", "inventory:2", "history:1", "section:scope"]


def test_a_long_inventory_summary_is_split_over_parts_of_its_own(acme, bob, inventory, settings):
    settings.EVIDENCE_PACK_INVENTORY_CHUNK = 2
    settings.EVIDENCE_PACK_SUMMARY_CHUNK = 2
    pack = planned_pack(acme, bob, settings, sections=["inventory"])
    params = list(pack.parts.filter(key__startswith="inventory:").order_by("index").values_list("params", flat=True))
    # Three systems: two slices of the summary table, then the detail pages in two chunks.
    assert [(p.get("with_summary"), p.get("summary_offset"), p["system_ids"]) for p in params] == [
        (True, 0, []),
        (True, 2, []),
        (None, None, [s.pk for s in inventory[:2]]),
        (None, None, [inventory[2].pk]),
    ]


def test_a_split_summary_lists_every_system_once_and_is_introduced_once(acme, bob, inventory, settings):
    settings.EVIDENCE_PACK_SUMMARY_CHUNK = 2
    pack, _ = request_pack(acme, bob, sections=["inventory"])
    assert pack.status == EvidencePack.Status.SUCCEEDED, pack.error
    text = " ".join(
        page.extract_text() for page in PdfReader(BytesIO(default_storage.open(pack.file.name).read())).pages
    )
    assert text.count("Every AI system in scope, 3 in all") == 1
    assert all(text.count(system.name) >= 1 for system in inventory)
    worker = pack.parts.filter(key="inventory:2").values_list("worker", flat=True).get()
    assert worker.rsplit(":", 1)[1].isdigit()  # host and process id: which process rendered it


def test_the_merged_pack_has_true_page_numbers_an_outline_and_is_pdfa(acme, bob, inventory, risk_register, settings):
    settings.EVIDENCE_PACK_INVENTORY_CHUNK = 1
    pack, _ = request_pack(acme, bob)
    assert pack.status == EvidencePack.Status.SUCCEEDED, pack.error
    assert pack.parts.filter(key__startswith="inventory:").count() == len(inventory)
    assert set(pack.parts.values_list("status", flat=True)) == {PartStatus.SUCCEEDED}
    assert sum(pack.parts.values_list("page_count", flat=True)) == pack.page_count
    content = default_storage.open(pack.file.name).read()
    starts = check_numbering(content, pack)
    check_outline_and_links(content, pack, starts)
    check_pdfa(content)
    assert services.evidence_pack_verify(pack).ok
    # Part files are gone once merged.
    assert not Path(default_storage.path(parts.parts_dir(pack))).exists()


def test_attachments_of_the_sections_and_evidence_files_are_embedded_and_verify(acme, bob, olivia, monkeypatch):
    import hashlib

    from django.core.files.base import ContentFile

    from audits.packs import sections
    from controls.models import Evidence, EvidenceVersion

    original = sections.COLLECTORS["readiness"]

    def with_export(pack):
        result = original(pack)
        result.attachments = [("readiness.csv", b"control,status\nA.2.2,implemented\n")]
        return result

    monkeypatch.setitem(sections.COLLECTORS, "readiness", with_export)
    data = b"%PDF-1.4\n% policy\n"
    evidence = Evidence.objects.create(organization=acme, title="AI policy", kind="file", owner=olivia)
    version = EvidenceVersion(organization=acme, evidence=evidence, number=1, original_name="policy.pdf",
                              sha256=hashlib.sha256(data).hexdigest(), size=len(data))  # fmt: skip
    version.file.save("policy.pdf", ContentFile(data), save=True)
    pack, _ = request_pack(acme, bob, sections=["readiness", "evidence"], include_files=True)
    assert pack.status == EvidencePack.Status.SUCCEEDED, pack.error
    content = default_storage.open(pack.file.name).read()
    pdf = check_pdfa(content)
    assert pdf.attachments["readiness.csv"].get_file().read_bytes() == b"control,status\nA.2.2,implemented\n"
    reader = PdfReader(BytesIO(content))
    manifest = json.loads(reader.attachments["manifest.json"][0])
    [entry] = manifest["files"]
    assert reader.attachments[entry["name"]][0] == data and entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert services.evidence_pack_verify(pack).ok


def test_a_part_that_fails_fails_the_pack_saying_which_part_and_leaves_no_file(acme, bob, monkeypatch):
    from audits.packs import sections

    def broken(pack):
        raise ValueError("no criteria")

    monkeypatch.setitem(sections.COLLECTORS, "risk_criteria", broken)
    pack, _ = request_pack(acme, bob, sections=["scope", "risk_criteria", "readiness"])
    assert pack.status == EvidencePack.Status.FAILED and not pack.file
    assert pack.error.startswith("Risk criteria (clause 6.1.2): ValueError: no criteria")
    failed = pack.parts.get(key="section:risk_criteria")
    assert failed.status == PartStatus.FAILED and "no criteria" in failed.error
    assert not pack.parts.filter(status__in=[PartStatus.QUEUED, PartStatus.RUNNING]).exists()
    assert not [p for p in Path(default_storage.path("")).rglob("*") if p.is_file()]


def test_parts_render_anywhere_and_the_last_one_sends_the_next_phase_then_the_merge(acme, bob, settings):
    pack = planned_pack(acme, bob, settings, sections=["scope", "readiness", "evidence"])
    first = list(pack.parts.filter(phase=0).order_by("index"))
    with TestCase.captureOnCommitCallbacks(execute=False):
        services.evidence_pack_part_render(first[0].pk)
    pack.refresh_from_db()
    # Progress is aggregated over the parts.
    assert 5 < pack.progress < 90 and pack.current_step == "Rendered 1 of 4 parts"
    assert not OutboxMessage.objects.filter(task=parts.MERGE_TASK).exists()
    assert services.evidence_pack_part_render(first[0].pk) is None  # a redelivery does nothing
    with TestCase.captureOnCommitCallbacks(execute=False):
        services.evidence_pack_part_render(first[1].pk)
    evidence = pack.parts.get(key=parts.EVIDENCE)
    assert OutboxMessage.objects.filter(task=parts.PART_TASK, args=[evidence.pk]).exists()
    with TestCase.captureOnCommitCallbacks(execute=False):
        services.evidence_pack_part_render(evidence.pk)
    front = pack.parts.get(key=parts.FRONT)
    with TestCase.captureOnCommitCallbacks(execute=False):
        rendered = services.evidence_pack_part_render(front.pk)
    assert rendered.worker and rendered.page_count and rendered.peak_rss_mb and rendered.finished_at
    assert OutboxMessage.objects.filter(task=parts.MERGE_TASK, args=[pack.pk]).exists()
    merged = services.evidence_pack_merge(pack.pk)
    assert merged.status == EvidencePack.Status.SUCCEEDED and merged.progress == 100
    assert services.evidence_pack_merge(pack.pk) is None  # merged once
    check_numbering(default_storage.open(merged.file.name).read(), merged)


def test_a_cancelled_pack_renders_no_more_parts_and_gets_no_file(acme, bob, settings):
    pack = planned_pack(acme, bob, settings, sections=["scope", "readiness"])
    first = list(pack.parts.filter(phase=0).order_by("index"))
    with TestCase.captureOnCommitCallbacks(execute=False):
        services.evidence_pack_part_render(first[0].pk)
    assert list(Path(default_storage.path(parts.parts_dir(pack))).glob("*.pdf"))
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.evidence_pack_cancel(pack=pack, acting_user=bob)
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.CANCELLED
    assert services.evidence_pack_part_render(first[1].pk) is None
    assert services.evidence_pack_merge(pack.pk) is None
    assert not pack.file and not Path(default_storage.path(parts.parts_dir(pack))).exists()
    assert set(pack.parts.exclude(pk=first[0].pk).values_list("status", flat=True)) == {PartStatus.CANCELLED}
    with pytest.raises(services.ValidationError):
        services.evidence_pack_cancel(pack=pack, acting_user=bob)


def test_the_reaper_requeues_a_part_whose_worker_died_then_fails_the_pack(acme, bob, settings):
    settings.EVIDENCE_PACK_MAX_ATTEMPTS = 2
    pack = planned_pack(acme, bob, settings, sections=["scope", "readiness"])
    part = pack.parts.filter(phase=0).first()
    stale = timezone.now() - services.stale_after() * 2
    EvidencePackPart.objects.filter(pk=part.pk).update(status=PartStatus.RUNNING, heartbeat_at=stale, attempts=1)
    with TestCase.captureOnCommitCallbacks(execute=False):
        assert services.evidence_packs_recover_stale() == 1
    part.refresh_from_db()
    assert part.status == PartStatus.QUEUED
    assert OutboxMessage.objects.filter(task=parts.PART_TASK, args=[part.pk]).count() == 2
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.RUNNING  # the pack is not planned again meanwhile
    EvidencePackPart.objects.filter(pk=part.pk).update(status=PartStatus.RUNNING, heartbeat_at=stale, attempts=2)
    EvidencePack.objects.filter(pk=pack.pk).update(heartbeat_at=stale)
    assert services.evidence_packs_recover_stale() == 1
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.FAILED and not pack.file
    assert "worker stopped while rendering this part, 2 times" in pack.error and part.label in pack.error
    # A part stuck in the queue is not the pack's worker dying: the pack stays failed, never succeeded.
    assert services.evidence_pack_merge(pack.pk) is None


def test_a_part_waiting_for_a_worker_keeps_the_pack_from_being_planned_again(acme, bob, settings):
    pack = planned_pack(acme, bob, settings, sections=["scope"])
    EvidencePack.objects.filter(pk=pack.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert services.evidence_packs_recover_stale() == 0
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.RUNNING


def test_expiry_removes_part_files_left_behind(acme, bob, settings):
    pack = planned_pack(acme, bob, settings, sections=["scope", "readiness"])
    with TestCase.captureOnCommitCallbacks(execute=False):
        services.evidence_pack_part_render(pack.parts.filter(phase=0).first().pk)
    EvidencePack.objects.filter(pk=pack.pk).update(status="succeeded", finished_at=timezone.now() - timedelta(days=400))
    assert services.evidence_packs_expire() == 1
    assert not Path(default_storage.path(parts.parts_dir(pack))).exists()


# --- Cancel through the API and the page ------------------------------------------------------


def queued_pack(org, user) -> EvidencePack:
    with TestCase.captureOnCommitCallbacks(execute=False):
        pack, _ = services.evidence_pack_request(organization=org, acting_user=user, sections=["scope"])
    return pack


def test_api_cancel_for_the_requester_or_an_officer(api_for, acme, bob, olivia, globex, charlie):
    pack = queued_pack(acme, bob)
    other_auditor = api_for(acme, role=Role.AUDITOR)
    url = reverse("evidencepack-cancel", args=[pack.pk])
    assert other_auditor.post(url).status_code == 403
    assert api_for(globex, role=Role.ADMIN, created_by=charlie).post(url).status_code == 404
    mine = api_for(acme, role=Role.AUDITOR, created_by=bob)
    response = mine.post(url)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = mine.post(url)
    assert again.status_code == 400 and "status" in again.json()["errors"]
    officer_pack = queued_pack(acme, bob)
    officer = api_for(acme, role=Role.OFFICER)
    assert officer.post(reverse("evidencepack-cancel", args=[officer_pack.pk])).status_code == 200
    detail = officer.get(reverse("evidencepack-detail", args=[officer_pack.pk])).json()
    assert detail["status"] == "cancelled" and detail["parts"] == []


def test_cancel_button_on_the_detail_page(login, acme, bob):
    pack = queued_pack(acme, bob)
    client = login(bob)
    page = client.get(reverse("packs:detail", args=[pack.pk]))
    assert reverse("packs:cancel", args=[pack.pk]) in page.content.decode()
    response = client.post(reverse("packs:cancel", args=[pack.pk]))
    assert response.status_code == 302
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.CANCELLED
    progress = client.get(reverse("packs:progress", args=[pack.pk])).content.decode()
    assert "Cancelled" in progress and "hx-get" not in progress
