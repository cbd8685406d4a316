"""The two-factor and account pages render in the portal's shell, with no inline code for the CSP."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.cache import cache

from aims.security.models import SecurityEvent

PAGES = [
    "/accounts/security/",
    "/accounts/password/change/",
    "/accounts/sessions/",
    "/accounts/2fa/",
    "/accounts/2fa/totp/activate/",
    "/accounts/2fa/webauthn/add/",
    "/accounts/2fa/webauthn/",
    "/accounts/reauthenticate/",
    "/organisation/security/",
]
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)


def assert_no_inline_code(html: str) -> None:
    for attrs, body in SCRIPT.findall(html):
        assert "src=" in attrs or 'type="application/json"' in attrs, f"inline script: {attrs} {body[:80]}"
        assert "src=" not in attrs or not body.strip()
    assert not re.search(r"\sstyle=", html), "style attribute"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


@pytest.mark.parametrize("path", PAGES)
def test_account_pages_render_in_the_shell_without_inline_code(login, alice, path):
    response = login(alice).get(path)
    assert response.status_code == 200, path
    html = response.content.decode()
    assert 'class="topbar"' in html
    assert_no_inline_code(html)


def test_the_security_key_pages_load_their_code_from_static_files(login, alice):
    html = login(alice).get("/accounts/2fa/webauthn/add/").content.decode()
    assert '<script src="/static/mfa/js/webauthn-json.js" defer></script>' in html
    assert '<script src="/static/js/webauthn.js" defer></script>' in html
    assert 'data-webauthn="create"' in html
    assert '<script id="js_data" type="application/json">' in html


def test_the_sign_in_step_offers_code_and_security_key_without_inline_code(client, alice):
    cache.clear()
    TOTP.activate(alice, generate_totp_secret())
    response = client.post("/accounts/login/", {"login": alice.email, "password": "correct-horse-battery"})
    assert response.url == "/accounts/2fa/authenticate/"
    html = client.get(response.url).content.decode()
    assert 'name="code"' in html
    assert 'data-webauthn="get"' in html
    assert_no_inline_code(html)
    cache.clear()


def test_password_change_keeps_the_session_and_is_logged(login, alice):
    client = login(alice)
    response = client.post(
        "/accounts/password/change/",
        {
            "oldpassword": "correct-horse-battery",
            "password1": "a-new-horse-staple-9",
            "password2": "a-new-horse-staple-9",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PASSWORD_CHANGED, user=alice).exists()
