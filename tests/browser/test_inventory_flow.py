"""An officer records a system with a model and a dataset, assigns RACI and finds it by filters."""

from __future__ import annotations

import re

import pytest

from registry.models import AISystem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def officer():
    from aims.roles import Role
    from tests.aims.factories import MembershipFactory, OrganizationFactory, UserFactory

    user = UserFactory(email="olga@example.com", full_name="Olga Officer")
    MembershipFactory(user=user, organization=OrganizationFactory(name="Acme Health AI"), role=Role.OFFICER)
    return user


def test_record_a_system_with_model_and_data_assign_raci_and_filter(page, officer):
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill("olga@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()

    page.get_by_label("Main").get_by_role("link", name="Inventory").click()
    expect(page.get_by_text("The inventory is empty.")).to_be_visible()

    # A dataset, then a model trained on it.
    page.get_by_role("link", name="Datasets").click()
    page.get_by_role("link", name="New dataset").click()
    page.get_by_label("Name").fill("Loan applications 2019-2025")
    page.get_by_label("Purpose").select_option("training")
    page.get_by_label("Contains personal data").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Loan applications 2019-2025")

    page.get_by_label("Main").get_by_role("link", name="Inventory").click()
    page.get_by_role("link", name="Models").click()
    page.get_by_role("link", name="New model").click()
    page.get_by_label("Name").fill("credit-gbm")
    page.get_by_label("Version").fill("3.2")
    page.get_by_label("Framework").fill("LightGBM")
    page.locator("#id_training_datasets").get_by_label("Loan applications 2019-2025").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("credit-gbm v3.2")

    # The system itself; the form reports the missing rationale first.
    page.get_by_label("Main").get_by_role("link", name="Inventory").click()
    page.get_by_role("link", name="New AI system").click()
    page.locator("#id_name").fill("Consumer credit scoring")
    page.locator("#id_purpose").fill("Estimate the default risk of loan applicants.")
    page.get_by_label("AI provider").check()
    page.get_by_label("Life-cycle stage").select_option("operation")
    page.get_by_label("Status").select_option("active")
    page.get_by_label("EU AI Act tier").select_option("high")
    page.get_by_label("Annex III area").select_option("5")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field-invalid .error")).to_contain_text("Give the reasons for this EU AI Act tier.")
    page.get_by_label("Tier rationale").fill("Creditworthiness of natural persons, Annex III 5(b).")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Consumer credit scoring")
    expect(page.get_by_text("This active system has no Accountable person.")).to_be_visible()

    page.get_by_role("link", name=re.compile("Models and data")).click()
    page.get_by_label("Model").select_option(label="credit-gbm v3.2")
    page.get_by_role("button", name="Link model").click()
    expect(page.locator(".linked")).to_contain_text("Loan applications 2019-2025")

    page.get_by_role("link", name=re.compile("Responsibilities")).click()
    page.get_by_label("RACI role").select_option("A")
    page.get_by_label("Member").select_option(label="Olga Officer (olga@example.com)")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator("table.table")).to_contain_text("Accountable")
    expect(page.get_by_text("This active system has no Accountable person.")).to_have_count(0)

    # Found through the filters, and not found when they exclude it.
    page.get_by_label("Main").get_by_role("link", name="Inventory").click()
    page.get_by_label("EU AI Act tier").select_option("high")
    page.get_by_label("Our role").select_option("provider")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("table.table tbody tr")).to_have_count(1)
    expect(page.locator("table.table")).to_contain_text("AIS-0001")
    page.get_by_label("EU AI Act tier").select_option("minimal")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No AI system matches these filters.")).to_be_visible()

    system = AISystem.objects.get()
    assert system.accountable_assignment.member == officer
    assert [link.model.name for link in system.model_links.all()] == ["credit-gbm"]
