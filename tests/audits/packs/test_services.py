"""Evidence pack generation: content, integrity, deduplication, failures and housekeeping."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from celery.exceptions import Retry
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import OperationalError
from django.template import TemplateSyntaxError
from django.test import TestCase
from django.utils import timezone

from aims.models import OutboxMessage
from audits.models import EvidencePack
from audits.packs import render, services
from controls.models import Requirement
from tests.audits.conftest import pdf_text


def request_pack(org, user, **options):
    """Request a pack and run the task that its commit enqueues (Celery is eager in tests)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        pack, created = services.evidence_pack_request(organization=org, acting_user=user, **options)
    pack.refresh_from_db()
    return pack, created


def test_a_pack_holds_every_control_and_system_and_its_manifest_matches(acme, bob, inventory, risk_register):
    pack, created = request_pack(acme, bob)
    assert created and pack.status == EvidencePack.Status.SUCCEEDED, pack.error
    assert pack.progress == 100 and pack.finished_at and pack.requested_by == bob
    content = default_storage.open(pack.file.name).read()
    assert render.hashlib.sha256(content).hexdigest() == pack.sha256 and len(content) == pack.size
    reader, text = pdf_text(content)
    assert len(reader.pages) == pack.page_count
    assert 20 <= pack.page_count <= 80
    for ref in Requirement.objects.of_framework("ISO42001").controls().values_list("ref", flat=True):
        assert ref in text, ref
    for system in inventory:
        assert system.ref_code in text
    for risk in risk_register:
        assert risk.ref_code in text
    assert "Quarterly bias tests" in text and "Risk criteria" in text and "impact assessment v1" in text
    assert "Acme Health AI" in text and str(pack.uid) in text and "Page 2 of" in text
    manifest = json.loads(reader.attachments["manifest.json"][0])
    assert manifest["pack_id"] == str(pack.uid)
    assert {r["label"] for r in manifest["records"] if r["type"] == "registry.AISystem"} == {str(s) for s in inventory}
    report = services.evidence_pack_verify(pack)
    assert report.ok and report.file_sha256_matches and report.records_checked == len(manifest["records"])
    # PDF/A-3b: the output intent and the XMP metadata that claim it.
    root = reader.trailer["/Root"]
    assert root["/OutputIntents"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp


def test_a_system_pack_covers_that_system_only(acme, bob, inventory):
    # The readiness and crosswalk sections describe the whole organisation, so they are left out here.
    pack, _ = request_pack(acme, bob, scope="system", system=inventory[0], sections=["inventory", "risks", "impact"])
    _, text = pdf_text(default_storage.open(pack.file.name).read())
    assert inventory[0].ref_code in text and inventory[1].ref_code not in text


def test_the_same_pack_is_not_started_twice_while_it_runs(acme, bob, inventory, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first, created = services.evidence_pack_request(organization=acme, acting_user=bob)
        second, created_again = services.evidence_pack_request(organization=acme, acting_user=bob)
    assert created and not created_again and first.pk == second.pk
    # One task in the outbox; the second request's callback only sends what is still pending.
    assert EvidencePack.objects.count() == 1
    assert OutboxMessage.objects.filter(task="audits.packs.tasks.generate_evidence_pack", args=[first.pk]).count() == 1
    for callback in callbacks:
        callback()
    first.refresh_from_db()
    assert first.status == EvidencePack.Status.SUCCEEDED and first.attempts == 1
    other, created_other = services.evidence_pack_request(organization=acme, acting_user=bob, sections=["controls"])
    assert created_other and other.pk != first.pk


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"period_start": date(2026, 5, 1), "period_end": date(2026, 4, 1)}, "period_start"),
        ({"period_end": timezone.localdate() + timedelta(days=5)}, "period_end"),
        ({"scope": "system"}, "system"),
        ({"sections": ["bogus"]}, "sections"),
    ],
)
def test_bad_requests_are_refused_with_field_messages(acme, bob, options, field):
    with pytest.raises(ValidationError) as exc:
        services.evidence_pack_request(organization=acme, acting_user=bob, **options)
    assert field in exc.value.message_dict
    assert not EvidencePack.objects.exists()


def test_another_organisations_system_cannot_be_the_scope(acme, bob, globex, charlie):
    from tests.registry.factories import AISystemFactory

    foreign = AISystemFactory(organization=globex, owner=charlie)
    with pytest.raises(ValidationError) as exc:
        services.evidence_pack_request(organization=acme, acting_user=bob, scope="system", system=foreign)
    assert "system" in exc.value.message_dict


def test_a_broken_template_fails_the_pack_with_a_readable_error_and_no_file(acme, bob, monkeypatch, private_storage):
    def broken(template_name, context):
        raise TemplateSyntaxError("Invalid block tag on line 3: 'endfor'")

    monkeypatch.setattr(render, "render_to_string", broken)
    pack, _ = request_pack(acme, bob)
    assert pack.status == EvidencePack.Status.FAILED
    assert "TemplateSyntaxError: Invalid block tag on line 3" in pack.error
    assert not pack.file and not pack.sha256
    assert not list(Path(private_storage).rglob("*.pdf"))


def test_a_worker_killed_mid_write_never_leaves_a_successful_pack(acme, bob, monkeypatch, private_storage):
    with pytest.MonkeyPatch.context() as patch:
        # The process dies just before the file is moved into place.
        patch.setattr(render.os, "replace", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
        with pytest.raises(KeyboardInterrupt):
            request_pack(acme, bob)
    pack = EvidencePack.objects.get()
    assert pack.status == EvidencePack.Status.RUNNING and not pack.file and not pack.sha256
    assert not list(Path(private_storage).rglob("*.pdf"))
    # Nobody can claim it while its heartbeat is fresh; once stale, the reaper queues it again...
    assert services.evidence_packs_recover_stale() == 0
    EvidencePack.objects.filter(pk=pack.pk).update(heartbeat_at=timezone.now() - services.stale_after() * 2)
    assert services.evidence_packs_recover_stale() == 1
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.QUEUED and pack.current_step == services.REQUEUED_STEP
    assert OutboxMessage.objects.filter(task=services.PACK_TASK, args=[pack.pk], dispatched_at__isnull=True).exists()
    # ...and the next delivery builds it completely.
    assert services.evidence_pack_generate(pack.pk).status == EvidencePack.Status.SUCCEEDED


def test_a_redelivered_task_takes_over_an_abandoned_pack(acme, bob, inventory, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        pack, _ = services.evidence_pack_request(organization=acme, acting_user=bob)
    EvidencePack.objects.filter(pk=pack.pk).update(
        status="running", heartbeat_at=timezone.now() - services.stale_after() * 2
    )
    assert services.evidence_pack_generate(pack.pk).status == EvidencePack.Status.SUCCEEDED
    assert services.evidence_pack_generate(pack.pk) is None  # finished packs are never redone


def test_a_lost_database_connection_puts_the_pack_back_for_a_retry(acme, bob, monkeypatch):
    def lost(pack):
        raise OperationalError("server closed the connection unexpectedly")

    from audits.packs import sections

    monkeypatch.setitem(sections.COLLECTORS, "scope", lost)
    with pytest.raises((OperationalError, Retry)):
        request_pack(acme, bob)
    assert EvidencePack.objects.get().status == EvidencePack.Status.QUEUED


def test_verification_reports_changed_records_and_altered_files(acme, bob, olivia, inventory):
    pack, _ = request_pack(acme, bob)
    system = inventory[1]
    system.name = "Renamed after the pack"
    from registry.services import inventory_record_save

    inventory_record_save(instance=system, acting_user=olivia)
    report = services.evidence_pack_verify(pack)
    assert not report.ok and report.file_sha256_matches
    assert any("has changed since the pack was generated" in p for p in report.problems)
    path = Path(default_storage.path(pack.file.name))
    path.write_bytes(path.read_bytes() + b"\n% tampered")
    report = services.evidence_pack_verify(pack)
    assert report.file_sha256_matches is False


def test_verify_command(acme, bob, inventory, capsys):
    pack, _ = request_pack(acme, bob)
    call_command("verify_evidence_pack", str(pack.uid))
    assert "all" in capsys.readouterr().out
    Path(default_storage.path(pack.file.name)).write_bytes(b"%PDF-1.7 not the pack")
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("verify_evidence_pack", str(pack.uid))


def test_old_packs_expire_but_their_record_stays(acme, bob, inventory):
    pack, _ = request_pack(acme, bob)
    name = pack.file.name
    assert services.evidence_packs_expire(older_than_days=30) == 0
    EvidencePack.objects.filter(pk=pack.pk).update(finished_at=timezone.now() - timedelta(days=31))
    assert services.evidence_packs_expire(older_than_days=30) == 1
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.EXPIRED and not pack.file
    assert not default_storage.exists(name)
    assert pack.history.filter(status="expired").exists()


def test_history_of_the_period_is_in_the_pack(acme, bob, olivia, inventory):
    pack, _ = request_pack(acme, bob, sections=["history"])
    _, text = pdf_text(default_storage.open(pack.file.name).read())
    assert "System 1" in text and "Created" in text
    old, _ = request_pack(acme, bob, sections=["history"], period_start=date(2020, 1, 1), period_end=date(2020, 12, 31))
    _, old_text = pdf_text(default_storage.open(old.file.name).read())
    assert "No change was recorded in this period." in old_text


def test_soa_crosswalk_and_readiness_sections(acme, bob, olivia, inventory):
    from controls.soa import selectors
    from controls.soa import services as soa

    for row in selectors.soa_rows(acme):
        row.applicable, row.justification = True, f"Justified {row.control.ref}."
        soa.soa_row_update(statement=row, acting_user=olivia)
    pack, _ = request_pack(acme, bob, sections=["controls", "crosswalk", "readiness"])
    _, text = pdf_text(default_storage.open(pack.file.name).read())
    assert "Statement of Applicability (Annex A controls)" in text and "38 Annex A controls: 38 applicable" in text
    assert "Justified A.10.4." in text
    assert "Crosswalk coverage" in text and "GOVERN 1.1" in text and "Art. 12" in text
    assert "Readiness summary" in text and "Overall readiness" in text


def test_evidence_files_are_attached_with_their_hashes(acme, bob, olivia, inventory):
    import hashlib

    from django.core.files.base import ContentFile

    from controls.models import Evidence, EvidenceLink, EvidenceVersion

    content = b"%PDF-1.4\n% AI policy v2\n"
    evidence = Evidence.objects.create(organization=acme, title="AI policy", kind="file", owner=olivia)
    version = EvidenceVersion(organization=acme, evidence=evidence, number=1, original_name="ai-policy.pdf",
                              sha256=hashlib.sha256(content).hexdigest(), size=len(content))  # fmt: skip
    version.file.save("ai-policy.pdf", ContentFile(content), save=True)
    EvidenceLink.objects.create(
        organization=acme, evidence=evidence, target="control", control=Requirement.objects.get(ref="A.2.2")
    )
    pack, _ = request_pack(acme, bob, sections=["controls", "evidence"], include_files=True)
    assert pack.status == EvidencePack.Status.SUCCEEDED, pack.error
    reader, text = pdf_text(default_storage.open(pack.file.name).read())
    manifest = json.loads(reader.attachments["manifest.json"][0])
    [entry] = manifest["files"]
    assert entry["sha256"] == hashlib.sha256(content).hexdigest() and entry["size"] == len(content)
    assert reader.attachments[entry["name"]][0] == content
    assert entry["sha256"] in text.replace(" ", "")  # listed in the evidence index
    assert services.evidence_pack_verify(pack).ok
    # The stored evidence is altered after the pack: verification says so.
    Path(default_storage.path(version.file.name)).write_bytes(b"%PDF-1.4\n% something else\n")
    report = services.evidence_pack_verify(pack)
    assert not report.ok and any("differs from the one in the pack" in p for p in report.problems)


CLAUSE_HEADINGS = [
    "Context of the organisation and AIMS scope (clause 4)",
    "Leadership: AI policy, roles and reporting of concerns (clause 5",
    "AI objectives (clause 6.2)",
    "Competence and awareness (clauses 7.2, 7.3)",
    "AI system inventory (clause 8",
    "Internal audits (clause 9.2)",
    "Management reviews (clause 9.3)",
    "Corrective actions and AI incidents (clause 10",
    "Statement of Applicability (Annex A controls)",
]


def test_the_demo_organisations_pack_has_a_section_for_each_clause_and_annex_a(db):
    from aims.demo import demo_seed
    from aims.models import Organization, User

    demo_seed()
    organization = Organization.objects.get(slug="acme-health-ai")
    pack, _ = request_pack(organization, User.objects.get(email="auditor@demo.example"))
    assert pack.status == EvidencePack.Status.SUCCEEDED, pack.error
    reader, text = pdf_text(default_storage.open(pack.file.name).read())
    for heading in CLAUSE_HEADINGS:
        assert heading in text, heading
    # The records behind those sections are there, not only their headings.
    for phrase in ["AI policy", "Works council", "Impact assessments for every high-risk AI system", "AUD-",
                   "Hallucinated", "Version 1 of the Statement of Applicability was approved"]:  # fmt: skip
        assert phrase in text, phrase
    assert services.evidence_pack_verify(pack).ok


def test_an_audit_pack_holds_the_audit_its_checklist_findings_and_actions(db):
    from aims.demo import demo_seed
    from aims.models import Organization, User
    from audits.models import Audit

    demo_seed()
    organization = Organization.objects.get(slug="acme-health-ai")
    audit = Audit.objects.for_org(organization).filter(status=Audit.Status.CLOSED).first()
    pack, _ = request_pack(organization, User.objects.get(email="auditor@demo.example"), scope="audit", audit=audit)
    assert pack.status == EvidencePack.Status.SUCCEEDED, pack.error
    assert sorted(pack.sections) == ["audit", "evidence"]
    _, text = pdf_text(default_storage.open(pack.file.name).read())
    assert audit.ref_code in text and audit.title in text and "Checklist" in text
    for finding in audit.findings.all():
        assert finding.ref_code in text
        for action in finding.corrective_actions.all():
            assert action.ref_code in text
    assert "Statement of Applicability" not in text


def test_an_audit_pack_needs_an_audit_of_the_organisation(acme, bob, globex, charlie):
    with pytest.raises(ValidationError) as exc:
        services.evidence_pack_request(organization=acme, acting_user=bob, scope="audit")
    assert "audit" in exc.value.message_dict


def test_verify_command_takes_the_id_or_the_uuid(acme, bob, inventory, capsys):
    from django.core.management import CommandError

    pack, _ = request_pack(acme, bob)
    call_command("verify_evidence_pack", str(pack.pk))
    assert f"Pack {pack.pk}: the file's SHA-256 matches" in capsys.readouterr().out
    call_command("verify_evidence_pack", str(pack.uid).upper())
    assert "matches" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No evidence pack with id 999999"):
        call_command("verify_evidence_pack", "999999")
    with pytest.raises(CommandError, match="No evidence pack with id"):
        call_command("verify_evidence_pack", "00000000-0000-0000-0000-000000000000")
    for junk in ("pack-one", "99999999999999999999999", "12\x0034"):
        with pytest.raises(CommandError, match="neither a pack id"):
            call_command("verify_evidence_pack", junk)
