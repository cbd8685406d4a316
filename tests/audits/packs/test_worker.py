"""End to end: an API request, a real Celery worker on Redis, PostgreSQL data, a verified PDF.

Needs CELERY_BROKER_URL (Redis); CI runs it on PostgreSQL with AIMS_REQUIRE_SERVICES=1,
which turns a skip into a failure.
"""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from aims.roles import Role
from audits.models import EvidencePack
from controls.models import Requirement
from tests.audits.conftest import pdf_text
from tests.conftest import wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_pack_requested_through_the_api_is_built_by_a_worker_and_verifies(
    catalogue, worker, api_for, acme, bob, inventory, risk_register
):
    api = api_for(acme, role=Role.AUDITOR, created_by=bob)
    created = api.post(reverse("evidencepack-list"), {}, format="json")
    assert created.status_code == 201, created.content
    pack_id = created.json()["id"]
    assert created.json()["status"] == "queued"  # the request only enqueues

    def finished():
        return api.get(reverse("evidencepack-detail", args=[pack_id])).json()["status"] in ("succeeded", "failed")

    assert wait_for(finished, timeout=120), "the worker did not finish the pack"
    body = api.get(reverse("evidencepack-detail", args=[pack_id])).json()
    assert body["status"] == "succeeded", body["error"]

    download = api.get(body["download_url"])
    assert download.status_code == 200
    content = b"".join(download.streaming_content)
    reader, text = pdf_text(content)
    assert 20 <= len(reader.pages) <= 80 and len(reader.pages) == body["page_count"]
    for ref in Requirement.objects.of_framework("ISO42001").controls().values_list("ref", flat=True):
        assert ref in text, ref
    for system in inventory:
        assert system.ref_code in text
    from tests.audits.packs.test_services import CLAUSE_HEADINGS

    headings = ["Risk criteria", "Risk register and treatments", "AI system impact assessments",
                "Crosswalk coverage", "Readiness summary", *CLAUSE_HEADINGS]  # fmt: skip
    for heading in headings:
        assert heading in text
    assert "Monitoring of AI system performance (clause 9.1" in text and "No metric" in text
    for risk in risk_register:
        assert risk.ref_code in text
    assert f"{inventory[0].ref_code} {inventory[0].name}: impact assessment v1" in text
    manifest = json.loads(reader.attachments["manifest.json"][0])
    assert manifest["pack_id"] == body["uid"]
    report = api.post(reverse("evidencepack-verify", args=[pack_id])).json()
    assert report["ok"] and report["records_checked"] == len(manifest["records"])
    call_command("verify_evidence_pack", body["uid"])
    assert EvidencePack.objects.get(pk=pack_id).attempts == 1
