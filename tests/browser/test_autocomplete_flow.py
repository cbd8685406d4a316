"""An officer with many AI systems picks one from the search box by keyboard and saves the risk."""

from __future__ import annotations

import pytest

from risk.models import Risk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(catalogue, settings):
    from aims.roles import Role
    from tests.aims.factories import MembershipFactory, OrganizationFactory, UserFactory
    from tests.registry.factories import AISystemFactory

    settings.AUTOCOMPLETE_ABOVE = 3  # the live server runs in this process: five systems make a long list
    org = OrganizationFactory(name="Acme Health AI")
    olga = UserFactory(email="olga@example.com", full_name="Olga Officer")
    MembershipFactory(user=olga, organization=org, role=Role.OFFICER)
    for name in ("Chest X-ray reader", "Sepsis early warning", "Invoice reader", "Triage chatbot"):
        AISystemFactory(organization=org, owner=olga, name=name)
    wanted = AISystemFactory(organization=org, owner=olga, name="Consumer credit scoring")
    return olga, wanted


def test_officer_types_picks_a_system_with_the_keyboard_and_saves(page, people):
    from playwright.sync_api import expect

    olga, wanted = people
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(olga.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()

    page.goto("/risks/new/")
    page.locator("#id_title").fill("Unfair refusals for younger applicants")
    box = page.get_by_role("combobox", name="System")
    expect(page.locator("select[name=system]")).to_have_count(0)
    box.click()
    box.press_sequentially("credit", delay=30)
    listbox = page.locator("#id_system_listbox")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(listbox.get_by_role("option")).to_have_count(1)

    # Escape closes the list and undoes the unfinished text; typing again brings it back.
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_value("")
    box.press_sequentially("credit", delay=30)
    expect(listbox.get_by_role("option")).to_have_text([f"{wanted.ref_code} {wanted.name}"])
    box.press("ArrowDown")
    expect(listbox.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "id_system_listbox_0")
    box.press("Enter")  # picks; does not submit the form
    expect(listbox).to_be_hidden()
    expect(box).to_have_value(f"{wanted.ref_code} {wanted.name}")
    expect(page.locator("input[type=hidden][name=system]")).to_have_value(str(wanted.pk))

    page.get_by_label("Inherent likelihood").select_option("4")
    page.get_by_label("Inherent impact").select_option("4")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unfair refusals for younger applicants")
    assert Risk.objects.get().system == wanted
