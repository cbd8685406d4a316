"""An officer edits SoA rows inline, uploads evidence for a control, and sees readiness change."""

from __future__ import annotations

import re

import pytest

from controls.models import ApplicabilityStatement, Evidence

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def officer(catalogue):
    from aims.roles import Role
    from tests.aims.factories import MembershipFactory, OrganizationFactory, UserFactory

    user = UserFactory(email="olga@example.com", full_name="Olga Officer")
    MembershipFactory(user=user, organization=OrganizationFactory(name="Acme Health AI"), role=Role.OFFICER)
    return user


def area_score(page, ref: str) -> int:
    block = page.locator(".ready-block", has=page.get_by_text(re.compile(rf"^{re.escape(ref)} "))).first
    return int(re.search(r"(\d+) %", block.locator(".row-between").inner_text()).group(1))


def test_edit_soa_rows_upload_evidence_and_watch_readiness(page, officer, tmp_path, settings):
    from playwright.sync_api import expect

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill("olga@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()

    page.goto("/controls/readiness/")
    before = area_score(page, "A.2")

    # Inline editing: the row turns into a form in place and back into a row when saved.
    page.get_by_label("Main").get_by_role("link", name="Controls and SoA").click()
    row = page.locator("#soa-A\\.2\\.2")
    row.get_by_role("link", name="Edit").click()
    form = page.locator("#soa-A\\.2\\.2 form")
    form.get_by_label("Decision").select_option("yes")
    form.get_by_role("button", name="Save").click()
    expect(page.locator("#soa-A\\.2\\.2 .error")).to_contain_text("Explain why this control is included")
    page.locator("#soa-A\\.2\\.2 form").get_by_label("Justification").fill("Our AI policy is the top of the AIMS.")
    page.locator("#soa-A\\.2\\.2 form").get_by_label("Implementation status").select_option("implemented")
    page.locator("#soa-A\\.2\\.2 form").get_by_role("button", name="Save").click()
    expect(page.locator("#soa-A\\.2\\.2")).to_contain_text("Applicable")
    expect(page.locator("#soa-A\\.2\\.2 form")).to_have_count(0)
    expect(page.locator("#soa-A\\.2\\.2")).to_contain_text("Implemented")

    # Evidence for the control, uploaded from its page.
    page.locator("#soa-A\\.2\\.2").get_by_role("link", name="AI policy").click()
    page.get_by_role("link", name="Add evidence").click()
    page.get_by_label("Title").fill("AI policy v2.1 (signed)")
    policy = tmp_path / "ai-policy.pdf"
    policy.write_bytes(b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
    page.locator("input[type=file]").set_input_files(str(policy))
    page.get_by_role("button", name="Record evidence").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("AI policy v2.1")

    page.goto("/controls/readiness/")
    after = area_score(page, "A.2")
    assert after > before
    row = ApplicabilityStatement.objects.get(control__ref="A.2.2")
    assert row.applicable is True and row.implementation_status == "implemented"
    evidence = Evidence.objects.get()
    assert evidence.links.get().control.ref == "A.2.2" and evidence.versions.get().sha256


FOCUSED_ROW = "() => document.activeElement.closest('tr')?.id || ''"
FOCUS_IN_EDITOR = "() => !!document.activeElement.closest('form[data-inline-editor]')"
FOCUSED_LABEL = "() => document.activeElement.getAttribute('aria-label') || document.activeElement.textContent.trim()"


def test_an_soa_row_is_edited_with_the_keyboard_alone(page, officer):
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill("olga@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.goto("/controls/soa/")

    # Enter on a row's Edit opens the editor with the focus on its first field...
    page.locator("#soa-A\\.2\\.3 [data-inline-edit]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#soa-A\\.2\\.3 form")).to_be_visible()
    page.wait_for_function(FOCUS_IN_EDITOR)
    assert page.evaluate("() => document.activeElement.name") == "applicable"
    # ...and Escape closes it, the focus back on the same Edit.
    page.keyboard.press("Escape")
    expect(page.locator("#soa-A\\.2\\.3 form")).to_have_count(0)
    page.wait_for_function("() => document.activeElement.hasAttribute('data-inline-edit')")
    assert page.evaluate(FOCUSED_ROW) == "soa-A.2.3"

    # Open it again, decide, justify and save without the mouse.
    page.keyboard.press("Enter")
    page.wait_for_function(FOCUS_IN_EDITOR)
    page.keyboard.press("ArrowDown")  # the decision's next choice: applicable
    assert page.evaluate("() => document.activeElement.value") == "yes"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.name") == "justification"
    page.keyboard.type("Every AI policy names its owner.")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED_LABEL) == "Save":
            break
    assert page.evaluate(FOCUSED_LABEL) == "Save"
    page.keyboard.press("Enter")
    expect(page.locator("#soa-A\\.2\\.3")).to_contain_text("Applicable")
    expect(page.locator("#soa-A\\.2\\.3 form")).to_have_count(0)
    page.wait_for_function("() => document.activeElement.hasAttribute('data-inline-edit')")
    assert page.evaluate(FOCUSED_ROW) == "soa-A.2.3"
    row = ApplicabilityStatement.objects.get(control__ref="A.2.3")
    assert row.applicable is True and row.justification == "Every AI policy names its owner."
