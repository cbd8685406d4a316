"""API of audits, findings, corrective actions, management reviews and incidents: rules, roles, tenancy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aims.roles import Role
from audits.improvement import services as improvement
from audits.models import Audit, ChecklistItem, CorrectiveAction, Finding, Incident, ManagementReview, ReviewAction
from tests.audits.factories import CorrectiveActionFactory, FindingFactory, IncidentFactory, req
from tests.registry.factories import AISystemFactory

API = "/api/v1"


@pytest.fixture
def records(acme, started, other_audit, bob, olivia, owen, alice):
    finding = FindingFactory(audit=started, acting_user=bob)
    action = CorrectiveActionFactory(acting_user=olivia, owner=owen, finding=finding)
    incident = IncidentFactory(
        organization=acme, acting_user=owen, system=AISystemFactory(organization=acme, owner=owen)
    )
    today = timezone.localdate()
    review = improvement.management_review_create(
        review=ManagementReview(organization=acme, title="Review", held_on=today, period_start=today,
                                period_end=today),
        acting_user=olivia,
    )  # fmt: skip
    review_action = improvement.review_action_save(
        action=ReviewAction(organization=acme, review=review, title="Train staff", owner=olivia), acting_user=olivia
    )
    return {
        "audit-programmes": started.programme,
        "audits": started,
        "audit-checklist-items": started.checklist.first(),
        "audit-findings": finding,
        "corrective-actions": action,
        "incidents": incident,
        "management-reviews": review,
        "management-review-actions": review_action,
        "other_audit": other_audit,
    }


ROUTES = [
    "audit-programmes",
    "audits",
    "audit-checklist-items",
    "audit-findings",
    "corrective-actions",
    "incidents",
    "management-reviews",
    "management-review-actions",
]


def test_officer_plans_and_runs_an_audit_through_the_api(api_for, acme, olivia, bob, owen, programme):
    client = api_for(acme, role=Role.OFFICER, created_by=olivia)
    body = {
        "programme": programme.pk,
        "title": "Operation audit",
        "scope": "Operation of the AI systems.",
        "criteria_refs": ["8.2", "A.6.2.8"],
        "lead_auditor": bob.pk,
        "area_owners": [owen.pk],
        "planned_start": "2026-05-04",
        "planned_end": "2026-05-08",
    }
    refused = client.post(f"{API}/audits/", {**body, "auditors": [owen.pk]}, format="json")
    assert refused.status_code == 400
    assert "independent" in refused.json()["errors"]["auditors"][0]
    created = client.post(f"{API}/audits/", body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["ref_code"] == "AUD-2026-01" and data["status"] == "planned"
    assert data["criteria_refs"] == ["8.2", "A.6.2.8"] and data["area_owners"] == [owen.pk]
    started = client.post(f"{API}/audits/{data['id']}/start/")
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    items = client.get(f"{API}/audit-checklist-items/?audit={data['id']}").json()["results"]
    assert [i["ref"] for i in items] == ["8.2", "A.6.2.8"]
    # The status does not move by PATCH.
    client.patch(f"{API}/audits/{data['id']}/", {"status": "closed"}, format="json")
    assert Audit.objects.get().status == "in_progress"
    refused_close = client.post(f"{API}/audits/{data['id']}/close/")
    assert refused_close.status_code == 400 and "conclusion" in refused_close.json()["errors"]


def test_auditor_records_only_in_assigned_audits_through_the_api(api_for, acme, bob, records):
    client = api_for(acme, role=Role.AUDITOR, created_by=bob)
    own_item = records["audits"].checklist.get(ref="A.6.2.8")
    ok = client.patch(f"{API}/audit-checklist-items/{own_item.pk}/", {"result": "nonconforming"}, format="json")
    assert ok.status_code == 200 and ok.json()["checked_by"] == bob.pk
    other = records["other_audit"]
    other_item = other.checklist.get()
    refused = client.patch(f"{API}/audit-checklist-items/{other_item.pk}/", {"result": "conforming"}, format="json")
    assert refused.status_code == 403
    finding = {"kind": "minor_nc", "title": "Gap", "description": "Found a gap.", "requirement": req("A.7.4").pk}
    assert client.post(f"{API}/audit-findings/", {**finding, "audit": other.pk}, format="json").status_code == 403
    mine = client.post(
        f"{API}/audit-findings/",
        {**finding, "audit": records["audits"].pk, "requirement": req("A.6.2.8").pk, "checklist_item": own_item.pk},
        format="json",
    )
    assert mine.status_code == 201, mine.json()
    assert mine.json()["ref_code"].startswith("AUD-2026-01-F")
    assert ChecklistItem.objects.get(pk=other_item.pk).result == "not_checked"
    assert not Finding.objects.filter(audit=other).exists()
    # Anything else is out of reach.
    for route in ("audit-programmes", "audits", "corrective-actions", "incidents", "management-reviews"):
        assert client.post(f"{API}/{route}/", {}, format="json").status_code == 403, route
    assert client.post(f"{API}/corrective-actions/{records['corrective-actions'].pk}/verify/").status_code == 403


def test_viewer_token_writes_nothing(api_for, acme, records):
    client = api_for(acme, role=Role.VIEWER)
    for route in ROUTES:
        pk = records[route].pk
        assert client.get(f"{API}/{route}/{pk}/").status_code == 200, route
        assert client.post(f"{API}/{route}/", {}, format="json").status_code in (403, 405), route
        assert client.patch(f"{API}/{route}/{pk}/", {"title": "x"}, format="json").status_code == 403, route
        assert client.delete(f"{API}/{route}/{pk}/").status_code in (403, 405), route
    assert client.post(f"{API}/audits/{records['audits'].pk}/close/").status_code == 403
    assert client.post(f"{API}/corrective-actions/{records['corrective-actions'].pk}/complete/").status_code == 403


def test_another_organisation_finds_nothing_through_the_api(api_for, globex, records):
    client = api_for(globex, role=Role.ADMIN)
    for route in ROUTES:
        pk = records[route].pk
        assert client.get(f"{API}/{route}/{pk}/").status_code == 404, route
        assert client.patch(f"{API}/{route}/{pk}/", {"title": "x"}, format="json").status_code in (404, 405), route
        assert client.get(f"{API}/{route}/").json()["count"] == 0, route
    assert client.post(f"{API}/audits/{records['audits'].pk}/start/").status_code == 404
    assert client.post(f"{API}/corrective-actions/{records['corrective-actions'].pk}/verify/").status_code == 404
    # Nor may their ids be linked.
    body = {"finding": records["audit-findings"].pk, "title": "Steal", "owner": None}
    refused = client.post(f"{API}/corrective-actions/", body, format="json")
    assert refused.status_code == 400 and "finding" in refused.json()["errors"]


def test_effectiveness_check_through_the_api(api_for, acme, olivia, owen, alice, records):
    action = records["corrective-actions"]
    owner = api_for(acme, role=Role.OWNER, created_by=owen)
    assert owner.post(f"{API}/corrective-actions/{action.pk}/complete/").json()["status"] == "done"
    # An owner's token cannot check effectiveness; nor can an officer who owns it.
    assert owner.post(f"{API}/corrective-actions/{action.pk}/verify/", {}, format="json").status_code == 403
    patched = api_for(acme, role=Role.OFFICER, created_by=olivia).patch(
        f"{API}/corrective-actions/{action.pk}/", {"status": "verified_effective"}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["status"] == "done" and patched.json()["closed_at"] is None
    mine = CorrectiveActionFactory(
        acting_user=olivia, owner=olivia, finding=records["audit-findings"], title="Olivia's own"
    )
    improvement.corrective_action_complete(action=mine, acting_user=olivia)
    self_check = api_for(acme, role=Role.OFFICER, created_by=olivia).post(
        f"{API}/corrective-actions/{mine.pk}/verify/", {"effective": True, "note": "Mine."}, format="json"
    )
    assert self_check.status_code == 400 and "someone other" in self_check.json()["errors"]["non_field_errors"][0]
    checked = api_for(acme, role=Role.ADMIN, created_by=alice).post(
        f"{API}/corrective-actions/{action.pk}/verify/", {"effective": True, "note": "Sampled."}, format="json"
    )
    assert checked.status_code == 200
    body = checked.json()
    assert body["status"] == "verified_effective" and body["verified_by"] == alice.pk and body["closed_at"]


def test_incident_and_its_corrective_action_through_the_api(api_for, acme, olivia, owen, records):
    client = api_for(acme, role=Role.OFFICER, created_by=olivia)
    system = records["incidents"].system
    created = client.post(
        f"{API}/incidents/",
        {"title": "Invented fee", "system": system.pk, "severity": "high", "description": "Told a customer a fee.",
         "detected_at": timezone.now().isoformat(), "informed_parties": "Customer",
         "informed_at": timezone.now().isoformat()},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    incident = created.json()
    assert incident["system_ref"] == system.ref_code and incident["reported_by"] == olivia.pk
    action = client.post(
        f"{API}/corrective-actions/",
        {"incident": incident["id"], "title": "Ground fee answers", "owner": owen.pk,
         "due_date": (timezone.localdate() + timedelta(days=5)).isoformat()},
        format="json",
    )  # fmt: skip
    assert action.status_code == 201, action.json()
    assert client.get(f"{API}/incidents/{incident['id']}/").json()["corrective_action_count"] == 1
    assert CorrectiveAction.objects.get(pk=action.json()["id"]).incident_id == incident["id"]
    bad = client.post(
        f"{API}/incidents/",
        {"title": "x", "severity": "low", "description": "x", "authority_notified": True},
        format="json",
    )
    assert bad.status_code == 400 and "authority_notified_at" in bad.json()["errors"]


def test_management_review_through_the_api(api_for, acme, olivia, alice, records):
    client = api_for(acme, role=Role.OFFICER, created_by=olivia)
    today = timezone.localdate().isoformat()
    created = client.post(
        f"{API}/management-reviews/",
        {"title": "Q4", "held_on": today, "period_start": today, "period_end": today, "attendees": [alice.pk],
         "inputs": {"forged": True}},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    review = created.json()
    assert review["attendees"] == [alice.pk] and "forged" not in review["inputs"]
    assert review["inputs"]["nonconformities"]["raised"] == 1
    assert review["inputs"]["previous_actions"]["by_status"]["Open"] == 1
    action = client.post(
        f"{API}/management-review-actions/",
        {"review": review["id"], "title": "Fix monitoring", "owner": alice.pk},
        format="json",
    )
    assert action.status_code == 201
    assert [a["title"] for a in client.get(f"{API}/management-reviews/{review['id']}/").json()["actions"]] == [
        "Fix monitoring"
    ]
    gathered = client.post(f"{API}/management-reviews/{review['id']}/gather-inputs/")
    assert gathered.status_code == 200


def test_api_lists_cost_a_fixed_number_of_queries(api_for, acme, olivia, owen, bob, records):
    client = api_for(acme, role=Role.OFFICER, created_by=olivia)

    def grow(n):
        for i in range(n):
            finding = FindingFactory(audit=records["audits"], acting_user=bob, title=f"F{i}")
            CorrectiveActionFactory(acting_user=olivia, owner=owen, finding=finding, title=f"A{i}")
            IncidentFactory(organization=acme, acting_user=owen, title=f"I{i}")

    def count(route):
        client.get(f"{API}/{route}/")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{API}/{route}/").status_code == 200
        return len(queries)

    grow(2)
    few = {route: count(route) for route in ROUTES}
    grow(8)
    many = {route: count(route) for route in ROUTES}
    assert few == many
    assert max(many.values()) <= 12, many


def test_the_schema_documents_the_endpoints(client, db):
    schema = client.get(f"{API}/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content.decode()
    for path in ("/audits/{id}/start/", "/corrective-actions/{id}/verify/", "/management-reviews/",
                 "/audit-findings/", "/incidents/"):  # fmt: skip
        assert path in schema, path
    assert Incident.Severity.CRITICAL in schema
