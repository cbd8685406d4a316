"""AIMS pages: forms, policy workflow, sanitised read view, roles, owner rule, tenancy, list cost, history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aims.governance import services
from aims.models import (
    AIMSScope,
    CompetenceRecord,
    ConcernChannel,
    ContextIssue,
    InterestedParty,
    Objective,
    ObjectiveProgress,
    OrgRole,
    Policy,
    PolicyVersion,
)
from aims.roles import Role
from tests.aims.factories import (
    AIMSScopeFactory,
    CompetenceRecordFactory,
    ConcernChannelFactory,
    ContextIssueFactory,
    InterestedPartyFactory,
    MembershipFactory,
    ObjectiveFactory,
    ObjectiveProgressFactory,
    OrgRoleFactory,
    PolicyFactory,
    PolicyVersionFactory,
)

Status = PolicyVersion.Status


def seed(org, author, approver, n: int = 1, prefix: str = "") -> dict:
    """One record of every kind (``n`` of the listed ones), with an approved and a draft policy version."""
    records: dict = {}
    by_author = {"organization": org, "acting_user": author}
    if not AIMSScope.objects.for_org(org).exists():
        records["scope"] = AIMSScopeFactory(**by_author)
    for i in range(n):
        records["issue"] = ContextIssueFactory(**by_author, title=f"{prefix}Issue {i}")
        records["party"] = InterestedPartyFactory(**by_author, name=f"{prefix}Party {i}")
        records["policy"] = PolicyFactory(organization=org, title=f"{prefix}Policy {i}", owner=author)
        records["approved"] = PolicyVersionFactory(policy=records["policy"], body_markdown="# P", approver=approver)
        records["draft"] = PolicyVersionFactory(policy=records["policy"], body_markdown="# P2")
        records["role"] = OrgRoleFactory(**by_author, name=f"{prefix}Role {i}", holder=author)
        records["channel"] = ConcernChannelFactory(**by_author, name=f"{prefix}Channel {i}")
        records["objective"] = ObjectiveFactory(organization=org, title=f"{prefix}Objective {i}", owner=author)
        records["progress"] = ObjectiveProgressFactory(objective=records["objective"])
        records["competence"] = CompetenceRecordFactory(organization=org, member=author, title=f"{prefix}Course {i}")
    return records


def read_urls(r: dict) -> list[str]:
    p, v = r["policy"].pk, r["approved"].pk
    return [
        reverse("governance:context"),
        reverse("governance:parties"),
        reverse("governance:scope"),
        reverse("governance:issue_detail", args=[r["issue"].pk]),
        reverse("governance:party_detail", args=[r["party"].pk]),
        reverse("governance:policies"),
        reverse("governance:policy_detail", args=[p]),
        reverse("governance:version_detail", args=[p, v]),
        reverse("governance:roles"),
        reverse("governance:role_detail", args=[r["role"].pk]),
        reverse("governance:channel_detail", args=[r["channel"].pk]),
        reverse("governance:objectives"),
        reverse("governance:objective_detail", args=[r["objective"].pk]),
        reverse("governance:competence"),
        reverse("governance:competence_records"),
        reverse("governance:competence_detail", args=[r["competence"].pk]),
    ]


def form_urls(r: dict) -> list[str]:
    """Pages that show a form (GET) and save it (POST)."""
    p = r["policy"].pk
    return [
        reverse("governance:scope_edit"),
        reverse("governance:issue_create"),
        reverse("governance:issue_update", args=[r["issue"].pk]),
        reverse("governance:party_create"),
        reverse("governance:party_update", args=[r["party"].pk]),
        reverse("governance:policy_create"),
        reverse("governance:policy_update", args=[p]),
        reverse("governance:version_create", args=[p]),
        reverse("governance:version_edit", args=[p, r["draft"].pk]),
        reverse("governance:role_create"),
        reverse("governance:role_update", args=[r["role"].pk]),
        reverse("governance:channel_create"),
        reverse("governance:channel_update", args=[r["channel"].pk]),
        reverse("governance:objective_create"),
        reverse("governance:objective_update", args=[r["objective"].pk]),
        reverse("governance:competence_create"),
        reverse("governance:competence_update", args=[r["competence"].pk]),
    ]


def action_urls(r: dict) -> list[str]:
    """POST-only pages that change something."""
    p, d, a = r["policy"].pk, r["draft"].pk, r["approved"].pk
    return [
        reverse("governance:issue_delete", args=[r["issue"].pk]),
        reverse("governance:party_delete", args=[r["party"].pk]),
        reverse("governance:policy_delete", args=[p]),
        reverse("governance:version_submit", args=[p, d]),
        reverse("governance:version_delete", args=[p, d]),
        reverse("governance:version_return", args=[p, d]),
        reverse("governance:version_approve", args=[p, d]),
        reverse("governance:version_retire", args=[p, a]),
        reverse("governance:role_delete", args=[r["role"].pk]),
        reverse("governance:channel_delete", args=[r["channel"].pk]),
        reverse("governance:objective_delete", args=[r["objective"].pk]),
        reverse("governance:progress_add", args=[r["objective"].pk]),
        reverse("governance:progress_delete", args=[r["objective"].pk, r["progress"].pk]),
        reverse("governance:competence_delete", args=[r["competence"].pk]),
    ]


def snapshot(org) -> dict:
    models = (
        AIMSScope,
        ContextIssue,
        InterestedParty,
        Policy,
        PolicyVersion,
        OrgRole,
        ConcernChannel,
        Objective,
        ObjectiveProgress,
        CompetenceRecord,
    )
    return {m.__name__: list(m.objects.for_org(org).order_by("pk").values()) for m in models}


@pytest.fixture
def acme_records(acme, alice, olivia):
    return seed(acme, olivia, alice)


# --- Reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["victor", "bob", "olivia", "alice"])
def test_every_member_reads_every_page(request, login, acme_records, persona):
    client = login(request.getfixturevalue(persona))
    for url in read_urls(acme_records):
        assert client.get(url).status_code == 200, url
    assert client.get(reverse("governance:home")).status_code == 302


def test_navigation_has_the_aims_section(login, victor):
    html = login(victor).get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("governance:context")}"' in html and ">AIMS</a>" in html


# --- Roles --------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["victor", "bob"])
def test_read_only_roles_get_403_on_every_write_page(request, login, acme, acme_records, persona):
    client = login(request.getfixturevalue(persona))
    before = snapshot(acme)
    for url in form_urls(acme_records):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"title": "x", "name": "x", "statement": "x"}).status_code == 403, url
    for url in action_urls(acme_records):
        assert client.post(url, {"comment": "x", "value": "1"}).status_code == 403, url
    assert snapshot(acme) == before


def test_owner_role_changes_only_their_objectives_and_competence(login, acme, acme_records, olivia):
    owner = MembershipFactory(organization=acme, role=Role.OWNER).user
    client = login(owner)
    # Organisation-level records are the officers' and administrators'.
    for name in (
        "governance:scope_edit",
        "governance:issue_create",
        "governance:party_create",
        "governance:policy_create",
        "governance:role_create",
        "governance:channel_create",
    ):
        assert client.get(reverse(name)).status_code == 403, name
    p = acme_records["policy"].pk
    assert client.post(reverse("governance:version_submit", args=[p, acme_records["draft"].pk])).status_code == 403
    assert client.post(reverse("governance:version_approve", args=[p, acme_records["draft"].pk])).status_code == 403
    # Someone else's objective and competence record: read yes, change no.
    theirs = acme_records["objective"]
    assert client.get(reverse("governance:objective_detail", args=[theirs.pk])).status_code == 200
    assert client.get(reverse("governance:objective_update", args=[theirs.pk])).status_code == 403
    assert client.post(reverse("governance:progress_add", args=[theirs.pk]), {"value": "5"}).status_code == 403
    assert client.get(reverse("governance:competence_update", args=[acme_records["competence"].pk])).status_code == 403
    # Their own objective: the form offers only themselves as owner.
    page = client.get(reverse("governance:objective_create"))
    assert page.status_code == 200 and list(page.context["form"].fields["owner"].queryset) == [owner]
    data = {
        "title": "Mine",
        "measure": "m",
        "target": "5",
        "unit": "%",
        "direction": "at_least",
        "owner": owner.pk,
        "due_date": "2030-01-01",
        "status": "on_track",
    }
    assert client.post(reverse("governance:objective_create"), {**data, "owner": olivia.pk}).status_code == 400
    response = client.post(reverse("governance:objective_create"), data)
    assert response.status_code == 302
    mine = Objective.objects.get(title="Mine")
    assert mine.owner == owner
    assert (
        client.post(
            reverse("governance:progress_add", args=[mine.pk]), {"value": "6", "date": "2026-01-01"}
        ).status_code
        == 302
    )
    assert mine.on_target is True
    record = {"member": owner.pk, "kind": "awareness", "title": "AI policy session", "date_completed": "2026-01-01"}
    assert client.post(reverse("governance:competence_create"), record).status_code == 302
    assert CompetenceRecord.objects.get(title="AI policy session").member == owner


# --- Tenancy -----------------------------------------------------------------------------------


def test_another_organisations_records_are_404_on_every_page(login, acme_records, charlie, globex):
    seed(globex, charlie, MembershipFactory(organization=globex, role=Role.ADMIN).user, prefix="G ")
    client = login(charlie)
    singletons = {
        reverse(n)
        for n in (
            "governance:context",
            "governance:parties",
            "governance:scope",
            "governance:policies",
            "governance:roles",
            "governance:objectives",
            "governance:competence",
            "governance:competence_records",
            "governance:scope_edit",
            "governance:issue_create",
            "governance:party_create",
            "governance:policy_create",
            "governance:role_create",
            "governance:channel_create",
            "governance:objective_create",
            "governance:competence_create",
        )
    }
    p, v = acme_records["policy"].pk, acme_records["approved"].pk
    for url in [*read_urls(acme_records), *form_urls(acme_records), reverse("governance:version_file", args=[p, v])]:
        if url not in singletons:
            assert client.get(url).status_code == 404, url
    for url in action_urls(acme_records):
        assert client.post(url, {"comment": "x", "value": "1"}).status_code == 404, url
    # Lists show only Globex's own records.
    html = client.get(reverse("governance:policies")).content.decode()
    assert "G Policy 0" in html and ">Policy 0<" not in html
    assert "Issue 0" not in client.get(reverse("governance:context")).content.decode().replace("G Issue 0", "")


def test_a_version_of_another_policy_is_not_found_under_this_one(login, acme, olivia, alice, acme_records):
    other = seed(acme, olivia, alice, prefix="B ")
    url = reverse("governance:version_detail", args=[acme_records["policy"].pk, other["approved"].pk])
    assert login(alice).get(url).status_code == 404


# --- Forms and workflow -----------------------------------------------------------------------


def test_officer_writes_scope_context_and_parties(login, acme, olivia):
    client = login(olivia)
    scope = {
        "statement": "All AI in retail lending.",
        "units_covered": "Lending\nService",
        "exclusions": "Research lab: no production use\nTreasury: no AI",
        "last_reviewed": "2026-01-15",
    }
    bad = client.post(reverse("governance:scope_edit"), {**scope, "exclusions": "Research lab without a reason"})
    assert bad.status_code == 400 and "exclusions" in bad.context["form"].errors
    assert client.post(reverse("governance:scope_edit"), scope).status_code == 302
    saved = AIMSScope.objects.get(organization=acme)
    assert saved.exclusions == [
        {"item": "Research lab", "reason": "no production use"},
        {"item": "Treasury", "reason": "no AI"},
    ]
    assert saved.unit_list == ["Lending", "Service"]
    # The form edits the one scope; it never makes a second one.
    assert client.post(reverse("governance:scope_edit"), {**scope, "statement": "Changed."}).status_code == 302
    assert AIMSScope.objects.get(organization=acme).statement == "Changed."
    page = client.get(reverse("governance:scope")).content.decode()
    assert "Research lab" in page and "no production use" in page
    issue = {"kind": "external", "category": "legal", "title": "EU AI Act", "effect": "High-risk obligations"}
    assert client.post(reverse("governance:issue_create"), issue).status_code == 302
    assert client.post(reverse("governance:issue_create"), {**issue, "kind": "sideways"}).status_code == 400
    party = {"name": "Regulator", "kind": "regulator", "requirements": "AI Act", "legal_requirement": "on"}
    assert client.post(reverse("governance:party_create"), party).status_code == 302
    assert InterestedParty.objects.get(organization=acme).legal_requirement is True
    assert "EU AI Act" in client.get(reverse("governance:context") + "?kind=external").content.decode()
    assert "EU AI Act" not in client.get(reverse("governance:context") + "?kind=internal").content.decode()


def test_policy_workflow_through_the_pages(login, client, acme, alice, olivia):
    c = login(olivia)
    data = {"title": "AI policy", "kind": "ai_policy", "owner": olivia.pk, "review_interval_months": "12"}
    assert c.post(reverse("governance:policy_create"), data).status_code == 302
    policy = Policy.objects.get(organization=acme)
    second = c.post(reverse("governance:policy_create"), {**data, "title": "Another"})
    assert second.status_code == 400 and "kind" in second.context["form"].errors
    body = "# AI policy\n\nWe are **fair**. <script>alert('x')</script> [x](javascript:alert(1))"
    response = c.post(
        reverse("governance:version_create", args=[policy.pk]), {"body_markdown": body, "change_note": "v1"}
    )
    version = policy.versions.get()
    assert response["Location"] == reverse("governance:version_edit", args=[policy.pk, version.pk])
    preview = c.get(response["Location"]).content.decode().split('id="preview"')[1]
    assert "<strong>fair</strong>" in preview and "<script>alert" not in preview and "javascript:" not in preview
    assert c.post(reverse("governance:version_submit", args=[policy.pk, version.pk])).status_code == 302
    # The author cannot approve, even as an officer with the capability.
    c.post(reverse("governance:version_approve", args=[policy.pk, version.pk]))
    version.refresh_from_db()
    assert version.status == Status.IN_REVIEW
    page = c.get(reverse("governance:version_detail", args=[policy.pk, version.pk])).content.decode()
    assert (
        "you wrote this one" in page and reverse("governance:version_approve", args=[policy.pk, version.pk]) not in page
    )
    a = login(alice)
    assert (
        a.post(reverse("governance:version_return", args=[policy.pk, version.pk]), {"comment": ""}).status_code == 302
    )
    version.refresh_from_db()
    assert version.status == Status.IN_REVIEW  # a return needs a comment
    a.post(reverse("governance:version_approve", args=[policy.pk, version.pk]))
    version.refresh_from_db()
    assert version.status == Status.APPROVED and version.approved_by == alice
    page = a.get(reverse("governance:policy_detail", args=[policy.pk])).content.decode()
    # The rendered text; the history below it shows the raw Markdown, escaped.
    read = page.split('id="policy-text"')[1].split("History of the policy")[0]
    assert "<h1>AI policy</h1>" in read and "<strong>fair</strong>" in read
    assert "<script>alert" not in read and "javascript:" not in read
    assert "Version 1 in force" in page and "&lt;script&gt;" in page
    # Version 2 is uploaded; approving it retires version 1.
    upload = SimpleUploadedFile("AI policy v2.pdf", b"%PDF-1.7 text")
    c = login(olivia)
    c.post(reverse("governance:version_create", args=[policy.pk]), {"file": upload, "change_note": "Signed PDF"})
    v2 = policy.versions.get(number=2)
    assert v2.original_name == "AI_policy_v2.pdf"
    c.post(reverse("governance:version_submit", args=[policy.pk, v2.pk]))
    login(alice).post(reverse("governance:version_approve", args=[policy.pk, v2.pk]))
    assert dict(policy.versions.values_list("number", "status")) == {1: Status.RETIRED, 2: Status.APPROVED}
    download = login(victor := MembershipFactory(organization=acme, role=Role.VIEWER).user).get(
        reverse("governance:version_file", args=[policy.pk, v2.pk])
    )
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.7 text"
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff" and download["Content-Security-Policy"] == "sandbox"
    assert victor is not None
    login(alice).post(reverse("governance:version_retire", args=[policy.pk, v2.pk]))
    v2.refresh_from_db()
    assert v2.status == Status.RETIRED
    history = login(alice).get(reverse("governance:policy_detail", args=[policy.pk])).context["entries"]
    assert {e.label for e in history} >= {"AI policy", "Version 1", "Version 2"}
    assert {e.who for e in history} == {olivia, alice}


def test_upload_errors_show_on_the_form_and_save_nothing(login, acme, olivia):
    client = login(olivia)
    policy = PolicyFactory(organization=acme, title="Data", kind="data", owner=olivia)
    bad = client.post(
        reverse("governance:version_create", args=[policy.pk]), {"file": SimpleUploadedFile("p.exe", b"MZ")}
    )
    assert bad.status_code == 400 and "not accepted" in str(bad.context["form"].errors["file"])
    both = client.post(
        reverse("governance:version_create", args=[policy.pk]),
        {"body_markdown": "x", "file": SimpleUploadedFile("p.txt", b"x")},
    )
    assert both.status_code == 400 and not policy.versions.exists()


def test_objective_progress_and_competence_pages(login, acme, olivia, alice):
    client = login(olivia)
    data = {
        "title": "Gap below 5",
        "measure": "Approval gap",
        "target": "5",
        "unit": "pp",
        "direction": "at_most",
        "owner": alice.pk,
        "due_date": "2030-06-30",
        "status": "at_risk",
    }
    assert client.post(reverse("governance:objective_create"), data).status_code == 302
    objective = Objective.objects.get()
    url = reverse("governance:progress_add", args=[objective.pk])
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    assert client.post(url, {"value": "4", "date": future}).status_code == 400
    assert client.post(url, {"value": "8.1", "date": "2026-01-01", "note": "Q4"}).status_code == 302
    page = client.get(reverse("governance:objective_detail", args=[objective.pk]))
    assert "8.1 pp" in page.content.decode() and page.context["objective"].on_target is False
    rows = client.get(reverse("governance:objectives") + "?status=at_risk").context["object_list"]
    assert [o.pk for o in rows] == [objective.pk]
    record = {
        "member": alice.pk,
        "kind": "qualification",
        "title": "ISO/IEC 42001 Lead Implementer",
        "date_completed": "2025-01-10",
        "valid_until": "2024-01-01",
    }
    bad = client.post(reverse("governance:competence_create"), record)
    assert bad.status_code == 400 and "valid_until" in bad.context["form"].errors
    record["valid_until"] = "2028-01-10"
    assert client.post(reverse("governance:competence_create"), record).status_code == 302
    overview = client.get(reverse("governance:competence")).context["object_list"]
    row = next(m for m in overview if m.user_id == alice.pk)
    assert row.qualification_count == 1
    filtered = client.get(reverse("governance:competence_records") + f"?member={alice.pk}").context["object_list"]
    assert [r.member_id for r in filtered] == [alice.pk]


def test_roles_and_concern_channels_pages(login, acme, olivia):
    client = login(olivia)
    assert (
        client.post(
            reverse("governance:role_create"),
            {"name": "AI lead", "responsibilities": "Runs the AIMS", "holder": olivia.pk},
        ).status_code
        == 302
    )
    lead = OrgRole.objects.get()
    both = client.post(
        reverse("governance:role_create"),
        {"name": "X", "responsibilities": "r", "holder": olivia.pk, "external_holder": "Outside Ltd"},
    )
    assert both.status_code == 400
    channel = {
        "name": "Speak-up line",
        "how_to_report": "Web form",
        "receivers": "Compliance",
        "anonymous": "on",
        "protection_statement": "No reprisal.",
        "is_active": "on",
    }
    assert client.post(reverse("governance:channel_create"), channel).status_code == 302
    page = client.get(reverse("governance:roles")).content.decode()
    assert "AI lead" in page and "Speak-up line" in page and "No reprisal." in page
    response = client.post(reverse("governance:role_delete", args=[lead.pk]))
    assert response.status_code == 302 and not OrgRole.objects.exists()


def test_detail_pages_show_history_with_the_acting_user(login, acme, olivia, alice, acme_records):
    issue = acme_records["issue"]
    issue.title = "Renamed issue"
    services.governance_record_save(instance=issue, acting_user=alice)
    entries = login(olivia).get(reverse("governance:issue_detail", args=[issue.pk])).context["entries"]
    assert [(e.action, e.who) for e in entries] == [("changed", alice), ("created", olivia)]
    objective_entries = (
        login(olivia)
        .get(reverse("governance:objective_detail", args=[acme_records["objective"].pk]))
        .context["entries"]
    )
    assert any(e.label.startswith("Progress 3 on") for e in objective_entries)


# --- List cost -----------------------------------------------------------------------------------


LIST_PAGES = [
    "governance:context",
    "governance:parties",
    "governance:policies",
    "governance:roles",
    "governance:objectives",
    "governance:competence",
    "governance:competence_records",
]


def test_list_pages_cost_a_fixed_number_of_queries(login, acme, alice, olivia):
    client = login(alice)
    seed(acme, olivia, alice, n=2, prefix="A ")
    few = {}
    for name in LIST_PAGES:
        client.get(reverse(name))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(name)).status_code == 200
        few[name] = len(queries)
    seed(acme, olivia, alice, n=6, prefix="B ")
    for n in range(4):
        MembershipFactory(organization=acme, role=Role.VIEWER)
        if n % 2:
            CompetenceRecordFactory(organization=acme, member=alice, kind="awareness", title=f"S{n}")
    for name in LIST_PAGES:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse(name))
        assert page.status_code == 200
        assert len(page.context["object_list"]) > 2, name
        assert len(queries) == few[name], (name, few[name], len(queries))
