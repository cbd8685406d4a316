"""A member presses "/" on any page, types a few words and lands on the system they looked for."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_slash_opens_the_search_and_a_result_opens_its_page(page, catalogue, acme, olivia):
    from playwright.sync_api import expect

    from tests.registry.factories import AISystemFactory

    system = AISystemFactory(organization=acme, owner=olivia, name="Claims triage model")
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(olivia.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.goto("/risks/")

    page.locator("body").press("/")
    box = page.get_by_role("searchbox", name="Search the portal")
    expect(box).to_be_focused()
    page.keyboard.type("claims triage")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="AI systems")).to_be_visible()
    page.get_by_role("link", name=f"{system.ref_code} Claims triage model").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Claims triage model")
