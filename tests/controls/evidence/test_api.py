"""Evidence API: multipart upload, JSON link/note, versions, download, links, filters, roles and tenancy."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aims.roles import Role
from controls.evidence import services
from controls.models import Evidence, EvidenceLink, Requirement
from tests.aims.factories import MembershipFactory
from tests.controls.evidence.test_services import PNG
from tests.controls.factories import PDF, FileEvidenceFactory, NoteEvidenceFactory, link_targets, upload
from tests.registry.factories import AISystemFactory


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return tmp_path


@pytest.fixture
def api(api_for, acme, olivia):
    """Olivia's integration token (officer)."""
    return api_for(acme, role=Role.OFFICER, created_by=olivia)


def url(pk=None, suffix=""):
    base = reverse("evidence-detail", args=[pk]) if pk is not None else reverse("evidence-list")
    return base + suffix


def test_multipart_upload_creates_evidence_with_version_1(api, acme, olivia):
    response = api.post(
        url(),
        {"title": "Bias test report", "kind": "file", "valid_until": "2027-01-31", "owner": olivia.pk,
         "file": upload("..\\..\\bias.pdf", PDF, "application/pdf"), "comment": "Q1 run"},
        format="multipart",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "file" and body["owner"] == olivia.pk and body["valid_until"] == "2027-01-31"
    [version] = body["versions"]
    assert version["number"] == 1 and version["original_name"] == "bias.pdf" and version["comment"] == "Q1 run"
    assert version["sha256"] == hashlib.sha256(PDF).hexdigest() and version["size"] == len(PDF)
    assert version["content_type"] == "application/pdf"
    assert version["created_by"] == olivia.email
    assert version["download_url"].endswith(url(body["id"], f"versions/{version['id']}/download/"))
    evidence = Evidence.objects.get()
    assert evidence.organization == acme and evidence.history.first().history_user == olivia


def test_json_creates_link_and_note_evidence(api):
    link = api.post(url(), {"title": "Jira epic", "kind": "link", "url": "https://jira.example/AIMS-7"})
    note = api.post(url(), {"title": "Walkthrough", "kind": "note", "note": "Observed the weekly review."})
    assert link.status_code == 201 and note.status_code == 201
    assert link.json()["versions"][0]["url"] == "https://jira.example/AIMS-7"
    assert link.json()["versions"][0]["download_url"] is None
    assert note.json()["versions"][0]["note"] == "Observed the weekly review."


@pytest.mark.parametrize(
    ("payload", "field", "fmt"),
    [
        ({"title": "Fake", "kind": "file", "file": None}, "file", "multipart"),
        ({"title": "No link", "kind": "link"}, "url", "json"),
        ({"title": "No note", "kind": "note"}, "note", "json"),
        ({"title": "Bad", "kind": "link", "url": "javascript:alert(1)"}, "url", "json"),
        (
            {"title": "Late", "kind": "note", "note": "x", "effective_from": "2026-05-01", "valid_until": "2026-04-01"},
            "valid_until",
            "json",
        ),
        ({"kind": "note", "note": "x"}, "title", "json"),
    ],
)
def test_invalid_input_is_a_400_with_field_messages(api, payload, field, fmt):
    if payload.get("file", "") is None:
        payload = {**payload, "file": upload("fake.pdf", PNG)}
    response = api.post(url(), payload, format=fmt)
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not Evidence.objects.exists()


def test_file_type_and_size_are_checked(api, settings):
    settings.EVIDENCE_MAX_UPLOAD_MB = 1
    big = api.post(
        url(), {"title": "Big", "kind": "file", "file": upload("big.pdf", PDF + b"0" * 2**20)}, format="multipart"
    )
    exe = api.post(url(), {"title": "Tool", "kind": "file", "file": upload("tool.exe", b"MZ\x90")}, format="multipart")
    assert big.status_code == exe.status_code == 400
    assert "at most 1 MB" in big.json()["errors"]["file"][0]
    assert "not accepted" in exe.json()["errors"]["file"][0]


def test_retrieve_nests_versions_and_links(api, acme, olivia):
    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia)
    services.evidence_add_version(evidence=evidence, acting_user=olivia, upload=upload("v2.pdf", PDF + b"%2"))
    for target, obj in link_targets(acme, olivia).items():
        services.evidence_link(evidence=evidence, target=target, obj=obj, acting_user=olivia)
    body = api.get(url(evidence.pk)).json()
    assert [v["number"] for v in body["versions"]] == [2, 1]
    assert {link["target"] for link in body["links"]} == {"control", "system", "risk", "treatment", "assessment"}
    control = next(link for link in body["links"] if link["target"] == "control")
    assert control["ref"] == "A.6.2.4" and control["object_id"] == Requirement.objects.get(ref="A.6.2.4").pk


def test_list_filters(api, acme, olivia, alice):
    today = timezone.localdate()
    valid = FileEvidenceFactory(
        organization=acme, acting_user=olivia, title="Bias test report", valid_until=today + timedelta(days=200)
    )
    expiring = NoteEvidenceFactory(
        organization=acme, acting_user=olivia, title="Card review", valid_until=today + timedelta(days=3), owner=alice
    )
    expired = NoteEvidenceFactory(organization=acme, acting_user=olivia, title="Old pen test",
                                  effective_from=today - timedelta(days=400),
                                  valid_until=today - timedelta(days=2))  # fmt: skip
    services.evidence_link(
        evidence=valid, target="control", obj=Requirement.objects.get(ref="A.6.2.4"), acting_user=olivia
    )

    def titles(**params):
        response = api.get(url(), params)
        assert response.status_code == 200, response.json()
        return sorted(row["title"] for row in response.json()["results"])

    assert titles() == sorted([valid.title, expiring.title, expired.title])
    assert titles(q="pen") == [expired.title]
    assert titles(kind="note") == sorted([expiring.title, expired.title])
    assert titles(expired="true") == [expired.title]
    assert titles(expired="false") == sorted([valid.title, expiring.title])
    assert titles(status="expiring") == [expiring.title]
    assert titles(control="A.6.2.4") == [valid.title]
    assert titles(owner=alice.pk) == [expiring.title]
    assert api.get(url(), {"status": "bogus"}).status_code == 400


def test_list_query_count_does_not_grow_with_rows(api, acme, olivia):
    control = Requirement.objects.get(ref="A.6.2.4")

    api.get(url())  # the token's first use is recorded once; measure after it

    def count_for(total):
        while Evidence.objects.count() < total:
            evidence = NoteEvidenceFactory(
                organization=acme, acting_user=olivia, title=f"Note {Evidence.objects.count():02d}"
            )
            services.evidence_link(evidence=evidence, target="control", obj=control, acting_user=olivia)
            services.evidence_add_version(evidence=evidence, acting_user=olivia, note="Again.")
        with CaptureQueriesContext(connection) as queries:
            assert api.get(url()).status_code == 200
        return len(queries)

    assert count_for(3) == count_for(20)


def test_partial_update_changes_metadata_only(api, acme, olivia, charlie):
    evidence = NoteEvidenceFactory(organization=acme, acting_user=olivia)
    response = api.patch(url(evidence.pk), {"title": "Minutes", "valid_until": "2030-01-01"})
    assert response.status_code == 200 and response.json()["title"] == "Minutes"
    assert response.json()["valid_until"] == "2030-01-01"
    response = api.patch(url(evidence.pk), {"owner": charlie.pk})
    assert response.status_code == 400 and "owner" in response.json()["errors"]
    assert api.put(url(evidence.pk), {"title": "x"}).status_code == 405


def test_versions_are_added_by_multipart_and_downloaded(api, acme, olivia):
    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia)
    content = PDF + b"% second run\n"
    response = api.post(
        url(evidence.pk, "versions/"), {"file": upload("v2.pdf", content), "comment": "Q2"}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    version = response.json()
    assert version["number"] == 2 and version["sha256"] == hashlib.sha256(content).hexdigest()
    download = api.get(url(evidence.pk, f"versions/{version['id']}/download/"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Disposition"] == 'attachment; filename="v2.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Cache-Control"] == "private, no-store"
    assert download["Content-Security-Policy"] == "sandbox"
    assert download["Repr-Digest"] == f"sha-256=:{base64.b64encode(hashlib.sha256(content).digest()).decode()}:"
    assert [v["number"] for v in api.get(url(evidence.pk)).json()["versions"]] == [2, 1]
    wrong_kind = api.post(url(evidence.pk, "versions/"), {"url": "https://example.org"})
    assert wrong_kind.status_code == 400 and "file" in wrong_kind.json()["errors"]


def test_links_are_added_once_and_removed(api, acme, olivia):
    evidence = NoteEvidenceFactory(organization=acme, acting_user=olivia)
    first = api.post(url(evidence.pk, "links/"), {"target": "control", "id": "A.6.2.4"})
    again = api.post(url(evidence.pk, "links/"), {"target": "control", "id": Requirement.objects.get(ref="A.6.2.4").pk})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and first.json()["ref"] == "A.6.2.4"
    system = AISystemFactory(organization=acme)
    assert api.post(url(evidence.pk, "links/"), {"target": "system", "id": system.pk}).status_code == 201
    assert evidence.links.count() == 2
    assert api.delete(url(evidence.pk, f"links/{first.json()['id']}/")).status_code == 204
    assert list(evidence.links.values_list("target", flat=True)) == ["system"]
    assert api.delete(url(evidence.pk, f"links/{first.json()['id']}/")).status_code == 404


def test_links_to_another_organisations_records_are_refused(api, acme, globex, olivia, charlie):
    evidence = NoteEvidenceFactory(organization=acme, acting_user=olivia)
    for target, obj in link_targets(globex, charlie).items():
        if target == "control":
            continue
        response = api.post(url(evidence.pk, "links/"), {"target": target, "id": obj.pk})
        assert response.status_code == 400 and "id" in response.json()["errors"], target
    response = api.post(url(evidence.pk, "links/"), {"target": "control", "id": "4.1"})
    assert response.status_code == 400
    assert api.post(url(evidence.pk, "links/"), {"target": "policy", "id": 1}).status_code == 400
    assert not EvidenceLink.objects.exists()


def test_another_organisations_link_cannot_be_removed_through_own_evidence(api, acme, globex, olivia, charlie):
    mine = NoteEvidenceFactory(organization=acme, acting_user=olivia)
    theirs = NoteEvidenceFactory(organization=globex, acting_user=charlie)
    link = services.evidence_link(
        evidence=theirs, target="control", obj=Requirement.objects.get(ref="A.6.2.4"), acting_user=charlie
    )
    assert api.delete(url(mine.pk, f"links/{link.pk}/")).status_code == 404
    assert api.delete(url(theirs.pk, f"links/{link.pk}/")).status_code == 404
    assert EvidenceLink.objects.filter(pk=link.pk).exists()


def test_another_organisation_gets_404(api_for, acme, globex, olivia):
    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia)
    version = evidence.versions.get()
    other = api_for(globex, role=Role.ADMIN)
    assert other.get(url(evidence.pk)).status_code == 404
    assert other.get(url(evidence.pk, f"versions/{version.pk}/download/")).status_code == 404
    assert other.patch(url(evidence.pk), {"title": "x"}).status_code == 404
    assert other.post(url(evidence.pk, "versions/"), {"note": "x"}).status_code == 404
    assert other.post(url(evidence.pk, "links/"), {"target": "control", "id": "A.2.2"}).status_code == 404
    assert other.delete(url(evidence.pk)).status_code == 404
    assert other.get(url()).json()["count"] == 0
    assert Evidence.objects.get().title == "Bias test report"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR])
def test_read_only_roles_read_and_download_but_cannot_write(api_for, acme, olivia, role):
    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia)
    client = api_for(acme, role=role)
    assert client.get(url(evidence.pk)).status_code == 200
    assert client.get(url(evidence.pk, f"versions/{evidence.versions.get().pk}/download/")).status_code == 200
    assert client.post(url(), {"title": "x", "kind": "note", "note": "x"}).status_code == 403
    assert client.patch(url(evidence.pk), {"title": "x"}).status_code == 403
    assert client.post(url(evidence.pk, "versions/"), {"note": "x"}).status_code == 403
    assert client.post(url(evidence.pk, "links/"), {"target": "control", "id": "A.2.2"}).status_code == 403
    assert client.delete(url(evidence.pk)).status_code == 403


def test_owner_role_creates_their_own_and_changes_only_theirs(api_for, acme, olivia):
    dana = MembershipFactory(organization=acme, role=Role.OWNER).user
    client = api_for(acme, role=Role.OWNER, created_by=dana)
    created = client.post(url(), {"title": "My card", "kind": "note", "note": "Card"})
    assert created.status_code == 201 and created.json()["owner"] == dana.pk
    given = client.post(url(), {"title": "Given", "kind": "note", "note": "x", "owner": olivia.pk})
    assert given.status_code == 400 and "owner" in given.json()["errors"]
    others = NoteEvidenceFactory(organization=acme, acting_user=olivia, owner=olivia)
    assert client.patch(url(others.pk), {"title": "Mine now"}).status_code == 403
    assert client.delete(url(others.pk)).status_code == 403
    assert client.patch(url(created.json()["id"]), {"title": "My model card"}).status_code == 200


def test_delete(api, acme, olivia):
    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia)
    assert api.delete(url(evidence.pk)).status_code == 204
    assert not Evidence.objects.exists()


def test_anonymous_requests_are_refused(acme, olivia):
    from rest_framework.test import APIClient

    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia)
    assert APIClient().get(url(evidence.pk)).status_code in (401, 403)
