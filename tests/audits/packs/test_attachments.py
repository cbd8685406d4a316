"""The data files embedded in a pack (risk register, SoA, change history, evidence index) and the summaries."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta
from pathlib import Path

from django.core.files.storage import default_storage
from django.test import TestCase
from django.utils import timezone

from audits.models import EvidencePack, PackDetail
from audits.packs import render, sections, services
from controls.models import Requirement
from tests.audits.conftest import pdf_text

DATA_FILES = {
    "risk-register",
    "risk-treatments",
    "statement-of-applicability",
    "change-history",
    "evidence-index",
}


def request_pack(org, user, **options):
    with TestCase.captureOnCommitCallbacks(execute=True):
        pack, _ = services.evidence_pack_request(organization=org, acting_user=user, **options)
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.SUCCEEDED, pack.error
    reader, text = pdf_text(default_storage.open(pack.file.name).read())
    return pack, reader, text


def csv_rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_the_full_registers_are_attached_as_csv_and_json_and_listed_with_their_hashes(
    acme, bob, inventory, risk_register
):
    pack, reader, text = request_pack(acme, bob)
    manifest = json.loads(reader.attachments["manifest.json"][0])
    listed = {entry["name"]: entry for entry in manifest["data_files"]}
    assert set(listed) == {f"{name}.{kind}" for name in DATA_FILES for kind in ("csv", "json")}
    assert manifest["files"] == []  # no evidence file was asked for
    compact = text.replace(" ", "")
    for name, entry in listed.items():
        content = reader.attachments[name][0]
        assert hashlib.sha256(content).hexdigest() == entry["sha256"] and len(content) == entry["size"]
        assert entry["sha256"] in compact, name  # in the evidence index
        rows = csv_rows(content) if name.endswith(".csv") else json.loads(content)
        assert len(rows) == entry["rows"], name
    risks = csv_rows(reader.attachments["risk-register.csv"][0])
    assert [r["ref_code"] for r in risks] == sorted(r.ref_code for r in risk_register)
    assert risks[0]["system"] == inventory[0].ref_code and risks[0]["inherent_level"]
    [treatment] = json.loads(reader.attachments["risk-treatments.json"][0])
    assert treatment["title"] == "Quarterly bias tests" and treatment["controls"] == "A.6.2.4 A.7.4"
    soa = csv_rows(reader.attachments["statement-of-applicability.csv"][0])
    assert len(soa) == Requirement.objects.of_framework("ISO42001").controls().count() == 38
    relied = {r["control"]: r for r in soa}["A.6.2.4"]
    assert relied["risks_relying"] == "1" and relied["risk_refs"] == risk_register[0].ref_code
    history = json.loads(reader.attachments["change-history.json"][0])
    assert any(risk_register[0].ref_code in h["record"] and h["action"] == "created" for h in history), history[:3]
    index = csv_rows(reader.attachments["evidence-index.csv"][0])
    assert len(index) == len(manifest["records"])
    assert {(r["type"], int(r["id"]), r["sha256"]) for r in index} == {
        (r["type"], r["id"], r["sha256"]) for r in manifest["records"]
    }
    # The CSV is UTF-8 with its header row.
    assert reader.attachments["risk-register.csv"][0].startswith(b"ref_code,title,description,system")
    assert services.evidence_pack_verify(pack).ok


def test_verification_notices_an_altered_data_file(acme, bob, inventory, risk_register):
    pack, reader, _ = request_pack(acme, bob, sections=["risks"])
    assert services.evidence_pack_verify(pack).ok
    manifest = json.loads(reader.attachments["manifest.json"][0])
    # The same PDF rewritten with one edited row in the attached register, its file hash recorded anew.
    files = [(name, reader.attachments[name][0]) for name in reader.attachments if name != "manifest.json"]
    files = [(name, data.replace(b"Bias against", b"Bias for") if name == "risk-register.csv" else data)
             for name, data in files]  # fmt: skip
    path = Path(default_storage.path(pack.file.name))
    render.write_pdf(render.layout("<p>Rewritten</p>"), manifest, path, attachments=files)
    EvidencePack.objects.filter(pk=pack.pk).update(sha256=render.file_sha256(path), size=path.stat().st_size)
    pack.refresh_from_db()
    report = services.evidence_pack_verify(pack)
    assert not report.ok and report.file_sha256_matches
    assert report.problems == ["File risk-register.csv does not match its SHA-256."]


def test_only_the_chosen_sections_bring_their_data_files(acme, bob, inventory):
    _, reader, _ = request_pack(acme, bob, sections=["controls"])
    assert set(reader.attachments) == {
        "manifest.json",
        "statement-of-applicability.csv",
        "statement-of-applicability.json",
    }


def test_the_risk_summary_shows_counts_the_worst_risks_and_everything_overdue(
    acme, bob, olivia, inventory, risk_register, monkeypatch
):
    from risk import services as risk_services
    from tests.risk.factories import TreatmentActionFactory

    late = risk_register[1]
    late.next_review_date = timezone.localdate() - timedelta(days=10)
    risk_services.risk_save(instance=late, acting_user=olivia)
    TreatmentActionFactory(risk=late, title="Retrain monthly", due_date=timezone.localdate() - timedelta(days=3))
    # A big register: the risks are summarised, not printed one by one.
    monkeypatch.setattr(sections, "RISK_DETAIL_LIMIT", 1)
    _, _, text = request_pack(acme, bob, sections=["risks"])
    assert "2 risks in the register, 2 open" in text
    assert "OPEN RISKS BY CURRENT LEVEL" in text and "ALL RISKS BY STATUS" in text  # table headers, in capitals
    worst = text.split("The worst open risks")[1].split("Treatments past their due date")[0]
    # The worse risk comes first.
    assert worst.index(risk_register[0].ref_code) < worst.index(risk_register[1].ref_code)
    overdue = text.split("Treatments past their due date")[1]
    assert "Retrain monthly" in overdue and "1 treatment planned or in progress after its due date" in overdue
    assert "1 open risk past its review date" in overdue
    assert "Each risk and its treatments" not in text and "more than 1" in text


def test_the_history_summary_counts_changes_by_record_type_and_user(acme, bob, olivia, inventory):
    _, _, text = request_pack(acme, bob, sections=["history"])
    # Table headers print in capitals.
    by_type = text.split("CHANGES BY RECORD TYPE")[1].split("CHANGES BY USER")[0]
    assert f"AI system {len(inventory)}" in by_type
    by_user = text.split("CHANGES BY USER")[1].split("The most recent changes")[0]
    # Spaces removed: text extraction sometimes splits a name's first letter off.
    assert olivia.display_name.replace(" ", "") in by_user.replace(" ", "")


def test_the_evidence_index_counts_records_by_type(acme, bob, inventory):
    _, _, text = request_pack(acme, bob, sections=["inventory", "evidence"], detail=PackDetail.NONE)
    records = text.split("RECORDS BY TYPE")[1]
    assert f"registry.AISystem {len(inventory)}" in records


def test_the_attached_history_is_read_in_pages_that_add_up_to_the_whole_history(acme, inventory, risk_register):
    from aims.history import organization_history, organization_history_pages

    end = timezone.now() + timedelta(minutes=1)
    start = end - timedelta(days=30)
    whole = organization_history(acme, start, end, limit=1000)
    pages = list(organization_history_pages(acme, start, end, limit=1000, page_size=3))
    assert len(whole) > 6 and len(pages) == -(-len(whole) // 3)
    paged = [entry for page in pages for entry in page]
    assert [(e.model, e.label, e.when, e.action) for e in paged] == [
        (e.model, e.label, e.when, e.action) for e in whole
    ]
    # The limit holds across pages.
    assert sum(len(p) for p in organization_history_pages(acme, start, end, limit=5, page_size=3)) == 5
