"""AIMS API: CRUD, policy version workflow and uploads, roles, owner rule, tenancy, list cost, history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aims.history import records_history
from aims.models import AIMSScope, Objective, PolicyVersion
from aims.roles import Role
from tests.aims.factories import MembershipFactory
from tests.aims.governance.test_pages import seed, snapshot

Status = PolicyVersion.Status
LISTS = [
    "contextissue",
    "interestedparty",
    "policy",
    "policyversion",
    "orgrole",
    "concernchannel",
    "objective",
    "objectiveprogress",
    "competencerecord",
]


@pytest.fixture
def acme_records(acme, alice, olivia):
    return seed(acme, olivia, alice)


def detail_urls(r: dict) -> list[str]:
    return [
        reverse("aimsscope-detail", args=[r["scope"].pk]),
        reverse("contextissue-detail", args=[r["issue"].pk]),
        reverse("interestedparty-detail", args=[r["party"].pk]),
        reverse("policy-detail", args=[r["policy"].pk]),
        reverse("policyversion-detail", args=[r["draft"].pk]),
        reverse("orgrole-detail", args=[r["role"].pk]),
        reverse("concernchannel-detail", args=[r["channel"].pk]),
        reverse("objective-detail", args=[r["objective"].pk]),
        reverse("objectiveprogress-detail", args=[r["progress"].pk]),
        reverse("competencerecord-detail", args=[r["competence"].pk]),
    ]


def action_urls(r: dict) -> list[str]:
    return [reverse(f"policyversion-{name}", args=[r["draft"].pk]) for name in ("submit", "return", "approve")] + [
        reverse("policyversion-retire", args=[r["approved"].pk])
    ]


# --- CRUD ---------------------------------------------------------------------------------------


def test_scope_is_one_object_per_organisation(api_for, acme, olivia):
    api = api_for(acme, role=Role.OFFICER, created_by=olivia)
    assert api.get(reverse("aimsscope-list")).status_code == 404
    body = {
        "statement": "All AI in lending.",
        "units_covered": "Lending",
        "exclusions": [{"item": "Lab", "reason": "Research only"}],
    }
    missing_reason = api.post(reverse("aimsscope-list"), {**body, "exclusions": [{"item": "Lab"}]}, format="json")
    assert missing_reason.status_code == 400 and "exclusions" in missing_reason.json()["errors"]
    created = api.post(reverse("aimsscope-list"), body, format="json")
    assert created.status_code == 201, created.json()
    again = api.post(reverse("aimsscope-list"), body, format="json")
    assert again.status_code == 400 and "already has a scope" in str(again.json())
    current = api.get(reverse("aimsscope-list")).json()
    assert current["exclusions"] == [{"item": "Lab", "reason": "Research only"}]
    changed = api.patch(reverse("aimsscope-detail", args=[current["id"]]), {"statement": "Changed"}, format="json")
    assert changed.status_code == 200 and AIMSScope.objects.get().statement == "Changed"
    assert api.delete(reverse("aimsscope-detail", args=[current["id"]])).status_code == 405


def test_crud_of_context_parties_roles_channels_and_competence(api_for, acme, olivia, alice):
    api = api_for(acme, role=Role.OFFICER, created_by=olivia)
    cases = [
        ("contextissue", {"kind": "external", "category": "legal", "title": "AI Act"}, {"title": "EU AI Act"}),
        (
            "interestedparty",
            {"name": "Regulator", "kind": "regulator", "requirements": "Compliance", "legal_requirement": True},
            {"how_addressed": "Annual report"},
        ),
        ("orgrole", {"name": "AI lead", "responsibilities": "Runs it", "holder": alice.pk}, {"authorities": "Stop"}),
        (
            "concernchannel",
            {
                "name": "Speak-up",
                "how_to_report": "Form",
                "receivers": "Compliance",
                "protection_statement": "No reprisal",
                "anonymous": True,
            },
            {"is_active": False},
        ),
        (
            "competencerecord",
            {
                "member": alice.pk,
                "kind": "training",
                "title": "AI literacy",
                "date_completed": "2026-01-10",
                "valid_until": "2027-01-10",
            },
            {"provider": "Academy"},
        ),
    ]
    for basename, create, change in cases:
        created = api.post(reverse(f"{basename}-list"), create, format="json")
        assert created.status_code == 201, (basename, created.json())
        pk = created.json()["id"]
        changed = api.patch(reverse(f"{basename}-detail", args=[pk]), change, format="json")
        assert changed.status_code == 200 and all(changed.json()[k] == v for k, v in change.items()), basename
        assert api.get(reverse(f"{basename}-list")).json()["count"] == 1
        assert api.delete(reverse(f"{basename}-detail", args=[pk])).status_code == 204
    bad = api.post(reverse("contextissue-list"), {"kind": "sideways", "category": "legal"}, format="json")
    assert bad.status_code == 400 and {"kind", "title"} <= set(bad.json()["errors"])


def test_policy_version_workflow_over_the_api(api_for, acme, olivia, alice):
    author = api_for(acme, role=Role.OFFICER, created_by=olivia)
    approver = api_for(acme, role=Role.ADMIN, created_by=alice)
    policy = author.post(
        reverse("policy-list"), {"title": "AI policy", "kind": "ai_policy", "owner": olivia.pk}, format="json"
    )
    assert policy.status_code == 201 and policy.json()["is_ai_policy"] is True
    pid = policy.json()["id"]
    duplicate = author.post(
        reverse("policy-list"), {"title": "X", "kind": "ai_policy", "owner": olivia.pk}, format="json"
    )
    assert duplicate.status_code == 400 and "kind" in duplicate.json()["errors"]
    v1 = author.post(
        reverse("policyversion-list"),
        {"policy": pid, "body_markdown": "# AI policy\n\n<script>x()</script>[a](javascript:y)"},
        format="json",
    )
    assert v1.status_code == 201, v1.json()
    body = v1.json()
    assert body["number"] == 1 and body["status"] == "draft" and body["author"] == olivia.pk
    assert "<h1>AI policy</h1>" in body["body_html"] and "<script" not in body["body_html"]
    assert "javascript:" not in body["body_html"]
    vid = body["id"]
    assert author.post(reverse("policyversion-submit", args=[vid])).json()["status"] == "in_review"
    refused = author.post(reverse("policyversion-approve", args=[vid]))
    assert refused.status_code == 400 and "author cannot approve" in refused.json()["errors"]["non_field_errors"][0]
    assert approver.post(reverse("policyversion-return", args=[vid]), {}, format="json").status_code == 400
    approved = approver.post(reverse("policyversion-approve", args=[vid]))
    assert approved.status_code == 200 and approved.json()["approved_by"] == alice.pk
    listed = author.get(reverse("policy-detail", args=[pid])).json()
    assert listed["current_version"] == 1 and listed["next_review_date"]
    # Version 2 as an uploaded document (multipart), approved: version 1 is retired.
    v2 = author.post(
        reverse("policyversion-list"),
        {"policy": pid, "file": SimpleUploadedFile("v2.pdf", b"%PDF-1.7 v2")},
        format="multipart",
    )
    assert v2.status_code == 201, v2.json()
    v2 = v2.json()
    assert v2["sha256"] and v2["document_url"].endswith(reverse("policyversion-document", args=[v2["id"]]))
    assert (
        author.patch(
            reverse("policyversion-detail", args=[v2["id"]]), {"change_note": "Signed"}, format="json"
        ).status_code
        == 200
    )
    download = author.get(reverse("policyversion-document", args=[v2["id"]]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.7 v2"
    author.post(reverse("policyversion-submit", args=[v2["id"]]))
    approver.post(reverse("policyversion-approve", args=[v2["id"]]))
    assert dict(PolicyVersion.objects.values_list("number", "status")) == {1: Status.RETIRED, 2: Status.APPROVED}
    assert (
        author.patch(
            reverse("policyversion-detail", args=[v2["id"]]), {"body_markdown": "x"}, format="json"
        ).status_code
        == 400
    )
    assert approver.post(reverse("policyversion-retire", args=[v2["id"]])).json()["status"] == "retired"
    assert approver.delete(reverse("policy-detail", args=[pid])).status_code == 400
    # History names the person behind each token.
    who = {
        (e.who, next((c.new for c in e.changes if c.field == "Status"), None))
        for e in records_history(PolicyVersion, policy_id=pid)
    }
    assert (alice, "Approved") in who and (olivia, "In review") in who


def test_upload_limits_over_the_api(api_for, acme, olivia):
    api = api_for(acme, role=Role.OFFICER, created_by=olivia)
    pid = api.post(reverse("policy-list"), {"title": "Data", "kind": "data", "owner": olivia.pk}, format="json")
    pid = pid.json()["id"]
    fake = api.post(
        reverse("policyversion-list"),
        {"policy": pid, "file": SimpleUploadedFile("p.pdf", b"<html>no</html>")},
        format="multipart",
    )
    assert fake.status_code == 400 and "file" in fake.json()["errors"]
    big = api.post(
        reverse("policyversion-list"),
        {"policy": pid, "file": SimpleUploadedFile("p.txt", b"a" * (10 * 1024 * 1024 + 1))},
        format="multipart",
    )
    assert big.status_code == 400 and "10 MB" in str(big.json()["errors"]["file"])
    assert not PolicyVersion.objects.exists()


def test_objectives_and_progress_over_the_api(api_for, acme, olivia):
    api = api_for(acme, role=Role.OFFICER, created_by=olivia)
    objective = api.post(
        reverse("objective-list"),
        {
            "title": "Gap",
            "measure": "Approval gap",
            "target": "5",
            "direction": "at_most",
            "owner": olivia.pk,
            "due_date": "2030-01-01",
        },
        format="json",
    )
    assert objective.status_code == 201, objective.json()
    oid = objective.json()["id"]
    assert objective.json()["latest_value"] is None and objective.json()["on_target"] is None
    today = timezone.localdate()
    for value, day in (("9.5", today - timedelta(days=30)), ("4.2", today)):
        assert (
            api.post(
                reverse("objectiveprogress-list"),
                {"objective": oid, "value": value, "date": day.isoformat()},
                format="json",
            ).status_code
            == 201
        )
    body = api.get(reverse("objective-detail", args=[oid])).json()
    assert body["latest_value"] == "4.200" and body["on_target"] is True and body["latest_date"] == today.isoformat()
    future = api.post(
        reverse("objectiveprogress-list"),
        {"objective": oid, "value": "1", "date": (today + timedelta(days=2)).isoformat()},
        format="json",
    )
    assert future.status_code == 400 and "date" in future.json()["errors"]


# --- Roles --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR])
def test_read_only_roles_get_403_on_every_write(api_for, acme, alice, acme_records, role):
    api = api_for(acme, role=role, created_by=alice)
    before = snapshot(acme)
    for basename in ["aimsscope", *LISTS]:
        assert api.get(reverse(f"{basename}-list")).status_code == 200, basename
        assert api.post(reverse(f"{basename}-list"), {"title": "x"}, format="json").status_code == 403, basename
    for url in detail_urls(acme_records):
        assert api.get(url).status_code == 200, url
        assert api.patch(url, {"title": "x"}, format="json").status_code == 403, url
        assert api.put(url, {"title": "x"}, format="json").status_code in (403, 405), url
        assert api.delete(url).status_code in (403, 405), url
    for url in action_urls(acme_records):
        assert api.post(url, {"comment": "x"}, format="json").status_code == 403, url
    assert snapshot(acme) == before


def test_owner_token_changes_only_their_objectives_and_competence(api_for, acme, olivia, acme_records):
    owner = MembershipFactory(organization=acme, role=Role.OWNER).user
    api = api_for(acme, role=Role.OWNER, created_by=owner)
    assert (
        api.post(
            reverse("contextissue-list"), {"kind": "internal", "category": "other", "title": "x"}, format="json"
        ).status_code
        == 403
    )
    assert (
        api.post(reverse("policy-list"), {"title": "x", "kind": "data", "owner": owner.pk}, format="json").status_code
        == 403
    )
    assert (
        api.post(
            reverse("policyversion-list"), {"policy": acme_records["policy"].pk, "body_markdown": "x"}, format="json"
        ).status_code
        == 403
    )
    assert api.post(reverse("policyversion-approve", args=[acme_records["draft"].pk])).status_code == 403
    theirs = acme_records["objective"]
    assert (
        api.patch(reverse("objective-detail", args=[theirs.pk]), {"status": "achieved"}, format="json").status_code
        == 403
    )
    assert (
        api.post(reverse("objectiveprogress-list"), {"objective": theirs.pk, "value": "1"}, format="json").status_code
        == 403
    )
    data = {"title": "Mine", "measure": "m", "target": "1", "owner": owner.pk, "due_date": "2030-01-01"}
    assert api.post(reverse("objective-list"), {**data, "owner": olivia.pk}, format="json").status_code == 403
    mine = api.post(reverse("objective-list"), data, format="json")
    assert mine.status_code == 201
    # Handing their objective to someone else would leave them unable to change it: refused.
    assert (
        api.patch(
            reverse("objective-detail", args=[mine.json()["id"]]), {"owner": olivia.pk}, format="json"
        ).status_code
        == 403
    )
    assert Objective.objects.get(pk=mine.json()["id"]).owner == owner
    record = {"member": owner.pk, "kind": "awareness", "title": "Session", "date_completed": "2026-01-01"}
    assert api.post(reverse("competencerecord-list"), record, format="json").status_code == 201
    assert api.post(reverse("competencerecord-list"), {**record, "member": olivia.pk}, format="json").status_code == 403


# --- Tenancy -----------------------------------------------------------------------------------


def test_another_organisations_records_are_404_and_their_ids_refused(api_for, globex, charlie, acme_records, acme):
    api = api_for(globex, role=Role.ADMIN, created_by=charlie)
    before = snapshot(acme)
    for url in detail_urls(acme_records):
        assert api.get(url).status_code == 404, url
        assert api.patch(url, {"title": "x"}, format="json").status_code == 404, url
        assert api.delete(url).status_code in (404, 405), url
    for url in action_urls(acme_records):
        assert api.post(url, {"comment": "x"}, format="json").status_code == 404, url
    assert api.get(reverse("policyversion-document", args=[acme_records["approved"].pk])).status_code == 404
    for basename in LISTS:
        assert api.get(reverse(f"{basename}-list")).json()["count"] == 0, basename
    assert api.get(reverse("aimsscope-list")).status_code == 404
    # Acme's ids in a payload are unknown here.
    refused = [
        ("policyversion-list", {"policy": acme_records["policy"].pk, "body_markdown": "x"}, "policy"),
        ("objectiveprogress-list", {"objective": acme_records["objective"].pk, "value": "1"}, "objective"),
        (
            "competencerecord-list",
            {
                "member": acme_records["objective"].owner_id,
                "kind": "training",
                "title": "x",
                "date_completed": "2026-01-01",
            },
            "member",
        ),
        ("orgrole-list", {"name": "x", "responsibilities": "r", "reports_to": acme_records["role"].pk}, "reports_to"),
    ]
    for name, payload, field in refused:
        response = api.post(reverse(name), payload, format="json")
        assert response.status_code == 400 and field in response.json()["errors"], name
    assert snapshot(acme) == before


# --- List cost ----------------------------------------------------------------------------------


def test_api_lists_cost_a_fixed_number_of_queries(api_for, acme, alice, olivia):
    api = api_for(acme, role=Role.OFFICER, created_by=olivia)
    seed(acme, olivia, alice, n=2, prefix="A ")
    few = {}
    for basename in LISTS:
        api.get(reverse(f"{basename}-list"))
        with CaptureQueriesContext(connection) as queries:
            assert api.get(reverse(f"{basename}-list")).status_code == 200
        few[basename] = len(queries)
    seed(acme, olivia, alice, n=5, prefix="B ")
    for basename in LISTS:
        with CaptureQueriesContext(connection) as queries:
            body = api.get(reverse(f"{basename}-list")).json()
        assert body["count"] >= 7, basename
        assert len(queries) == few[basename], (basename, few[basename], len(queries))


def test_schema_documents_the_endpoints(api_for, acme):
    api = api_for(acme, role=Role.VIEWER)
    schema = api.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    for path in [
        "/api/v1/aims-scope/",
        "/api/v1/policies/",
        "/api/v1/policy-versions/{id}/approve/",
        "/api/v1/objectives/",
        "/api/v1/objective-progress/",
        "/api/v1/competence-records/",
        "/api/v1/org-roles/",
        "/api/v1/concern-channels/",
        "/api/v1/context-issues/",
        "/api/v1/interested-parties/",
    ]:
        assert path in paths, path
    assert "multipart/form-data" in paths["/api/v1/policy-versions/"]["post"]["requestBody"]["content"]
