"""A new organisation's administrator follows the setup checklist to a first approved SoA version."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()


def test_the_checklist_leads_a_new_admin_to_an_approved_statement_of_applicability(browser, live_server, catalogue):
    from playwright.sync_api import expect

    from aims.roles import Role
    from controls.models import ApplicabilityStatement, SoAVersion
    from tests.aims.factories import MembershipFactory, OrganizationFactory, UserFactory

    organization = OrganizationFactory(name="Northwind Lending")
    MembershipFactory(organization=organization, role=Role.ADMIN, user=UserFactory(email="ada@northwind.example"))
    MembershipFactory(organization=organization, role=Role.OFFICER, user=UserFactory(email="otto@northwind.example"))

    admin = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = admin.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, "ada@northwind.example")

    # An empty organisation: nothing done, and the dashboard says where to start.
    expect(page.get_by_role("heading", name="Set up your AIMS: 0 of 8 steps done")).to_be_visible()
    page.get_by_role("link", name="All steps").click()
    soa_step = page.locator(".setup-step", has_text="Decide the Annex A controls")
    expect(soa_step).to_contain_text("(to do)")
    soa_step.get_by_role("link", name="Open the SoA").click()

    # Every control decided and justified, inline, row after row.
    rows = page.locator("tr.soa-row")
    refs = [ref.strip() for ref in rows.locator("td:first-child").all_inner_texts()]
    assert len(refs) == 38
    for ref in refs:
        row = page.locator(f"#soa-{ref.replace('.', chr(92) + '.')}")
        row.get_by_role("link", name="Edit").click()
        row.get_by_label("Decision").select_option("yes")
        row.get_by_label("Justification").fill(f"{ref} applies to our lending models.")
        row.get_by_role("button", name="Save").click()
        expect(row.locator("form")).to_have_count(0)
        expect(row.locator(".decision")).to_have_text("Applicable")
    assert ApplicabilityStatement.objects.filter(organization=organization, applicable=True).count() == 38

    # The officer submits the statement; the administrator, who did not submit it, approves it.
    officer = browser.new_context(base_url=live_server.url)
    officer_page = officer.new_page()
    officer_page.set_default_timeout(15_000)
    sign_in(officer_page, "otto@northwind.example")
    officer_page.goto("/controls/soa/versions/")
    officer_page.get_by_role("button", name="Submit for approval").click()
    expect(officer_page.get_by_text("Submitted").first).to_be_visible()
    officer.close()

    page.goto("/controls/soa/versions/1/")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved").first).to_be_visible()
    assert SoAVersion.objects.get(organization=organization).status == SoAVersion.Status.APPROVED

    page.goto("/setup/")
    soa_step = page.locator(".setup-step", has_text="Decide the Annex A controls")
    expect(soa_step).to_contain_text("(done)")
    expect(soa_step).to_contain_text("38 of 38 controls decided, approved")
    admin.close()
