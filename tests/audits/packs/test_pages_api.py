"""Evidence pack pages and API: roles, tenancy, progress, downloads and their log."""

from __future__ import annotations

import pytest
from django.test import TestCase
from django.urls import reverse

from aims.roles import Role
from audits.models import EvidencePack, EvidencePackDownload
from audits.packs import services
from tests.audits.conftest import pdf_text


def make_pack(org, user, **options):
    with TestCase.captureOnCommitCallbacks(execute=True):
        pack, _ = services.evidence_pack_request(organization=org, acting_user=user, **options)
    pack.refresh_from_db()
    return pack


def test_auditor_requests_follows_and_downloads_a_pack(login, bob, acme, inventory):
    client = login(bob)
    assert client.get(reverse("packs:list")).status_code == 200
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("packs:list"),
            {"scope": "aims", "period_start": "2026-01-01", "period_end": "2026-06-30", "sections": ["controls"]},
        )
    pack = EvidencePack.objects.get()
    assert response["Location"] == reverse("packs:detail", args=[pack.pk])
    detail = client.get(response["Location"]).content.decode()
    assert "Download PDF" in detail and f"{pack.page_count} pages" in detail
    progress = client.get(reverse("packs:progress", args=[pack.pk])).content.decode()
    assert "hx-trigger" not in progress  # finished: the page stops polling
    download = client.get(reverse("packs:download", args=[pack.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith('attachment; filename="evidence-pack-acme-')
    assert download["Cache-Control"] == "private, no-store"
    assert download["Repr-Digest"].startswith("sha-256=:")
    content = b"".join(download.streaming_content)
    _, text = pdf_text(content)
    assert "A.10.4" in text
    log = EvidencePackDownload.objects.get()
    assert log.user == bob and not log.via_api and log.history.get().history_user == bob


def test_a_running_pack_keeps_polling(login, bob, acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        pack, _ = services.evidence_pack_request(organization=acme, acting_user=bob)
    fragment = login(bob).get(reverse("packs:progress", args=[pack.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "<progress" in fragment
    assert login(bob).get(reverse("packs:download", args=[pack.pk])).status_code == 404


def test_the_request_form_reports_errors(login, bob):
    response = login(bob).post(
        reverse("packs:list"), {"scope": "system", "period_start": "2026-05-01", "period_end": "2026-04-01"}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "sections" in errors or "system" in errors or "period_start" in errors
    assert not EvidencePack.objects.exists()


@pytest.mark.parametrize("role", [Role.VIEWER])
def test_viewers_cannot_request_see_or_download_packs(login, acme, bob, role, inventory):
    from tests.aims.factories import MembershipFactory

    pack = make_pack(acme, bob, sections=["controls"])
    viewer = MembershipFactory(organization=acme, role=role).user
    client = login(viewer)
    for name in ["packs:list"]:
        assert client.get(reverse(name)).status_code == 403
    for name in ["packs:detail", "packs:progress", "packs:download"]:
        assert client.get(reverse(name, args=[pack.pk])).status_code == 403
    assert client.post(reverse("packs:list"), {"scope": "aims"}).status_code == 403
    assert client.post(reverse("packs:verify", args=[pack.pk])).status_code == 403
    assert EvidencePack.objects.count() == 1 and not EvidencePackDownload.objects.exists()


def test_another_organisations_pack_is_404_on_every_page(login, alice, globex, charlie):
    pack = make_pack(globex, charlie, sections=["controls"])
    client = login(alice)
    for name in ["packs:detail", "packs:progress", "packs:download"]:
        assert client.get(reverse(name, args=[pack.pk])).status_code == 404, name
    assert client.post(reverse("packs:verify", args=[pack.pk])).status_code == 404
    assert str(pack.uid) not in client.get(reverse("packs:list")).content.decode()
    assert not EvidencePackDownload.objects.exists()


def test_verify_button_reports_the_result(login, bob, acme, inventory):
    pack = make_pack(acme, bob, sections=["inventory"])
    page = login(bob).post(reverse("packs:verify", args=[pack.pk])).content.decode()
    assert "Verified: the file and all" in page


# --- API -------------------------------------------------------------------------------


def test_api_request_poll_download_verify(api_for, acme, bob, inventory):
    api = api_for(acme, role=Role.AUDITOR, created_by=bob)
    with TestCase.captureOnCommitCallbacks(execute=True):
        created = api.post(reverse("evidencepack-list"), {"sections": ["inventory", "evidence"]}, format="json")
    assert created.status_code == 201, created.content
    pack_id = created.json()["id"]
    polled = api.get(reverse("evidencepack-detail", args=[pack_id])).json()
    assert polled["status"] == "succeeded" and polled["download_url"].endswith(f"/{pack_id}/download/")
    download = api.get(reverse("evidencepack-download", args=[pack_id]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert EvidencePackDownload.objects.get().via_api
    report = api.post(reverse("evidencepack-verify", args=[pack_id])).json()
    assert report["ok"] is True and report["records_checked"] > 0


def test_api_returns_the_running_pack_instead_of_starting_another(api_for, acme, django_capture_on_commit_callbacks):
    api = api_for(acme, role=Role.AUDITOR)
    with django_capture_on_commit_callbacks(execute=False):
        first = api.post(reverse("evidencepack-list"), {}, format="json")
        second = api.post(reverse("evidencepack-list"), {}, format="json")
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]


def test_api_validation_errors(api_for, acme, globex, charlie):
    from tests.registry.factories import AISystemFactory

    foreign = AISystemFactory(organization=globex, owner=charlie)
    api = api_for(acme, role=Role.AUDITOR)
    response = api.post(reverse("evidencepack-list"), {"scope": "system", "system": foreign.pk}, format="json")
    assert response.status_code == 400 and "system" in response.json()["errors"]
    response = api.post(reverse("evidencepack-list"), {"sections": ["nope"]}, format="json")
    assert response.status_code == 400 and "sections" in response.json()["errors"]
    assert not EvidencePack.objects.exists()


def test_api_roles_and_tenancy(api_for, acme, globex, charlie, bob):
    pack = make_pack(globex, charlie, sections=["controls"])
    auditor = api_for(acme, role=Role.AUDITOR, created_by=bob)
    for route in ["evidencepack-detail", "evidencepack-download"]:
        assert auditor.get(reverse(route, args=[pack.pk])).status_code == 404
    assert auditor.post(reverse("evidencepack-verify", args=[pack.pk])).status_code == 404
    assert auditor.get(reverse("evidencepack-list")).json()["count"] == 0
    viewer = api_for(acme, role=Role.VIEWER)
    assert viewer.get(reverse("evidencepack-list")).status_code == 403
    assert viewer.post(reverse("evidencepack-list"), {}, format="json").status_code == 403


def test_page_and_api_downloads_are_sandboxed_attachments(login, api_for, acme, bob, inventory):
    api = api_for(acme, role=Role.AUDITOR, created_by=bob)
    with TestCase.captureOnCommitCallbacks(execute=True):
        created = api.post(reverse("evidencepack-list"), {"sections": ["inventory"]}, format="json")
    pack_id = created.json()["id"]
    for download in (
        login(bob).get(reverse("packs:download", args=[pack_id])),
        api.get(reverse("evidencepack-download", args=[pack_id])),
    ):
        assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
        assert download["Content-Security-Policy"] == "sandbox"
        assert download["X-Content-Type-Options"] == "nosniff"
        assert download["Cache-Control"] == "private, no-store"
        assert download["Repr-Digest"].startswith("sha-256=:")
        assert download["Content-Disposition"].startswith("attachment;")
    assert EvidencePackDownload.objects.count() == 2
