"""Audit, corrective action, management review and incident pages: flows, roles, tenancy, query counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aims.roles import Role
from audits.improvement import services as improvement
from audits.models import (
    Audit,
    AuditProgramme,
    ChecklistItem,
    CorrectiveAction,
    Finding,
    Incident,
    ManagementReview,
    ReviewAction,
)
from tests.audits.factories import AuditFactory, CorrectiveActionFactory, FindingFactory, IncidentFactory, member, req
from tests.registry.factories import AISystemFactory


@dataclass
class World:
    programme: AuditProgramme
    audit: Audit
    other: Audit
    item: ChecklistItem
    other_item: ChecklistItem
    finding: Finding
    other_finding: Finding
    action: CorrectiveAction
    incident: Incident
    review: ManagementReview
    review_action: ReviewAction


@pytest.fixture
def world(acme, programme, started, other_audit, olivia, bob, owen, alice):
    finding = FindingFactory(audit=started, acting_user=bob)
    other_finding = FindingFactory(
        audit=other_audit, acting_user=alice, acting_role=Role.ADMIN, ref="A.7.4", title="Data quality gap"
    )
    action = CorrectiveActionFactory(acting_user=olivia, owner=owen, finding=finding)
    incident = IncidentFactory(
        organization=acme, acting_user=owen, system=AISystemFactory(organization=acme, owner=owen)
    )
    today = timezone.localdate()
    review = improvement.management_review_create(
        review=ManagementReview(organization=acme, title="Review 2026", held_on=today, period_start=today,
                                period_end=today),
        acting_user=olivia,
    )  # fmt: skip
    review_action = improvement.review_action_save(
        action=ReviewAction(organization=acme, review=review, title="Train staff", owner=olivia), acting_user=olivia
    )
    return World(
        programme=programme,
        audit=started,
        other=other_audit,
        item=started.checklist.get(ref="A.6.2.8"),
        other_item=other_audit.checklist.get(),
        finding=finding,
        other_finding=other_finding,
        action=action,
        incident=incident,
        review=review,
        review_action=review_action,
    )


def record_urls(w: World, audit: Audit, item: ChecklistItem, finding: Finding) -> list[str]:
    """Where findings and checklist results are written: open to the audit's assigned auditors."""
    return [
        reverse("audits:checklist_item_edit", args=[audit.pk, item.pk]),
        reverse("audits:finding_create", args=[audit.pk]),
        reverse("audits:finding_update", args=[audit.pk, finding.pk]),
        reverse("audits:finding_delete", args=[audit.pk, finding.pk]),
    ]


def other_write_urls(w: World) -> list[str]:
    return [
        reverse("audits:programme_create"),
        reverse("audits:programme_update", args=[w.programme.pk]),
        reverse("audits:audit_create"),
        reverse("audits:audit_update", args=[w.audit.pk]),
        reverse("audits:audit_delete", args=[w.audit.pk]),
        reverse("audits:audit_transition", args=[w.audit.pk, "report"]),
        reverse("audits:audit_checklist_generate", args=[w.audit.pk]),
        reverse("audits:ca_create"),
        reverse("audits:ca_update", args=[w.action.pk]),
        reverse("audits:ca_delete", args=[w.action.pk]),
        reverse("audits:ca_progress", args=[w.action.pk, "done"]),
        reverse("audits:ca_verify", args=[w.action.pk]),
        reverse("audits:review_create"),
        reverse("audits:review_update", args=[w.review.pk]),
        reverse("audits:review_delete", args=[w.review.pk]),
        reverse("audits:review_gather", args=[w.review.pk]),
        reverse("audits:review_action_create", args=[w.review.pk]),
        reverse("audits:review_action_update", args=[w.review.pk, w.review_action.pk]),
        reverse("audits:review_action_delete", args=[w.review.pk, w.review_action.pk]),
        reverse("audits:incident_create"),
        reverse("audits:incident_update", args=[w.incident.pk]),
        reverse("audits:incident_delete", args=[w.incident.pk]),
    ]


def read_urls(w: World) -> list[str]:
    return [
        reverse("audits:audit_detail", args=[w.audit.pk]),
        reverse("audits:audit_checklist", args=[w.audit.pk]),
        reverse("audits:audit_findings", args=[w.audit.pk]),
        reverse("audits:audit_actions", args=[w.audit.pk]),
        reverse("audits:audit_history", args=[w.audit.pk]),
        reverse("audits:finding_detail", args=[w.finding.pk]),
        reverse("audits:ca_detail", args=[w.action.pk]),
        reverse("audits:review_detail", args=[w.review.pk]),
        reverse("audits:incident_detail", args=[w.incident.pk]),
    ]


def _counts(w: World):
    return (
        Audit.objects.count(),
        ChecklistItem.objects.filter(result="not_checked").count(),
        Finding.objects.count(),
        CorrectiveAction.objects.count(),
        Incident.objects.count(),
        ManagementReview.objects.count(),
        ReviewAction.objects.count(),
        AuditProgramme.objects.count(),
    )


# --- Roles -------------------------------------------------------------------------------------


def test_viewer_gets_403_on_every_write(login, victor, world):
    client = login(victor)
    before = _counts(world)
    urls = other_write_urls(world) + record_urls(world, world.audit, world.item, world.finding)
    for url in urls:
        assert client.post(url, {"title": "x", "result": "conforming"}).status_code == 403, url
    for url in [u for u in urls if not u.endswith(("/delete/", "/report/", "/generate/", "/done/", "/verify/",
                                                    "/gather-inputs/"))]:  # fmt: skip
        assert client.get(url).status_code == 403, url
    assert _counts(world) == before
    for url in read_urls(world):
        assert client.get(url).status_code == 200, url


def test_auditor_writes_only_findings_and_checklist_of_their_own_audits(login, bob, world):
    client = login(bob)
    before = _counts(world)
    for url in other_write_urls(world) + record_urls(world, world.other, world.other_item, world.other_finding):
        assert client.post(url, {"title": "x", "result": "conforming"}).status_code == 403, url
    assert _counts(world) == before
    # In the audit Bob leads, he records.
    own = record_urls(world, world.audit, world.item, world.finding)
    assert client.get(own[0]).status_code == 200
    assert client.get(own[1]).status_code == 200
    response = client.post(own[0], {"result": "nonconforming", "notes": "Logs kept 7 days."})
    assert response.status_code == 302
    world.item.refresh_from_db()
    assert world.item.result == "nonconforming" and world.item.checked_by == bob


def test_read_only_pages_show_no_write_controls_to_the_auditor(login, bob, world):
    page = login(bob).get(reverse("audits:audit_detail", args=[world.other.pk])).content.decode()
    assert "Start audit" not in page and "Edit</a>" not in page
    own = login(bob).get(reverse("audits:audit_findings", args=[world.audit.pk])).content.decode()
    assert "Record a finding" in own and "Raise corrective action" not in own


# --- Tenancy -----------------------------------------------------------------------------------


def test_another_organisation_finds_nothing(login, charlie, world):
    client = login(charlie)
    for url in read_urls(world):
        assert client.get(url).status_code == 404, url
    targeted = [
        u
        for u in other_write_urls(world) + record_urls(world, world.audit, world.item, world.finding)
        if any(ch.isdigit() for ch in u)
    ]
    for url in targeted:
        if not url.endswith(("/delete/", "/report/", "/generate/", "/done/", "/verify/", "/gather-inputs/")):
            assert client.get(url).status_code == 404, url
        assert client.post(url, {"title": "x"}).status_code == 404, url
    assert (
        client.get(reverse("audits:ca_create") + f"?finding={world.finding.pk}").context["form"].initial.get("finding")
        is None
    )
    for name in ("audits:home", "audits:ca_list", "audits:incident_list", "audits:review_list"):
        page = client.get(reverse(name))
        assert page.status_code == 200 and not page.context["object_list"], name


# --- Planning and the audit's life ------------------------------------------------------------


def audit_form(**overrides):
    data = {
        "title": "Operation audit",
        "scope": "Operation of the AI systems.",
        "auditee_area": "AI engineering",
        "planned_start": "2026-05-04",
        "planned_end": "2026-05-08",
    }
    data.update(overrides)
    return data


def test_officer_plans_an_audit_and_independence_is_enforced(login, olivia, bob, owen, programme):
    client = login(olivia)
    assert client.get(reverse("audits:audit_create") + f"?programme={programme.pk}").status_code == 200
    criteria = [req("8.2").pk, req("A.6.2.8").pk]
    refused = client.post(
        reverse("audits:audit_create"),
        audit_form(programme=programme.pk, criteria=criteria, lead_auditor=bob.pk, auditors=[owen.pk],
                   area_owners=[owen.pk]),
    )  # fmt: skip
    assert refused.status_code == 400
    assert "independent of the area" in refused.content.decode()
    assert not Audit.objects.exists()
    response = client.post(
        reverse("audits:audit_create"),
        audit_form(programme=programme.pk, criteria=criteria, lead_auditor=bob.pk, area_owners=[owen.pk]),
    )
    assert response.status_code == 302
    audit = Audit.objects.get()
    assert sorted(audit.criteria_links.values_list("requirement__ref", flat=True)) == ["8.2", "A.6.2.8"]
    started = client.post(reverse("audits:audit_transition", args=[audit.pk, "start"]))
    assert started.status_code == 302 and started.url == reverse("audits:audit_checklist", args=[audit.pk])
    page = client.get(reverse("audits:audit_checklist", args=[audit.pk]))
    assert [i.ref for i in page.context["items"]] == ["8.2", "A.6.2.8"]
    assert "AI system recording of event logs" in page.content.decode()


def test_home_shows_the_programme_its_audits_and_the_requirements(login, victor, world):
    page = login(victor).get(reverse("audits:home"))
    assert page.status_code == 200
    assert page.context["programme"] == world.programme
    assert {a.pk for a in page.context["object_list"]} == {world.audit.pk, world.other.pk}
    assert {r.ref for r in page.context["requirements"]} == {"9.2", "9.3", "10.2", "A.8.4"}
    assert login(victor).get(reverse("audits:home") + "?year=2031").context["object_list"].count() == 0


def test_checklist_result_is_recorded_inline_with_htmx(login, bob, world):
    client = login(bob)
    url = reverse("audits:checklist_item_edit", args=[world.audit.pk, world.item.pk])
    form = client.get(url, headers={"HX-Request": "true"})
    assert form.status_code == 200 and "<form hx-post" in form.content.decode()
    saved = client.post(url, {"result": "nonconforming", "notes": "7 days only."}, headers={"HX-Request": "true"})
    assert saved.status_code == 200
    html = saved.content.decode()
    assert html.startswith(f'<tr id="item-{world.item.pk}"') and "Nonconforming" in html
    bad = client.post(url, {"result": "maybe"}, headers={"HX-Request": "true"})
    assert bad.status_code == 200 and 'class="error"' in bad.content.decode()
    cancel = client.get(url + "?cancel=1", headers={"HX-Request": "true"})
    assert "Nonconforming" in cancel.content.decode()


def test_auditor_records_a_finding_with_evidence(login, bob, acme, olivia, world):
    from controls.evidence import services as evidence_services

    evidence = evidence_services.evidence_create(
        organization=acme, acting_user=olivia, title="Logging settings export", kind="note", owner=olivia,
        note="Retention: 7 days.",
    )  # fmt: skip
    client = login(bob)
    response = client.post(
        reverse("audits:finding_create", args=[world.audit.pk]),
        {"kind": "observation", "title": "No review of logs", "requirement": req("A.6.2.6").pk,
         "checklist_item": world.audit.checklist.get(ref="A.6.2.6").pk, "description": "Nobody reads the logs.",
         "evidence": [evidence.pk]},
    )  # fmt: skip
    assert response.status_code == 302
    finding = Finding.objects.get(title="No review of logs")
    assert finding.raised_by == bob and list(finding.evidence_links.values_list("evidence_id", flat=True)) == [
        evidence.pk
    ]
    missing = client.post(
        reverse("audits:finding_create", args=[world.audit.pk]),
        {"kind": "major_nc", "title": "No requirement", "description": "…"},
    )
    assert missing.status_code == 400 and "requirement" in missing.context["form"].errors


def test_corrective_action_from_finding_to_verified_effective(login, olivia, owen, alice, world):
    client = login(olivia)
    response = client.post(
        reverse("audits:ca_create"),
        {"finding": world.finding.pk, "title": "Retain logs 90 days", "root_cause": "Default retention.",
         "action": "Retention as code.", "owner": owen.pk,
         "due_date": (timezone.localdate() + timedelta(days=10)).isoformat()},
    )  # fmt: skip
    assert response.status_code == 302
    action = CorrectiveAction.objects.get(title="Retain logs 90 days")
    owner = login(owen)
    assert owner.post(reverse("audits:ca_progress", args=[action.pk, "done"])).status_code == 302
    action.refresh_from_db()
    assert action.status == "done" and action.implemented_by == owen
    # The owner cannot record the check (role), nor could an officer who implemented it.
    assert (
        owner.post(reverse("audits:ca_verify", args=[action.pk]), {"effective": "yes", "note": "ok"}).status_code == 403
    )
    page = login(alice).get(reverse("audits:ca_detail", args=[action.pk]))
    assert page.context["can_verify"] and page.context["independent"]
    closed = login(alice).post(reverse("audits:ca_verify", args=[action.pk]), {"effective": "yes", "note": "Sampled."})
    assert closed.status_code == 302
    action.refresh_from_db()
    assert action.is_closed and action.verified_by == alice
    assert login(alice).get(reverse("audits:ca_update", args=[action.pk])).status_code == 403


def test_verification_by_the_owner_is_refused_with_a_message(login, acme, olivia, world):
    officer_owned = CorrectiveActionFactory(
        acting_user=olivia, owner=olivia, finding=world.finding, title="Officer's own"
    )
    improvement.corrective_action_complete(action=officer_owned, acting_user=olivia)
    client = login(olivia)
    page = client.get(reverse("audits:ca_detail", args=[officer_owned.pk]))
    assert "someone else checks" in page.content.decode()
    refused = client.post(reverse("audits:ca_verify", args=[officer_owned.pk]), {"effective": "yes", "note": "Mine."})
    assert refused.status_code == 400
    assert "someone other than the action" in refused.content.decode()
    assert not CorrectiveAction.objects.get(pk=officer_owned.pk).is_closed


def test_owner_role_changes_only_their_own_actions(login, acme, olivia, world):
    other_owner = member(acme, Role.OWNER, "otto@acme.example")
    client = login(other_owner)
    assert client.get(reverse("audits:ca_update", args=[world.action.pk])).status_code == 403
    assert client.post(reverse("audits:ca_progress", args=[world.action.pk, "start"])).status_code == 403


def test_incident_report_and_its_corrective_actions(login, owen, olivia, acme, world):
    system = world.incident.system
    client = login(owen)
    response = client.post(
        reverse("audits:incident_create"),
        {"title": "Wrong opening hours given", "system": system.pk, "severity": "low",
         "description": "Told customers the branch opens on Sundays.", "detected_at": "2026-11-20T10:00",
         "informed_parties": "Branch manager", "informed_at": "2026-11-20T12:00", "status": "open"},
    )  # fmt: skip
    assert response.status_code == 302, response.context["form"].errors
    incident = Incident.objects.get(title="Wrong opening hours given")
    assert incident.reported_by == owen and incident.ref_code == "INC-0002"
    bad = client.post(
        reverse("audits:incident_create"),
        {"title": "Bad", "severity": "low", "description": "x", "detected_at": "2026-11-20T10:00",
         "authority_notified": "on", "status": "open"},
    )  # fmt: skip
    assert bad.status_code == 400 and "authority_notified_at" in bad.context["form"].errors
    CorrectiveActionFactory(acting_user=olivia, owner=owen, incident=world.incident, title="Ground fee answers")
    page = login(olivia).get(reverse("audits:incident_detail", args=[world.incident.pk]))
    assert [a.title for a in page.context["actions"]] == ["Ground fee answers"]
    assert "Ground fee answers" in page.content.decode()


def test_management_review_created_with_inputs_and_actions(login, olivia, alice, world):
    client = login(olivia)
    today = timezone.localdate()
    response = client.post(
        reverse("audits:review_create"),
        {"title": "Q4 review", "held_on": today.isoformat(), "period_start": f"{today.year}-01-01",
         "period_end": today.isoformat(), "attendees": [alice.pk, olivia.pk], "external_attendees": "Consultant",
         "decisions": "Keep going."},
    )  # fmt: skip
    assert response.status_code == 302
    review = ManagementReview.objects.get(title="Q4 review")
    assert review.inputs["nonconformities"]["raised"] == 2
    assert review.inputs["previous_actions"]["by_status"]["Open"] == 1
    page = client.get(reverse("audits:review_detail", args=[review.pk]))
    html = page.content.decode()
    assert "Inputs (9.3.2)" in html and "Train staff" in html and "Consultant" in html
    added = client.post(
        reverse("audits:review_action_create", args=[review.pk]),
        {"title": "Fix monitoring", "owner": alice.pk, "status": "open"},
    )
    assert added.status_code == 302 and review.actions.get().title == "Fix monitoring"
    invalid = client.post(reverse("audits:review_action_create", args=[review.pk]), {"title": "", "status": "open"})
    assert invalid.status_code == 400 and invalid.context["action_form"].errors


def test_dashboard_shows_the_improvement_tiles(login, olivia, world):
    tiles = {t.label: t for t in login(olivia).get(reverse("dashboard")).context["tiles"]}
    assert tiles["Open nonconformities"].value == 2
    assert tiles["Open incidents"].value == 1
    assert tiles["Overdue corrective actions"].value == 0
    assert "Next audit" in tiles


# --- Query counts ------------------------------------------------------------------------------


def _grow(acme, world, olivia, owen, bob, n):
    for i in range(n):
        IncidentFactory(organization=acme, acting_user=owen, system=world.incident.system, title=f"Incident {i}")
        finding = FindingFactory(audit=world.audit, acting_user=bob, title=f"Finding {i}")
        CorrectiveActionFactory(acting_user=olivia, owner=owen, finding=finding, title=f"Action {i}")
        AuditFactory(
            programme=world.programme, acting_user=olivia, lead_auditor=bob, area_owners=[owen], title=f"Audit {i}"
        )
        today = timezone.localdate()
        improvement.management_review_create(
            review=ManagementReview(organization=acme, title=f"R{i}", held_on=today, period_start=today,
                                    period_end=today),
            acting_user=olivia,
            attendees=[olivia, owen],
        )  # fmt: skip


LIST_PAGES = ["audits:home", "audits:ca_list", "audits:incident_list", "audits:review_list"]


def _queries(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_lists_cost_a_fixed_number_of_queries(login, acme, olivia, owen, bob, world):
    client = login(olivia)
    urls = [reverse(name) for name in LIST_PAGES] + [
        reverse("audits:audit_findings", args=[world.audit.pk]),
        reverse("audits:audit_checklist", args=[world.audit.pk]),
        reverse("audits:audit_actions", args=[world.audit.pk]),
    ]
    _grow(acme, world, olivia, owen, bob, 2)
    few = {url: _queries(client, url) for url in urls}
    _grow(acme, world, olivia, owen, bob, 8)
    many = {url: _queries(client, url) for url in urls}
    assert few == many
    assert max(many.values()) <= 20, many


# --- Demo --------------------------------------------------------------------------------------


def test_demo_data_tells_the_whole_story(db):
    from aims.demo import demo_seed
    from aims.models import Organization

    demo_seed()
    demo_seed()  # idempotent
    org = Organization.objects.get(slug="acme-health-ai")
    programme = AuditProgramme.objects.for_org(org).get(year=2026)
    closed, planned = programme.audits.order_by("planned_start")
    assert closed.status == "closed" and planned.status == "planned"
    assert not closed.checklist.filter(result="not_checked").exists()
    assert {"8", "8.1", "A.6.2.8"} <= set(closed.criteria_links.values_list("requirement__ref", flat=True))
    kinds = dict(closed.findings.values_list("kind", "requirement__ref"))
    assert kinds["minor_nc"] == "A.6.2.8" and {"observation", "ofi"} <= set(kinds)
    nc_action = CorrectiveAction.objects.get(finding__kind="minor_nc", finding__audit=closed)
    assert nc_action.status == "verified_effective" and nc_action.is_closed
    assert nc_action.verified_by_id not in (nc_action.owner_id, nc_action.implemented_by_id)
    auditor = closed.lead_auditor
    assert auditor.email == "auditor@demo.example" and planned.lead_auditor == auditor
    incident = Incident.objects.for_org(org).get()
    assert incident.system.external_id == "sys-chatbot" and "fee" in incident.title
    assert incident.corrective_actions.get().status == "in_progress"
    review = ManagementReview.objects.for_org(org).get()
    assert review.actions.count() == 2 and review.inputs["findings_by_kind"]["Minor nonconformity"] == 1
