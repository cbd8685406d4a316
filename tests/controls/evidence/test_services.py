"""Evidence: upload checks, stored names, hashes, versions, links, pages, roles, tenancy and downloads."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aims.files import MAX_NAME_LENGTH, filename_sanitise, upload_inspect
from aims.roles import Role
from controls.evidence import selectors, services
from controls.models import Evidence, EvidenceLink, EvidenceVersion, Requirement
from tests.aims.factories import MembershipFactory
from tests.controls.factories import PDF, FileEvidenceFactory, NoteEvidenceFactory, link_targets, upload
from tests.registry.factories import AISystemFactory

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    + b"\x00" * 32
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"This program cannot be run"


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Each test stores evidence in its own private directory, never in the repository."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return tmp_path


def office_file(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            # A fixed timestamp keeps the bytes (and the test ids built from them) the same in every
            # process, as parallel test workers require.
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


DOCX = office_file(
    {"[Content_Types].xml": b"<Types/>", "_rels/.rels": b"<Relationships/>", "word/document.xml": b"<w:document/>"}
)


ODT = office_file({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office:document/>"})
ODS = office_file({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<office:document/>"})


def xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    buffer = io.BytesIO()
    book = Workbook()
    book.active["A1"] = "Bias test results"
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def dana(acme):
    """An AI system owner in Acme."""
    return MembershipFactory(organization=acme, role=Role.OWNER).user


# --- Upload checks and storage ------------------------------------------------------------------


def test_file_evidence_records_hash_size_type_and_private_path(acme, olivia, private_storage):
    evidence = FileEvidenceFactory(
        organization=acme, acting_user=olivia, valid_until=timezone.localdate() + timedelta(days=365)
    )
    version = evidence.versions.get()
    assert version.number == 1
    assert version.sha256 == hashlib.sha256(PDF).hexdigest()
    assert version.size == len(PDF)
    assert version.content_type == "application/pdf"
    assert version.original_name == "report.pdf"
    assert version.created_by == olivia
    assert re.fullmatch(rf"evidence/{acme.pk}/[0-9a-f]{{32}}/report\.pdf", version.file.name)
    assert (private_storage / version.file.name).read_bytes() == PDF
    assert evidence.history.first().history_user == olivia


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\x.pdf", "x.pdf"),
        ("/var/www/html/index.pdf", "index.pdf"),
        ("C:\\Users\\olivia\\Q3 bias report.PDF", "Q3_bias_report.pdf"),
        ("evil\x00name\x1f.pdf", "evilname.pdf"),
        (".hidden.pdf", "hidden.pdf"),
        ("a..b.pdf", "a.b.pdf"),
        ("<script>.pdf", "script.pdf"),
    ],
)
def test_path_traversal_and_odd_names_end_as_a_safe_base_name(acme, olivia, private_storage, sent, stored):
    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia, name=sent)
    version = evidence.versions.get()
    assert version.original_name == stored
    parts = version.file.name.split("/")
    assert parts[:2] == ["evidence", str(acme.pk)] and len(parts) == 4 and parts[3] == stored
    path = (private_storage / version.file.name).resolve()
    assert path.is_relative_to((private_storage / "evidence" / str(acme.pk)).resolve())
    assert path.read_bytes() == PDF


def test_long_names_are_shortened_and_keep_the_lower_cased_extension():
    name, extension = filename_sanitise("x" * 300 + ".PDF", "evidence")
    assert extension == "pdf" and name.endswith(".pdf") and len(name) <= MAX_NAME_LENGTH


@pytest.mark.parametrize("name", ["..", "noextension", "....", "dir/"])
def test_names_without_a_usable_base_name_are_refused(name):
    with pytest.raises(ValidationError) as exc:
        filename_sanitise(name, "evidence")
    assert "file" in exc.value.message_dict


def test_too_big_file_is_refused_and_nothing_is_saved(acme, olivia, settings, private_storage):
    settings.EVIDENCE_MAX_UPLOAD_MB = 1
    with pytest.raises(ValidationError) as exc:
        FileEvidenceFactory(organization=acme, acting_user=olivia, content=PDF + b"0" * (1024 * 1024))
    assert "at most 1 MB" in exc.value.message_dict["file"][0]
    assert not Evidence.objects.exists()
    assert not list(Path(private_storage).rglob("*.pdf"))


def test_size_limit_is_counted_while_reading_too(settings):
    """A file object that understates its size is still stopped by the bytes actually read."""
    settings.EVIDENCE_MAX_UPLOAD_MB = 1
    lying = upload("big.pdf", PDF + b"0" * (1024 * 1024))
    lying.size = 10
    with pytest.raises(ValidationError, match="larger than 1 MB"):
        upload_inspect(lying, services.evidence_upload_rules())


@pytest.mark.parametrize("name", ["tool.exe", "page.html", "image.svg", "script.js", "archive.tar"])
def test_extensions_outside_the_allowed_list_are_refused(acme, olivia, name):
    with pytest.raises(ValidationError) as exc:
        FileEvidenceFactory(organization=acme, acting_user=olivia, name=name)
    assert "not accepted" in exc.value.message_dict["file"][0]


def test_allowed_list_is_configurable(acme, olivia, settings):
    settings.EVIDENCE_ALLOWED_TYPES = ["pdf"]
    with pytest.raises(ValidationError):
        FileEvidenceFactory(organization=acme, acting_user=olivia, name="chart.png", content=PNG)
    assert (
        FileEvidenceFactory(organization=acme, acting_user=olivia, name="ok.pdf").versions.get().content_type
        == "application/pdf"
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("report.pdf", PNG),  # a PNG named .pdf
        ("report.pdf", EXE),  # an executable named .pdf
        ("chart.png", PDF),
        ("photo.jpg", PNG),
        ("letter.docx", b"Just some text, not a document."),
        ("letter.docx", office_file({"notes.txt": b"a zip, not a Word document"})),
        ("sheet.xlsx", DOCX),  # a Word document named .xlsx
        ("minutes.odt", ODS),  # a spreadsheet named as a text document
        ("minutes.odt", office_file({"mimetype": b"x" * 400, "content.xml": b"<x/>"})),
        ("bundle.zip", EXE),
    ],
)
def test_content_that_does_not_match_the_extension_is_refused(acme, olivia, name, content):
    with pytest.raises(ValidationError) as exc:
        FileEvidenceFactory(organization=acme, acting_user=olivia, name=name, content=content)
    assert "genuine" in exc.value.message_dict["file"][0]
    assert not EvidenceVersion.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("log.txt", b"line one\x00line two", "NUL"),
        ("data.csv", b"caf\xe9;cr\xe8me\n", "UTF-8"),
        ("notes.md", EXE, "NUL"),
    ],
)
def test_text_files_must_be_utf8_without_nul_bytes(acme, olivia, name, content, message):
    with pytest.raises(ValidationError, match=message):
        FileEvidenceFactory(organization=acme, acting_user=olivia, name=name, content=content)


def test_empty_files_are_refused(acme, olivia):
    with pytest.raises(ValidationError, match="empty"):
        FileEvidenceFactory(organization=acme, acting_user=olivia, content=b"")


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("results.csv", b"group;rate\nunder 25;0,61\n", "text/csv; charset=utf-8"),
        ("model-card.md", "# Model card\nGrüße\n".encode(), "text/markdown; charset=utf-8"),
        ("metrics.json", b'{"auc": 0.81}', "application/json; charset=utf-8"),
        ("chart.png", PNG, "image/png"),
        ("procedure.docx", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("bundle.zip", DOCX, "application/zip"),
        ("minutes.odt", ODT, "application/vnd.oasis.opendocument.text"),
    ],
)
def test_genuine_files_are_accepted_with_their_detected_type(acme, olivia, name, content, content_type):
    version = FileEvidenceFactory(organization=acme, acting_user=olivia, name=name, content=content).versions.get()
    assert version.content_type == content_type
    assert version.sha256 == hashlib.sha256(content).hexdigest()


def test_spreadsheets_written_by_office_software_are_accepted(acme, olivia):
    content = xlsx_bytes()
    version = FileEvidenceFactory(
        organization=acme, acting_user=olivia, name="tests.xlsx", content=content
    ).versions.get()
    assert version.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert version.size == len(content)


# --- Kinds, versions, metadata ------------------------------------------------------------------


def test_the_kind_decides_which_content_is_required(acme, olivia):
    with pytest.raises(ValidationError) as exc:
        services.evidence_create(organization=acme, acting_user=olivia, title="No file", kind="file")
    assert "file" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.evidence_create(organization=acme, acting_user=olivia, title="No link", kind="link", note="x")
    assert "url" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.evidence_create(organization=acme, acting_user=olivia, title="No note", kind="note")
    assert "note" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.evidence_create(
            organization=acme, acting_user=olivia, title="Bad link", kind="link", url="javascript:alert(1)"
        )
    assert "url" in exc.value.message_dict
    assert not Evidence.objects.exists()
    link = services.evidence_create(
        organization=acme, acting_user=olivia, title="Jira", kind="link", url="https://jira.example/AIMS-1"
    )
    assert link.versions.get().url == "https://jira.example/AIMS-1"


def test_new_versions_keep_the_old_ones_and_are_numbered(acme, olivia, private_storage):
    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia)
    second = services.evidence_add_version(
        evidence=evidence, acting_user=olivia, upload=upload("report-v2.pdf", PDF + b"% v2\n"), comment="Q2 run"
    )
    third = services.evidence_add_version(
        evidence=evidence, acting_user=olivia, upload=upload("report-v3.pdf", PDF + b"% v3\n")
    )
    versions = list(evidence.versions.order_by("number"))
    assert [v.number for v in versions] == [1, 2, 3]
    assert (second.number, third.number, second.comment) == (2, 3, "Q2 run")
    assert len({v.sha256 for v in versions}) == 3
    assert all((private_storage / v.file.name).exists() for v in versions)
    with pytest.raises(ValidationError) as exc:
        services.evidence_add_version(evidence=evidence, acting_user=olivia, url="https://example.org")
    assert "file" in exc.value.message_dict
    note = NoteEvidenceFactory(organization=acme, acting_user=olivia)
    services.evidence_add_version(evidence=note, acting_user=olivia, note="Reviewed again.")
    assert note.versions.count() == 2


def test_update_checks_dates_and_owner(acme, olivia, alice, charlie):
    evidence = NoteEvidenceFactory(organization=acme, acting_user=olivia)
    today = timezone.localdate()
    services.evidence_update(evidence=evidence, acting_user=alice, title="Minutes", valid_until=today, owner=alice)
    evidence.refresh_from_db()
    assert (evidence.title, evidence.valid_until, evidence.owner) == ("Minutes", today, alice)
    with pytest.raises(ValidationError) as exc:
        services.evidence_update(evidence=evidence, acting_user=alice, valid_until=today - timedelta(days=400))
    assert "valid_until" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.evidence_update(evidence=evidence, acting_user=alice, owner=charlie)
    assert "owner" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.evidence_update(evidence=evidence, acting_user=alice, kind="file")


def test_delete_removes_versions_links_and_files_and_keeps_history(
    acme, olivia, private_storage, django_capture_on_commit_callbacks
):
    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia)
    services.evidence_link(
        evidence=evidence, target="control", obj=Requirement.objects.get(ref="A.6.2.4"), acting_user=olivia
    )
    path = private_storage / evidence.versions.get().file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.evidence_delete(evidence=evidence, acting_user=olivia)
    assert not Evidence.objects.exists() and not EvidenceVersion.objects.exists()
    assert not EvidenceLink.objects.exists()
    assert not path.exists()
    deleted = EvidenceVersion.history.filter(history_type="-").get()
    assert deleted.history_user == olivia and deleted.sha256 == hashlib.sha256(PDF).hexdigest()


# --- Links ------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["control", "system", "risk", "treatment", "assessment"])
def test_links_to_each_kind_of_record(acme, olivia, target):
    obj = link_targets(acme, olivia)[target]
    evidence = NoteEvidenceFactory(organization=acme, acting_user=olivia)
    link = services.evidence_link(evidence=evidence, target=target, obj=obj, acting_user=olivia)
    assert link.target == target and link.target_object == obj
    assert services.evidence_link(evidence=evidence, target=target, obj=obj, acting_user=olivia) == link
    assert evidence.links.count() == 1
    services.evidence_unlink(link=link, acting_user=olivia)
    assert not evidence.links.exists()


@pytest.mark.parametrize("target", ["system", "risk", "treatment", "assessment"])
def test_another_organisations_records_cannot_be_linked(acme, globex, olivia, charlie, target):
    theirs = link_targets(globex, charlie)[target]
    evidence = NoteEvidenceFactory(organization=acme, acting_user=olivia)
    with pytest.raises(ValidationError):
        services.evidence_link(evidence=evidence, target=target, obj=theirs, acting_user=olivia)
    with pytest.raises(ValidationError) as exc:
        selectors.link_target_get(acme, target, theirs.pk)
    assert "in your organisation" in exc.value.message_dict["id"][0]
    assert not EvidenceLink.objects.exists()


def test_only_iso42001_controls_can_be_linked(acme, olivia):
    evidence = NoteEvidenceFactory(organization=acme, acting_user=olivia)
    clause = Requirement.objects.filter(framework__code="ISO42001").exclude(kind="control").first()
    other = Requirement.objects.exclude(framework__code="ISO42001").filter(kind="control").first()
    for requirement in [clause, other]:
        if requirement is None:
            continue
        with pytest.raises(ValidationError):
            services.evidence_link(evidence=evidence, target="control", obj=requirement, acting_user=olivia)
        with pytest.raises(ValidationError):
            selectors.link_target_get(acme, "control", requirement.pk)
    with pytest.raises(ValidationError):
        services.evidence_link(evidence=evidence, target="risk", obj=AISystemFactory(organization=acme),
                               acting_user=olivia)  # fmt: skip
    control = selectors.link_target_get(acme, "control", "A.6.2.4")
    assert control.ref == "A.6.2.4"


# --- Pages ------------------------------------------------------------------------------------


def test_list_filters_by_search_kind_status_control_and_owner(acme, olivia, alice, login):
    today = timezone.localdate()
    valid = FileEvidenceFactory(
        organization=acme, acting_user=olivia, title="Bias test report", valid_until=today + timedelta(days=200)
    )
    expiring = NoteEvidenceFactory(
        organization=acme,
        acting_user=olivia,
        title="Model card review",
        valid_until=today + timedelta(days=5),
        owner=alice,
    )
    expired = NoteEvidenceFactory(organization=acme, acting_user=olivia, title="Old pen test",
                                  description="External pen test of the scoring API",
                                  effective_from=today - timedelta(days=400),
                                  valid_until=today - timedelta(days=1))  # fmt: skip
    services.evidence_link(
        evidence=valid, target="control", obj=Requirement.objects.get(ref="A.6.2.4"), acting_user=olivia
    )
    client = login(alice)

    def titles(**params):
        response = client.get(reverse("evidence:list"), params)
        assert response.status_code == 200
        return [e.title for e in response.context["object_list"]]

    assert titles() == ["Bias test report", "Model card review", "Old pen test"]
    assert titles(q="pen test") == ["Old pen test"]
    assert titles(q="scoring api") == ["Old pen test"]
    assert titles(kind="file") == [valid.title]
    assert titles(status="valid") == [valid.title]
    assert titles(status="expiring") == [expiring.title]
    assert titles(status="expired") == [expired.title]
    assert titles(control="A.6.2.4") == [valid.title]
    assert titles(control="A.2.2") == []
    assert titles(owner=alice.pk) == [expiring.title]
    page = client.get(reverse("evidence:list")).content.decode()
    assert reverse("catalogue:requirement", args=["ISO42001", "A.6.2.4"]) in page
    assert "Expiring soon" in page and "Expired" in page


def test_list_has_an_empty_state(acme, olivia, login):
    page = login(olivia).get(reverse("evidence:list")).content.decode()
    assert "No evidence recorded yet" in page and reverse("evidence:create") in page


def test_list_costs_the_same_number_of_queries_for_5_and_30_items(acme, olivia, login):
    client = login(olivia)
    control = Requirement.objects.get(ref="A.6.2.4")

    def count_for(total):
        while Evidence.objects.count() < total:
            evidence = NoteEvidenceFactory(
                organization=acme, acting_user=olivia, title=f"Evidence {Evidence.objects.count():02d}", owner=olivia
            )
            services.evidence_link(evidence=evidence, target="control", obj=control, acting_user=olivia)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("evidence:list"))
        assert response.status_code == 200
        return len(queries)

    assert count_for(5) == count_for(30)


def test_create_page_uploads_a_file_and_links_the_control_from_the_query(acme, olivia, login, private_storage):
    control = Requirement.objects.get(ref="A.6.2.4")
    client = login(olivia)
    url = reverse("evidence:create") + f"?control={control.pk}"
    page = client.get(url).content.decode()
    assert 'enctype="multipart/form-data"' in page and "A.6.2.4" in page
    response = client.post(
        url,
        {"title": "Bias test report", "kind": "file", "effective_from": "2026-01-01", "owner": olivia.pk,
         "file": upload("../Bias Report.pdf", PDF)},
    )  # fmt: skip
    evidence = Evidence.objects.get()
    assert response.status_code == 302 and response.url == reverse("evidence:detail", args=[evidence.pk])
    assert evidence.versions.get().original_name == "Bias_Report.pdf"
    assert evidence.links.get().control == control


def test_create_page_shows_upload_errors_and_saves_nothing(acme, olivia, login):
    client = login(olivia)
    response = client.post(
        reverse("evidence:create"),
        {"title": "Fake", "kind": "file", "effective_from": "2026-01-01", "file": upload("fake.pdf", PNG)},
    )
    assert response.status_code == 400
    assert "not a genuine .pdf" in response.content.decode()
    assert not Evidence.objects.exists()
    response = client.post(
        reverse("evidence:create"), {"title": "Link", "kind": "link", "effective_from": "2026-01-01"}
    )
    assert response.status_code == 400 and "Give the address" in response.content.decode()


def test_create_page_refuses_another_organisations_record_as_initial_link(acme, globex, olivia, charlie, login):
    theirs = AISystemFactory(organization=globex)
    assert login(olivia).get(reverse("evidence:create") + f"?system={theirs.pk}").status_code == 404


def test_detail_shows_versions_links_and_history(acme, olivia, login):
    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia)
    targets = link_targets(acme, olivia)
    for target, obj in targets.items():
        services.evidence_link(evidence=evidence, target=target, obj=obj, acting_user=olivia)
    page = login(olivia).get(reverse("evidence:detail", args=[evidence.pk])).content.decode()
    version = evidence.versions.get()
    assert version.sha256 in page and "application/pdf" in page
    assert reverse("evidence:download", args=[evidence.pk, version.pk]) in page
    assert reverse("catalogue:requirement", args=["ISO42001", "A.6.2.4"]) in page
    assert reverse("inventory:system_detail", args=[targets["system"].pk]) in page
    assert reverse("risk:detail", args=[targets["risk"].pk]) in page
    assert reverse("impact:detail", args=[targets["assessment"].pk]) in page
    assert "History" in page and "Created" in page


def test_pages_add_and_remove_links_and_versions(acme, olivia, login):
    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia)
    system = AISystemFactory(organization=acme)
    client = login(olivia)
    client.post(reverse("evidence:link_add", args=[evidence.pk]), {"target": "system", "id": system.pk})
    link = evidence.links.get()
    assert link.system == system
    client.post(reverse("evidence:link_remove", args=[evidence.pk, link.pk]))
    assert not evidence.links.exists()
    response = client.post(
        reverse("evidence:add_version", args=[evidence.pk]), {"file": upload("v2.pdf", PDF + b"%2"), "comment": "v2"}
    )
    assert response.status_code == 302 and evidence.versions.count() == 2
    response = client.post(
        reverse("evidence:update", args=[evidence.pk]),
        {"title": "Renamed", "effective_from": "2026-01-01", "valid_until": "2025-01-01"},
    )
    assert response.status_code == 400 and "cannot expire before" in response.content.decode()
    client.post(reverse("evidence:update", args=[evidence.pk]), {"title": "Renamed", "effective_from": "2026-01-01"})
    evidence.refresh_from_db()
    assert evidence.title == "Renamed"
    assert client.post(reverse("evidence:delete", args=[evidence.pk])).status_code == 302
    assert not Evidence.objects.exists()


def test_page_link_to_another_organisations_record_is_refused(acme, globex, olivia, login):
    evidence = NoteEvidenceFactory(organization=acme, acting_user=olivia)
    theirs = AISystemFactory(organization=globex)
    response = login(olivia).post(
        reverse("evidence:link_add", args=[evidence.pk]), {"target": "system", "id": theirs.pk}, follow=True
    )
    assert "in your organisation" in response.content.decode()
    assert not evidence.links.exists()


# --- Roles and tenancy ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["bob", "victor"])
def test_auditors_and_viewers_read_and_download_but_never_write(acme, olivia, login, request, persona):
    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia)
    version = evidence.versions.get()
    client = login(request.getfixturevalue(persona))
    assert client.get(reverse("evidence:list")).status_code == 200
    assert client.get(reverse("evidence:detail", args=[evidence.pk])).status_code == 200
    assert client.get(reverse("evidence:download", args=[evidence.pk, version.pk])).status_code == 200
    assert client.get(reverse("evidence:create")).status_code == 403
    assert client.post(reverse("evidence:create"), {"title": "x", "kind": "note", "note": "x"}).status_code == 403
    for name in ("evidence:update", "evidence:add_version", "evidence:link_add", "evidence:delete"):
        assert client.post(reverse(name, args=[evidence.pk]), {"title": "x"}).status_code == 403, name
    assert Evidence.objects.get().title == "Bias test report"


def test_owners_change_only_the_evidence_they_own(acme, olivia, dana, login):
    others = NoteEvidenceFactory(organization=acme, acting_user=olivia, owner=olivia)
    client = login(dana)
    assert client.get(reverse("evidence:update", args=[others.pk])).status_code == 403
    assert client.post(reverse("evidence:delete", args=[others.pk])).status_code == 403
    response = client.post(
        reverse("evidence:create"),
        {"title": "My model card", "kind": "note", "note": "Card", "effective_from": "2026-01-01", "owner": dana.pk},
    )
    mine = Evidence.objects.get(title="My model card")
    assert response.status_code == 302 and mine.owner == dana
    assert client.get(reverse("evidence:update", args=[mine.pk])).status_code == 200
    response = client.post(
        reverse("evidence:create"),
        {"title": "Given away", "kind": "note", "note": "x", "effective_from": "2026-01-01", "owner": olivia.pk},
    )
    assert response.status_code == 400 and not Evidence.objects.filter(title="Given away").exists()


def test_another_organisation_gets_404_everywhere(acme, olivia, charlie, login):
    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia)
    version = evidence.versions.get()
    link = services.evidence_link(
        evidence=evidence, target="control", obj=Requirement.objects.get(ref="A.6.2.4"), acting_user=olivia
    )
    client = login(charlie)
    assert client.get(reverse("evidence:detail", args=[evidence.pk])).status_code == 404
    assert client.get(reverse("evidence:download", args=[evidence.pk, version.pk])).status_code == 404
    assert client.get(reverse("evidence:update", args=[evidence.pk])).status_code == 404
    assert client.get(reverse("evidence:add_version", args=[evidence.pk])).status_code == 404
    assert client.post(reverse("evidence:link_remove", args=[evidence.pk, link.pk])).status_code == 404
    assert client.post(reverse("evidence:link_add", args=[evidence.pk]), {"target": "control"}).status_code == 404
    assert client.post(reverse("evidence:delete", args=[evidence.pk])).status_code == 404
    assert client.get(reverse("evidence:list")).context["object_list"].count() == 0
    assert Evidence.objects.count() == 1 and evidence.links.count() == 1


def test_version_of_another_evidence_is_not_found(acme, olivia, login):
    first, second = (
        FileEvidenceFactory(organization=acme, acting_user=olivia),
        FileEvidenceFactory(organization=acme, acting_user=olivia, title="Other"),
    )
    version = second.versions.get()
    response = login(olivia).get(reverse("evidence:download", args=[first.pk, version.pk]))
    assert response.status_code == 404


def test_anonymous_download_is_redirected_to_sign_in(acme, olivia, client):
    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia)
    url = reverse("evidence:download", args=[evidence.pk, evidence.versions.get().pk])
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))


def test_download_is_a_private_attachment_with_digest_and_sandbox(acme, olivia, victor, login):
    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia, name="../Bias report.pdf")
    version = evidence.versions.get()
    response = login(victor).get(reverse("evidence:download", args=[evidence.pk, version.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Bias_report.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Repr-Digest"] == f"sha-256=:{base64.b64encode(hashlib.sha256(PDF).digest()).decode()}:"


def test_text_downloads_are_attachments_never_rendered(acme, olivia, login):
    content = b"<html><script>alert(1)</script></html>"
    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia, name="page.txt", content=content)
    response = login(olivia).get(reverse("evidence:download", args=[evidence.pk, evidence.versions.get().pk]))
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Security-Policy"] == "sandbox"


def test_a_link_version_has_nothing_to_download(acme, olivia, login):
    evidence = services.evidence_create(
        organization=acme, acting_user=olivia, title="Dashboard", kind="link", url="https://grafana.example/d/1"
    )
    response = login(olivia).get(reverse("evidence:download", args=[evidence.pk, evidence.versions.get().pk]))
    assert response.status_code == 404
