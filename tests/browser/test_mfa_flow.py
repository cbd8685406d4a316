"""Security keys in a real browser: Chromium's virtual authenticator (CDP WebAuthn domain).

WebAuthn needs a domain as relying-party id, so the browser talks to http://localhost:<port>
(the live server's own address), never 127.0.0.1.
"""

from __future__ import annotations

import re
from importlib import import_module

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings

from aims.identity.models import SecurityPolicy
from aims.identity.services import security_policy_update
from aims.models import ApiToken
from aims.security.models import SecurityEvent
from tests.aims.identity.sessions import session_age_authentication

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def console_errors(page):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.fixture
def authenticator(page):
    """A security key plugged into the browser: CTAP2 over USB, with a PIN the user has entered."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    yield cdp, added["authenticatorId"]
    cdp.send("WebAuthn.disable")


def sign_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def age_browser_session(page, seconds):
    """Move the browser session's recorded sign-ins ``seconds`` into the past."""
    key = next(c["value"] for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    session_age_authentication(store, seconds)


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


def test_add_a_security_key_then_sign_in_with_it(page, live_server, alice, authenticator, console_errors):
    from playwright.sync_api import expect

    assert live_server.url.startswith("http://localhost:")
    cdp, authenticator_id = authenticator
    sign_in(page, alice.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Health AI")

    page.get_by_role("link", name="Account security").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Account security")
    page.get_by_role("link", name="Set up").click()
    page.get_by_role("link", name="Add a security key").click()
    # Adding a key is a sensitive step: allauth asks for the password once more.
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Add a security key")
    page.get_by_label("Name").fill("Desk key")
    page.get_by_role("button", name="Add", exact=True).click()
    # A first key comes with recovery codes.
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery codes")
    expect(page.locator("#recovery_codes li")).to_have_count(10)
    key = Authenticator.objects.get(user=alice, type=Authenticator.Type.WEBAUTHN)
    assert key.wrap().name == "Desk key"
    assert len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]) == 1

    page.goto("/accounts/2fa/webauthn/")
    expect(page.locator("#security-keys")).to_contain_text("Desk key")
    page.get_by_role("link", name="Rename").click()
    page.get_by_label("Name").fill("Yellow key")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#security-keys")).to_contain_text("Yellow key")

    sign_out(page)
    sign_in(page, alice.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor authentication")
    page.get_by_role("button", name="Use a security key").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Health AI")
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.MFA_ADDED, user=alice, details__method="webauthn"
    ).exists()

    # Ten minutes later, creating an API token asks to confirm; the key confirms it.
    age_browser_session(page, 10 * 60)
    page.goto("/organisation/api-tokens/")
    page.get_by_label("Name").fill("Nightly export")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
    assert not ApiToken.objects.exists()
    page.get_by_role("link", name="Use a security key").click()
    page.get_by_role("button", name="Use a security key").click()
    expect(page.locator("#new-token")).to_have_value(re.compile(r"^aims_"))
    assert ApiToken.objects.get().name == "Nightly export"

    # Removing the key (still within the confirmed minutes) leaves recovery codes only.
    page.goto("/accounts/2fa/webauthn/")
    page.get_by_role("link", name="Remove").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Remove a security key")
    page.get_by_role("button", name="Remove").click()
    expect(page.locator(".empty")).to_have_text("No security key added yet.")
    assert not Authenticator.objects.filter(user=alice, type=Authenticator.Type.WEBAUTHN).exists()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MFA_REMOVED, user=alice).exists()
    assert console_errors == []


def test_an_officer_is_held_at_setup_until_an_authenticator_app_is_added(
    page, live_server, olivia, acme, console_errors
):
    from playwright.sync_api import expect

    security_policy_update(
        organization=acme,
        mfa_required=SecurityPolicy.MfaRequirement.PRIVILEGED,
        idle_timeout_minutes=None,
        acting_user=None,
    )
    sign_in(page, olivia.email)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/$"))
    expect(page.locator("#mfa-required")).to_contain_text("Acme Health AI requires two-factor authentication")
    page.goto("/risks/")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/$"))

    page.get_by_role("link", name="Set up an authenticator app").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up an authenticator app")
    expect(page.locator("img.totp-qr")).to_be_visible()
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery codes")

    page.goto("/risks/")
    expect(page).to_have_url(re.compile(r"/risks/$"))
    expect(page.locator("#mfa-required")).to_have_count(0)
    assert console_errors == []


def test_sessions_page_signs_out_everywhere_else(page, browser, live_server, alice, console_errors):
    from playwright.sync_api import expect

    other = browser.new_context(base_url=live_server.url, user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
    phone = other.new_page()
    try:
        sign_in(phone, alice.email)
        expect(phone.get_by_role("heading", level=1)).to_have_text("Acme Health AI")

        sign_in(page, alice.email)
        page.get_by_role("link", name="Account security").click()
        page.get_by_role("link", name="Review sessions").click()
        rows = page.locator("#sessions tbody tr")
        expect(rows).to_have_count(2)
        expect(page.locator("tr[data-current-session]")).to_contain_text("Chrome")
        expect(page.locator("#sessions")).to_contain_text("Firefox on Linux")

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Sign out everywhere else").click()
        expect(page.locator(".messages")).to_contain_text("Signed out of 1 other session.")
        expect(rows).to_have_count(1)

        phone.reload()
        expect(phone).to_have_url(re.compile(r"/accounts/login/"))
        assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SESSIONS_ENDED, user=alice).count() == 1
    finally:
        other.close()
    assert console_errors == []
