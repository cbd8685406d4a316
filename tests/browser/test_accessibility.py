"""Every main page passes axe-core with no critical or serious violation, for each role.

axe-core is the npm package pinned in ``tests/browser/axe/package-lock.json``
(``npm ci --prefix tests/browser/axe`` installs it). It is loaded into every document the way
the policy-violation reporter is, by the browser, so the portal's Content-Security-Policy
is never relaxed for it. Each role has one browser context that opens every page in turn.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.pages import check_pages, main_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("critical", "serious")
DESKTOP = {"width": 1280, "height": 900}

RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map((rule) => ({
    id: rule.id,
    impact: rule.impact,
    help: rule.help,
    targets: rule.nodes.map((node) => node.target.join(" ")),
  }));
}"""


def blocking_violations(page, path: str) -> list[str]:
    """The page's critical and serious axe violations: rule id, impact and the elements' selectors."""
    found = []
    for rule in page.evaluate(RUN_AXE):
        if rule["impact"] in BLOCKING:
            targets = ", ".join(rule["targets"][:8]) + (" …" if len(rule["targets"]) > 8 else "")
            found.append(f"{rule['id']} ({rule['impact']}) {rule['help']}: {targets}")
    return found


def test_every_main_page_has_no_critical_or_serious_accessibility_violation(browser, live_server):
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (npm ci --prefix tests/browser/axe)")
    roles = ("officer", "auditor", "viewer")
    found = check_pages(browser, live_server, main_pages(), roles, blocking_violations, DESKTOP, scripts=(AXE,))
    assert not found, f"{len(found)} accessibility problems:\n  " + "\n  ".join(found)


def test_the_skip_link_is_the_first_stop_and_moves_to_the_main_content(page, olivia):
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(olivia.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).not_to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
