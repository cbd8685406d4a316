"""Evidence downloads are logged like pack downloads: who, when, from where, page or API; shown on the page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aims.roles import Role
from controls.evidence import services as evidence_services
from controls.models import EvidenceDownload
from tests.controls.factories import PDF, FileEvidenceFactory


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return tmp_path


@pytest.fixture
def evidence(acme, olivia):
    return FileEvidenceFactory(organization=acme, acting_user=olivia, title="Bias test report", owner=olivia)


def test_a_page_download_is_logged_and_shown_on_the_evidence_page(login, victor, evidence):
    client = login(victor)
    version = evidence.versions.get()
    response = client.get(reverse("evidence:download", args=[evidence.pk, version.pk]), REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    [entry] = EvidenceDownload.objects.all()
    assert (entry.user, entry.version, entry.via_api, entry.ip_address) == (victor, version, False, "10.0.0.7")
    assert entry.organization_id == evidence.organization_id
    assert entry.history.get().history_user == victor

    page = client.get(reverse("evidence:detail", args=[evidence.pk])).content.decode()
    downloads = page[page.index("<h2>Downloads</h2>") :]
    assert victor.display_name in downloads[: downloads.index("</section>")]
    assert "Not downloaded yet." not in page


def test_the_page_says_when_nothing_was_downloaded(login, olivia, evidence):
    page = login(olivia).get(reverse("evidence:detail", args=[evidence.pk])).content.decode()
    assert "Not downloaded yet." in page


def test_an_api_download_is_logged_as_such(api_for, acme, alice, evidence):
    api = api_for(acme, role=Role.AUDITOR, created_by=alice)
    version = evidence.versions.get()
    url = reverse("evidence-version-download", args=[evidence.pk, version.pk])
    assert api.get(url).status_code == 200
    [entry] = EvidenceDownload.objects.all()
    assert entry.via_api and entry.version == version and entry.ip_address == "127.0.0.1"


def test_a_refused_or_missing_download_logs_nothing(login, charlie, olivia, evidence, private_storage):
    version = evidence.versions.get()
    url = reverse("evidence:download", args=[evidence.pk, version.pk])
    assert login(charlie).get(url).status_code == 404
    (private_storage / version.file.name).unlink()
    assert login(olivia).get(url).status_code == 404
    assert not EvidenceDownload.objects.exists()


def test_the_evidence_page_reads_its_downloads_in_one_query_whatever_their_number(login, olivia, victor, evidence):
    client = login(olivia)
    version = evidence.versions.get()
    download = reverse("evidence:download", args=[evidence.pk, version.pk])
    page = reverse("evidence:detail", args=[evidence.pk])
    client.get(download)
    with CaptureQueriesContext(connection) as one:
        assert client.get(page).status_code == 200
    for _ in range(3):
        client.get(download)
    login(victor).get(download)
    client = login(olivia)
    with CaptureQueriesContext(connection) as five:
        body = client.get(page).content.decode()
    assert len(five) == len(one)
    assert body.count("· v1") == 5


def test_deleting_evidence_keeps_its_download_log_in_the_history(login, olivia, victor, evidence):
    version = evidence.versions.get()
    login(victor).get(reverse("evidence:download", args=[evidence.pk, version.pk]))
    evidence_services.evidence_delete(evidence=evidence, acting_user=olivia)
    assert not EvidenceDownload.objects.exists()
    created, deleted = EvidenceDownload.history.order_by("history_date")
    assert (created.history_type, created.user_id, created.history_user) == ("+", victor.pk, victor)
    assert deleted.history_type == "-" and deleted.version_id == version.pk
