"""Headless Chromium through Playwright, against the live test server.

Uses Debian's ``chromium`` (Playwright's own browser download cannot work here). Without it
the tests skip, which CI (AIMS_REQUIRE_SERVICES=1) turns into a failure.

Every page of a test's browser context is watched: a console error, an uncaught page error
or a Content-Security-Policy violation (Chromium's "Refused to …" messages and the page's
``securitypolicyviolation`` events) fails the test at teardown, so each browser test also
proves that what it used runs under the portal's policy.
"""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the live server runs in another
    # thread, and the test's own ORM calls are plain synchronous ones.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


# Runs in every document before its own scripts, outside the page's policy (it is injected by
# the browser), and reports each violation on the console, where the fixture collects it.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`securitypolicyviolation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || event.documentURI}:${event.lineNumber}`);
});
"""


# Violations that are the policy working as meant, each with its reason. Keep it short.
EXPECTED_VIOLATIONS = {
    "https://cdn.redoc.ly/redoc/logo-mini.svg": "ReDoc's own Redocly logo: the portal loads nothing from elsewhere",
}


class BrowserProblems:
    """Console errors, page errors and policy violations of every page of one browser context.

    Only the portal's own pages (``origin``) are judged: an identity provider's pages, which a
    sign-in passes through, are not the portal's to fix. One console error is not a problem:
    Chromium's "Failed to load resource" for a page itself, when the portal answered a form
    with errors as 400 (or a refusal as 403/404) by design. The same message for a script, a
    stylesheet or an image is one.
    """

    def __init__(self, origin: str) -> None:
        self.origin = origin.rstrip("/") + "/"
        self.found: list[str] = []
        self.documents: set[str] = set()

    def watch(self, page) -> None:
        page.on("console", lambda message: self.console(page, message))
        page.on("pageerror", lambda error: self.page_error(page, error))
        page.on("response", self.response)

    def ours(self, page) -> bool:
        return page.url.startswith(self.origin)

    def page_error(self, page, error) -> None:
        if self.ours(page):
            self.found.append(f"page error on {page.url}: {error}")

    def response(self, response) -> None:
        if response.request.resource_type == "document":
            self.documents.add(response.url)

    def console(self, page, message) -> None:
        if not self.ours(page):
            return
        text = message.text
        if text.startswith("Failed to load resource") and message.location.get("url") in self.documents:
            return
        if any(url in text for url in EXPECTED_VIOLATIONS):
            return
        if message.type == "error" or "Refused to" in text or "Content Security Policy" in text:
            self.found.append(f"console {message.type} on {page.url}: {text}")


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.add_init_script(REPORT_VIOLATIONS)
    problems = BrowserProblems(live_server.url)
    context.on("page", problems.watch)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
    if problems.found:
        pytest.fail("The browser reported:\n  " + "\n  ".join(problems.found), pytrace=False)
