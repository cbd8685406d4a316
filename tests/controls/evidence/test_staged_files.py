"""A file chosen in the evidence form is kept when the form comes back with an error elsewhere."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from django.urls import reverse

from controls.evidence import staging
from controls.models import Evidence
from tests.aims.factories import MembershipFactory
from tests.controls.factories import PDF, FileEvidenceFactory, upload

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'<input type="hidden" name="staged_file" value="([^"]+)">')


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return tmp_path


def _staged_files(root: Path) -> list[Path]:
    return [path for path in (root / staging.STAGED_DIR).rglob("*") if path.is_file()]


def _refused_once(client, url, **extra):
    """Post the form with a file and without a title: refused, the file kept."""
    data = {"title": "", "kind": "file", "effective_from": "2026-01-01", "file": upload("Bias report.pdf", PDF)}
    response = client.post(url, {**data, **extra})
    assert response.status_code == 400
    html = response.content.decode()
    token = TOKEN.search(html)
    assert token, "the form carries the kept file"
    assert "Kept from your last try: <strong>Bias_report.pdf</strong>" in html
    return token.group(1)


def test_a_refused_form_keeps_the_file_and_the_next_try_uses_it(
    acme, olivia, login, private_storage, django_capture_on_commit_callbacks
):
    client = login(olivia)
    url = reverse("evidence:create")
    token = _refused_once(client, url)
    assert len(_staged_files(private_storage)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(
            url, {"title": "Bias report", "kind": "file", "effective_from": "2026-01-01", "staged_file": token}
        )
    evidence = Evidence.objects.get()
    assert again.status_code == 302
    version = evidence.versions.get()
    assert version.original_name == "Bias_report.pdf" and version.size == len(PDF)
    assert (private_storage / version.file.name).read_bytes() == PDF
    assert _staged_files(private_storage) == [], "the kept copy is removed once used"


def test_a_file_chosen_again_replaces_the_kept_one(acme, olivia, login, private_storage):
    client = login(olivia)
    url = reverse("evidence:create")
    token = _refused_once(client, url)
    again = client.post(
        url,
        {"title": "Report", "kind": "file", "effective_from": "2026-01-01", "staged_file": token,
         "file": upload("second.pdf", PDF)},
    )  # fmt: skip
    assert again.status_code == 302
    assert Evidence.objects.get().versions.get().original_name == "second.pdf"
    assert _staged_files(private_storage) == []


def test_a_refused_file_is_not_kept_and_both_errors_show(acme, olivia, login, private_storage):
    response = login(olivia).post(
        reverse("evidence:create"),
        {"title": "", "kind": "file", "effective_from": "2026-01-01", "file": upload("report.pdf", b"not a pdf")},
    )
    html = response.content.decode()
    assert response.status_code == 400 and "not a genuine .pdf" in html and "This field is required" in html
    assert not TOKEN.search(html) and not (private_storage / staging.STAGED_DIR).exists()


def test_the_token_opens_nothing_for_another_member_or_organisation(acme, globex, olivia, charlie, login):
    token = _refused_once(login(olivia), reverse("evidence:create"))
    colleague = MembershipFactory(organization=acme, role="officer").user
    for user in (colleague, charlie):
        response = login(user).post(
            reverse("evidence:create"),
            {"title": "Theirs", "kind": "file", "effective_from": "2026-01-01", "staged_file": token},
        )
        assert response.status_code == 400 and "Choose a file to upload" in response.content.decode()
    assert not Evidence.objects.exists()


def test_a_tampered_token_is_ignored(acme, olivia, login):
    token = _refused_once(login(olivia), reverse("evidence:create"))
    response = login(olivia).post(
        reverse("evidence:create"),
        {"title": "T", "kind": "file", "effective_from": "2026-01-01", "staged_file": token[:-2] + "xx"},
    )
    assert response.status_code == 400 and not Evidence.objects.exists()


def test_a_new_version_keeps_its_file_too(acme, olivia, login, private_storage, django_capture_on_commit_callbacks):
    evidence = FileEvidenceFactory(organization=acme, acting_user=olivia, owner=olivia)
    url = reverse("evidence:add_version", args=[evidence.pk])
    client = login(olivia)
    response = client.post(url, {"file": upload("v2.pdf", PDF), "comment": "x" * 301})
    assert response.status_code == 400
    token = TOKEN.search(response.content.decode()).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"staged_file": token, "comment": "Second issue"}).status_code == 302
    assert [v.original_name for v in evidence.versions.order_by("number")][-1] == "v2.pdf"
    assert _staged_files(private_storage) == []


def test_abandoned_kept_files_are_removed_after_a_day(acme, olivia, login, private_storage):
    _refused_once(login(olivia), reverse("evidence:create"))
    (kept,) = _staged_files(private_storage)
    assert staging.discard_stale() == 0 and kept.exists()
    old = time.time() - (staging.STAGED_HOURS + 1) * 3600
    os.utime(kept, (old, old))
    assert staging.discard_stale() == 1 and not kept.exists()
