"""Runs an internal audit from plan to a closed corrective action: the officer plans it with its criteria and
an auditor, the auditor records a checklist result and a nonconformity, the officer raises a corrective
action owned by an AI system owner, the owner marks it done and a third person checks its effectiveness."""

from __future__ import annotations

import pytest

from audits.models import Audit, ChecklistItem, CorrectiveAction, Finding

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(catalogue):
    from aims.roles import Role
    from tests.aims.factories import MembershipFactory, OrganizationFactory, UserFactory

    org = OrganizationFactory(name="Acme Health AI")
    users = {}
    for key, name, role in [
        ("olga", "Olga Officer", Role.OFFICER),
        ("bea", "Bea Auditor", Role.AUDITOR),
        ("owen", "Owen Owner", Role.OWNER),
        ("adam", "Adam Admin", Role.ADMIN),
    ]:
        users[key] = UserFactory(email=f"{key}@example.com", full_name=name)
        MembershipFactory(user=users[key], organization=org, role=role)
    return users


def sign_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()


def switch_to(page, email):
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, email)


def open_audits(page):
    page.get_by_label("Main").get_by_role("link", name="Audits", exact=True).click()


def test_runs_an_internal_audit_from_plan_to_a_closed_corrective_action(page, people):
    from playwright.sync_api import expect

    page.on("dialog", lambda dialog: dialog.accept())  # the "are you sure?" confirmations
    sign_in(page, "olga@example.com")

    # The officer starts the year's programme and plans an audit of Owen's area, led by Bea.
    open_audits(page)
    page.get_by_role("button", name="Create programme").click()
    expect(page.get_by_role("heading", name="Audit programme", exact=False).first).to_be_visible()
    page.get_by_role("link", name="Plan an audit").click()
    page.locator("#id_title").fill("AI system life cycle")
    page.locator("#id_scope").fill("Design, verification and logging of the customer service assistant.")
    # The criteria are checkboxes; the box above them narrows the 80 clauses and controls.
    criteria = page.get_by_role("group", name="Audit criteria")
    criteria.get_by_label("Filter: Audit criteria").fill("risk assessment")
    expect(criteria.get_by_label("A.6.2.8 AI system recording of event logs", exact=True)).to_be_hidden()
    criteria.get_by_label("8.2 AI risk assessment", exact=True).check()
    criteria.get_by_label("Filter: Audit criteria").fill("")
    criteria.get_by_label("A.6.2.8 AI system recording of event logs", exact=True).check()
    page.get_by_label("Lead auditor").select_option(label="Bea Auditor (bea@example.com)")
    page.locator(f"#id_area_owners input[value='{people['owen'].pk}']").check()
    page.get_by_label("Planned start").fill("2026-12-01")
    page.get_by_label("Planned end").fill("2026-12-03")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("AI system life cycle")
    page.get_by_role("button", name="Start audit").click()
    expect(page.locator("table.checklist")).to_contain_text("A.6.2.8")

    # The auditor records a checklist result inline, then the nonconformity.
    switch_to(page, "bea@example.com")
    open_audits(page)
    page.get_by_role("link", name="AI system life cycle").click()
    page.get_by_role("link", name="Checklist").click()
    row = page.locator("tr", has_text="A.6.2.8")
    row.get_by_role("link", name="Record").click()
    editor = page.locator("tr.editing form")
    editor.get_by_label("Result").select_option("nonconforming")
    editor.get_by_label("Notes").fill("Event logs are kept 7 days; the procedure asks for 90.")
    editor.get_by_role("button", name="Save result").click()
    expect(page.locator("tr.editing")).to_have_count(0)
    expect(page.locator("tr", has_text="A.6.2.8")).to_contain_text("Nonconforming")
    page.locator("tr", has_text="A.6.2.8").get_by_role("link", name="Finding").click()
    page.get_by_label("Kind").select_option("minor_nc")
    page.locator("#id_title").fill("Event logs kept too briefly")
    page.get_by_label("Description").fill("Logs older than a week are deleted; incidents cannot be reconstructed.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".linked")).to_contain_text("Event logs kept too briefly")
    expect(page.locator(".linked")).to_contain_text("Minor nonconformity")

    # The officer raises a corrective action owned by Owen.
    switch_to(page, "olga@example.com")
    open_audits(page)
    page.get_by_role("link", name="AI system life cycle").click()
    page.get_by_role("link", name="Findings").click()
    page.get_by_role("link", name="Raise corrective action").click()
    page.get_by_label("Root cause").fill("The platform's default retention was never changed.")
    page.get_by_label("Corrective action").fill("Retention set as code; deployment checklist item added.")
    page.get_by_label("Owner").select_option(label="Owen Owner (owen@example.com)")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#ca-status")).to_have_text("Open")

    # Owen implements it.
    switch_to(page, "owen@example.com")
    open_audits(page)
    page.get_by_role("link", name="Corrective actions").click()
    page.get_by_role("link", name="Correct: Event logs kept too briefly").click()
    page.get_by_role("button", name="Mark done").click()
    expect(page.locator("#ca-status")).to_have_text("Done, awaiting effectiveness check")

    # A third person checks its effectiveness: it closes.
    switch_to(page, "adam@example.com")
    open_audits(page)
    page.get_by_role("link", name="Corrective actions").click()
    page.get_by_role("link", name="Correct: Event logs kept too briefly").click()
    page.get_by_label("Effective: the cause is removed, close the action").check()
    page.get_by_label("What was checked and what it showed").fill("Sampled three systems: logs kept 90 days.")
    page.get_by_role("button", name="Record the check").click()
    expect(page.locator("#ca-status")).to_have_text("Verified effective")
    expect(page.locator(".page-head")).to_contain_text("Closed")

    audit = Audit.objects.get()
    assert audit.lead_auditor == people["bea"] and audit.status == "in_progress"
    item = ChecklistItem.objects.get(audit=audit, ref="A.6.2.8")
    assert item.result == "nonconforming" and item.checked_by == people["bea"]
    finding = Finding.objects.get()
    assert finding.kind == "minor_nc" and finding.raised_by == people["bea"] and finding.requirement.ref == "A.6.2.8"
    action = CorrectiveAction.objects.get()
    assert action.finding == finding and action.owner == people["owen"]
    assert action.implemented_by == people["owen"] and action.verified_by == people["adam"]
    assert action.status == "verified_effective" and action.is_closed
