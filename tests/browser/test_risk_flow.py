"""An officer records a risk, treats it with two Annex A controls and accepts it; an impact
assessment goes from draft to approved, approved by someone other than its author."""

from __future__ import annotations

import re

import pytest

from risk.models import ImpactAssessment, Risk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(catalogue):
    from aims.roles import Role
    from tests.aims.factories import MembershipFactory, OrganizationFactory, UserFactory
    from tests.registry.factories import AISystemFactory

    org = OrganizationFactory(name="Acme Health AI")
    olga = UserFactory(email="olga@example.com", full_name="Olga Officer")
    adam = UserFactory(email="adam@example.com", full_name="Adam Admin")
    MembershipFactory(user=olga, organization=org, role=Role.OFFICER)
    MembershipFactory(user=adam, organization=org, role=Role.ADMIN)
    system = AISystemFactory(organization=org, owner=olga, name="Consumer credit scoring", status="active")
    return olga, adam, system


def sign_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()


def test_risk_treated_and_accepted_then_impact_assessment_approved(page, people):
    from playwright.sync_api import expect

    olga, adam, system = people
    page.on("dialog", lambda dialog: dialog.accept())  # the "are you sure?" confirmations
    sign_in(page, "olga@example.com")

    # Record and score the risk.
    page.get_by_label("Main").get_by_role("link", name="Risks").click()
    page.get_by_role("link", name="New risk").click()
    page.locator("#id_title").fill("Unfair refusals for younger applicants")
    page.get_by_label("System").select_option(label=f"{system.ref_code} {system.name}")
    page.get_by_label("Inherent likelihood").select_option("4")
    page.get_by_label("Inherent impact").select_option("4")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unfair refusals for younger applicants")
    expect(page.locator(".page-head .level")).to_have_text("High")

    # Treat it with two Annex A controls.
    page.get_by_role("link", name="Add a treatment").click()
    page.locator("#id_title").fill("Quarterly bias testing by age band")
    controls = page.get_by_role("group", name="Annex A controls it relies on")
    controls.get_by_label("A.6.2.4 AI system verification and validation", exact=True).check()
    controls.get_by_label("A.7.4 Quality of data for AI systems", exact=True).check()
    page.get_by_role("button", name="Save treatment").click()
    expect(page.locator(".linked")).to_contain_text("A.6.2.4")
    expect(page.locator(".linked")).to_contain_text("A.7.4")

    # Above the threshold it cannot be accepted without an override; reassess after treatment.
    page.get_by_label("Why the organisation accepts it").fill("Fine.")
    page.get_by_role("button", name="Accept risk").click()
    expect(page.locator(".error")).to_contain_text("above the acceptance threshold")
    page.locator(".page-head").get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Treatment option").select_option("modify")
    page.get_by_label("Residual likelihood").select_option("2")
    page.get_by_label("Residual impact").select_option("2")
    page.get_by_role("button", name="Save").click()
    page.get_by_label("Why the organisation accepts it").fill("Bias tests every quarter keep the residual risk low.")
    page.get_by_role("button", name="Accept risk").click()
    expect(page.locator(".page-head .status")).to_have_text("Accepted")

    # Impact assessment: draft, impact, conclusion, submit.
    page.get_by_label("Main").get_by_role("link", name="Impact assessments").click()
    start = page.locator("form[action$='/impact-assessments/start/']").first
    start.get_by_label("AI system").select_option(label=f"{system.ref_code} {system.name}")
    start.get_by_role("button", name="Start assessment").click()
    page.get_by_label("Conclusion").fill("Benefits outweigh the residual harms with the measures in place.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_label("Affected party").select_option("groups")
    page.get_by_label("Dimension").select_option("fairness")
    page.get_by_label("Benefit or harm").select_option("harm")
    page.get_by_label("Description").fill("Younger applicants are refused more often than equally solvent others.")
    page.get_by_role("button", name="Add impact").click()
    expect(page.get_by_text("Younger applicants are refused more often")).to_be_visible()
    page.get_by_role("button", name="Submit for review").first.click()
    expect(page.locator(".page-head .status, .status").first).to_contain_text("In review")

    # The author cannot approve; another approver does.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "adam@example.com")
    page.get_by_label("Main").get_by_role("link", name="Impact assessments").click()
    page.locator("table.table").get_by_role("link", name=re.compile(system.name)).click()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved", exact=True).first).to_be_visible()

    assessment = ImpactAssessment.objects.get()
    assert assessment.status == "approved" and assessment.approved_by == adam and assessment.author == olga
    risk = Risk.objects.get()
    assert risk.status == "accepted" and risk.residual_level == "low"
    assert sorted(risk.treatments.get().control_links.values_list("control__ref", flat=True)) == ["A.6.2.4", "A.7.4"]
