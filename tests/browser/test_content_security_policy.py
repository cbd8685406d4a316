"""The portal in Chromium under its Content-Security-Policy.

The ``page`` fixture fails any test whose pages logged a console error or a policy
violation; these tests open what the other browser tests do not reach (the API
documentation, the Django admin, the readiness bars, the small-screen menu, a sign-in that
leaves for an identity provider) and prove that the fixture does see a violation.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from allauth.socialaccount.models import SocialApp

from tests.browser.conftest import REPORT_VIOLATIONS, BrowserProblems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^(?!.*/accounts/login/)"))


@pytest.fixture
def admin_user(catalogue):
    from aims.roles import Role
    from tests.aims.factories import MembershipFactory, OrganizationFactory, UserFactory

    user = UserFactory(email="ada@example.com", full_name="Ada Admin")
    MembershipFactory(user=user, organization=OrganizationFactory(name="Acme Health AI"), role=Role.ADMIN)
    return user


INSERT = "(html) => document.body.insertAdjacentHTML('beforeend', html)"


def test_the_fixture_sees_an_inline_handler_the_policy_refuses(browser, live_server, admin_user):
    context = browser.new_context(base_url=live_server.url)
    context.add_init_script(REPORT_VIOLATIONS)
    problems = BrowserProblems(live_server.url)
    context.on("page", problems.watch)
    page = context.new_page()
    try:
        sign_in(page, "ada@example.com")
        assert problems.found == []
        with page.expect_console_message(lambda message: "script-src-attr" in message.text):
            page.evaluate(INSERT, '<img src="data:,x" onerror="window.ran = 1">')
        with page.expect_console_message(lambda message: "style-src-attr" in message.text):
            page.evaluate(INSERT, '<p style="color: red">styled</p>')
        assert page.evaluate("window.ran") is None, "the inline handler ran"
    finally:
        context.close()
    text = "\n".join(problems.found)
    assert "securitypolicyviolation: script-src-attr" in text, text
    assert "securitypolicyviolation: style-src-attr" in text, text


def test_swagger_ui_and_redoc_render_the_api_schema(page, admin_user):
    from playwright.sync_api import expect

    sign_in(page, "ada@example.com")
    page.goto("/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("AIMS portal API", timeout=30_000)
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()

    page.goto("/api/v1/redoc/")
    expect(page.locator("#redoc-container h1").first).to_contain_text("AIMS portal API", timeout=30_000)
    # ReDoc's styles took effect: its menu is laid out beside the content, not above it.
    menu = page.locator(".menu-content").bounding_box()
    content = page.locator(".api-content").bounding_box()
    assert menu["x"] + menu["width"] <= content["x"] + 1
    page.get_by_placeholder("Search...").fill("systems")
    expect(page.locator("[role=search] li, .search-results li, [data-role='search:results'] li").first).to_be_visible()


def test_the_django_admin_works_with_its_scripts_under_the_policy(page, catalogue):
    from playwright.sync_api import expect

    from tests.aims.factories import UserFactory

    staff = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    page.goto("/admin/login/")
    page.locator("#id_username").fill("root@example.com")
    page.locator("#id_password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"/admin/aims/user/{staff.pk}/change/")
    # The two-list permission chooser is built by the admin's SelectFilter2 script.
    expect(page.locator("#id_user_permissions_from")).to_be_visible()
    page.locator("#id_user_permissions_from option").first.click()
    page.locator("#id_user_permissions_add").click()
    expect(page.locator("#id_user_permissions_to option")).to_have_count(1)
    page.goto("/admin/aims/user/")
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")


def test_readiness_bars_are_drawn_to_their_scores(page, admin_user):
    sign_in(page, "ada@example.com")
    page.goto("/controls/readiness/")
    meters = page.locator(".ready-block svg.meter")
    assert meters.count() > 5
    for index in range(meters.count()):
        meter = meters.nth(index)
        score = int(meter.locator("rect").get_attribute("width"))
        shown = meter.locator("xpath=following-sibling::span[1]").inner_text()
        assert shown == f"{score} %"
        box, fill = meter.bounding_box(), meter.locator("rect").bounding_box()
        drawn = fill["width"] if fill and score else 0.0
        assert abs(drawn - box["width"] * score / 100) < 1.5, (score, drawn, box["width"])


def test_the_menu_opens_on_a_small_screen(page, admin_user):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 600, "height": 900})
    sign_in(page, "ada@example.com")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.locator("body")).to_have_class(re.compile(r"\bsidebar-open\b"))


class _IdentityProvider(BaseHTTPRequestHandler):
    """Where a SAML sign-in request lands: it answers its sign-in page, and keeps the request."""

    received: list[str] = []

    def do_GET(self) -> None:
        type(self).received.append(self.path)
        body = b"<!doctype html><title>Identity provider</title><h1>Identity provider sign-in</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def identity_provider():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _IdentityProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _IdentityProvider.received = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_sign_in_form_hands_the_browser_over_to_the_identity_provider(page, catalogue, identity_provider):
    """form-action 'self' would stop the redirect to the IdP; the hand-off page moves on instead."""
    from playwright.sync_api import expect

    SocialApp.objects.create(
        provider="saml",
        provider_id="acme-idp",
        name="Acme IdP",
        client_id="acme",
        settings={
            "idp": {"entity_id": f"{identity_provider}/idp", "sso_url": f"{identity_provider}/sso", "x509cert": ""},
            "advanced": {"allow_single_label_domains": True},  # the live server is "localhost"
        },
    )
    page.goto("/accounts/saml/acme/login/")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Identity provider sign-in")).to_be_visible()
    assert page.url.startswith(f"{identity_provider}/sso?SAMLRequest=")
    assert _IdentityProvider.received[0].startswith("/sso?SAMLRequest=")


class _StrictSite(BaseHTTPRequestHandler):
    """A page under form-action 'self' whose form is answered with a plain redirect to the IdP."""

    identity_provider = ""

    def do_GET(self) -> None:
        body = b'<!doctype html><form method="post" action="/sign-in"><button>Sign in</button></form>'
        self.send_response(200)
        self.send_header("Content-Security-Policy", "default-src 'self'; form-action 'self'")
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.send_response(302)
        self.send_header("Location", f"{self.identity_provider}/sso")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_chromium_refuses_a_redirect_off_site_after_a_form_under_form_action_self(browser, identity_provider):
    """Why the hand-off page exists: should Chromium ever allow this, the hand-off can go."""
    _StrictSite.identity_provider = identity_provider
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StrictSite)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = browser.new_page()
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        with page.expect_console_message(lambda message: "form-action" in message.text):
            page.get_by_role("button", name="Sign in").click()
        assert page.url.startswith("http://127.0.0.1:") and "/sso" not in page.url
        assert _IdentityProvider.received == []
    finally:
        page.close()
        server.shutdown()
        server.server_close()
