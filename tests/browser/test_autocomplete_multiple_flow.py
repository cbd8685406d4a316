"""An officer with more than a select's worth of AI systems picks the ones a control covers by keyboard."""

from __future__ import annotations

import pytest

from controls.models import ApplicabilityStatement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(catalogue, settings):
    from aims.roles import Role
    from controls.soa import services as soa
    from tests.aims.factories import MembershipFactory, OrganizationFactory, UserFactory
    from tests.registry.factories import AISystemFactory

    org = OrganizationFactory(name="Acme Health AI")
    olga = UserFactory(email="olga@example.com", full_name="Olga Officer")
    MembershipFactory(user=olga, organization=org, role=Role.OFFICER)
    AISystemFactory.create_batch(settings.AUTOCOMPLETE_ABOVE + 5, organization=org, owner=olga)
    credit = AISystemFactory(organization=org, owner=olga, name="Consumer credit scoring")
    sepsis = AISystemFactory(organization=org, owner=olga, name="Sepsis early warning")
    soa.soa_rows_ensure(org)
    return olga, credit, sepsis


def test_officer_adds_two_systems_by_keyboard_removes_one_and_saves(page, people):
    from playwright.sync_api import expect

    olga, credit, sepsis = people
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(olga.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()

    page.goto("/controls/soa/A.6.2.6/edit/")
    expect(page.locator("select[name=systems]")).to_have_count(0)
    assert page.locator("option").count() <= 100  # the other selects of the form, not one per system
    box = page.get_by_role("combobox", name="AI systems it covers")
    listbox = page.locator("#id_systems_listbox")
    chosen = page.locator("input[type=hidden][name=systems]")

    for system, search in ((credit, "credit"), (sepsis, "sepsis")):
        box.click()
        box.press_sequentially(search, delay=30)
        expect(listbox.get_by_role("option")).to_have_text([f"{system.ref_code} {system.name}"])
        box.press("ArrowDown")
        expect(box).to_have_attribute("aria-activedescendant", "id_systems_listbox_0")
        box.press("Enter")  # adds a chip; does not submit the form
        expect(listbox).to_be_hidden()
        expect(box).to_have_value("")
        expect(page.get_by_role("button", name=f"Remove {system.ref_code} {system.name}")).to_be_visible()
    expect(chosen).to_have_count(2)
    assert [chosen.nth(n).input_value() for n in range(2)] == [str(credit.pk), str(sepsis.pk)]

    # A system chosen already is not offered again.
    box.press_sequentially("credit", delay=30)
    expect(listbox).to_contain_text("Every match is chosen already.")
    expect(listbox.locator("[role=option]:not([aria-disabled=true])")).to_have_count(0)
    box.press("Escape")
    expect(box).to_have_value("")

    # Backspace at the start of the box goes to the last chip; Delete there removes it.
    box.press("Backspace")
    sepsis_chip = page.get_by_role("button", name=f"Remove {sepsis.ref_code} {sepsis.name}")
    expect(sepsis_chip).to_be_focused()
    sepsis_chip.press("Delete")
    expect(sepsis_chip).to_have_count(0)
    credit_chip = page.get_by_role("button", name=f"Remove {credit.ref_code} {credit.name}")
    expect(credit_chip).to_be_focused()
    expect(chosen).to_have_count(1)

    page.get_by_label("Decision").select_option("yes")
    page.get_by_label("Justification").fill("Systems that decide about people are watched in operation.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Statement of Applicability")
    row = ApplicabilityStatement.objects.get(organization=credit.organization, control__ref="A.6.2.6")
    assert [link.system_id for link in row.system_links.all()] == [credit.pk]
