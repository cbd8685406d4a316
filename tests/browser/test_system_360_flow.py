"""An AI system owner's day: My work gathers what waits for them across the modules, and a
system's page shows its risks, assessments, controls, incidents and findings in tabs."""

from __future__ import annotations

from datetime import timedelta

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def owner_world(catalogue, acme, olivia):
    from django.utils import timezone

    from aims.roles import Role
    from registry.models import SystemStatus
    from tests.aims.factories import MembershipFactory, UserFactory
    from tests.audits.factories import CorrectiveActionFactory, IncidentFactory
    from tests.controls.factories import EvidenceFactory
    from tests.registry.factories import AISystemFactory
    from tests.risk.factories import ImpactAssessmentFactory, RiskFactory, TreatmentActionFactory

    today = timezone.localdate()
    owen = UserFactory(email="owen@acme.example", full_name="Owen Owner")
    MembershipFactory(organization=acme, role=Role.OWNER, user=owen)
    system = AISystemFactory(
        organization=acme, owner=owen, status=SystemStatus.ACTIVE, name="Claims triage",
        next_review_date=today - timedelta(days=2),
    )  # fmt: skip
    risk = RiskFactory(organization=acme, owner=owen, system=system, title="Triage drifts", assessed=True)
    TreatmentActionFactory(risk=risk, owner=owen, title="Retrain monthly", due_date=today + timedelta(days=5))
    EvidenceFactory(organization=acme, owner=owen, title="Drift report", valid_until=today + timedelta(days=10))
    incident = IncidentFactory(organization=acme, acting_user=olivia, system=system, title="Wrong priority")
    CorrectiveActionFactory(
        incident=incident, owner=owen, acting_user=olivia, title="Recalibrate", due_date=today - timedelta(days=1)
    )
    ImpactAssessmentFactory(system=system, author=owen, title="First look")
    return owen, system


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()


def test_my_work_gathers_an_owners_items_from_five_modules(page, owner_world):
    from playwright.sync_api import expect

    owen, system = owner_world
    sign_in(page, owen.email)
    page.get_by_role("link", name="My work").click()
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(5)  # the impact assessment draft they wrote is theirs to finish
    modules = set(page.locator("main table tbody tr td:last-child").all_inner_texts())
    assert modules == {"Inventory", "Risks", "Evidence", "Audits", "Impact assessments"}
    expect(page.locator("main table")).to_contain_text("Retrain monthly")
    expect(page.locator("main table")).to_contain_text("Recalibrate")
    expect(page.locator("main table")).to_contain_text("Drift report")

    page.get_by_label("Due").select_option("overdue")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)  # the system review and the corrective action
    page.get_by_label("Module").select_option("Audits")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    rows.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Recalibrate")


def test_the_system_page_tabs_show_what_concerns_the_system(page, owner_world):
    from playwright.sync_api import expect

    owen, system = owner_world
    sign_in(page, owen.email)
    page.goto(f"/inventory/systems/{system.pk}/")
    tabs = page.get_by_role("navigation", name="AI system")
    expect(tabs.get_by_role("link", name="Risks 1")).to_be_visible()

    tabs.get_by_role("link", name="Risks 1").click()
    expect(page.get_by_role("heading", name="Risks of this system")).to_be_visible()
    expect(page.locator("figure.heatmap").first).to_be_visible()
    expect(page.get_by_role("link", name="Triage drifts")).to_be_visible()

    tabs.get_by_role("link", name="Impact assessments 1").click()
    expect(page.get_by_text("First look")).to_be_visible()
    tabs.get_by_role("link", name="Incidents 1").click()
    expect(page.get_by_role("link", name="Wrong priority")).to_be_visible()
    tabs.get_by_role("link", name="Findings and actions 1").click()
    expect(page.get_by_role("link", name="Recalibrate")).to_be_visible()
    tabs.get_by_role("link", name="Controls and evidence 0").click()
    expect(page.get_by_text("No control covers this system yet")).to_be_visible()
    expect(tabs.get_by_role("link", name="Controls and evidence 0")).to_have_attribute("aria-current", "page")
