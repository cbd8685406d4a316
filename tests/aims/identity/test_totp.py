"""An authenticator app, enrolled through the pages with codes computed from the shown secret."""

from __future__ import annotations

import re

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.core.cache import cache

from aims.security.models import SecurityEvent

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate limits and used TOTP codes live in the cache; each test starts without them.
    cache.clear()
    yield
    cache.clear()


def sign_in_with_password(client, user):
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def reauthenticate(client, response):
    """Follow allauth's "confirm it is you" step with the password; return the next response."""
    assert response.status_code == 302 and response.url.startswith("/accounts/reauthenticate/"), response
    page = client.get(response.url)
    assert b"Confirm it is you" in page.content
    return client.post(response.url, {"password": PASSWORD})


def enrol_totp(client, user, on_commit) -> tuple[str, list[str]]:
    """Set up an authenticator app through the pages; return its secret and the recovery codes shown.

    ``on_commit`` is pytest-django's ``django_capture_on_commit_callbacks``: allauth announces a new
    authenticator once its transaction commits, which a test's transaction never does by itself."""
    sign_in_with_password(client, user)
    response = client.get("/accounts/2fa/totp/activate/")
    if response.status_code == 302:
        response = reauthenticate(client, response)
        assert response.status_code == 302
        response = client.get(response.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html, "the QR code is an inline image, no external asset"
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', html).group(1)

    wrong = client.post(
        "/accounts/2fa/totp/activate/", {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"}
    )
    assert wrong.status_code == 200
    assert not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()

    with on_commit(execute=True):
        response = client.post("/accounts/2fa/totp/activate/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert response.url == "/accounts/2fa/recovery-codes/"
    codes_page = client.get(response.url).content.decode()
    codes = re.findall(r"<li>([0-9a-f]{8})</li>", codes_page)
    assert len(codes) == 10
    return secret, codes


def sign_out(client):
    assert client.post("/accounts/logout/").status_code == 302


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_enrolled_totp_is_asked_at_sign_in_and_a_wrong_code_is_refused(
    client, alice, django_capture_on_commit_callbacks
):
    secret, _codes = enrol_totp(client, alice, django_capture_on_commit_callbacks)
    assert Authenticator.objects.filter(user=alice, type=Authenticator.Type.TOTP).exists()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MFA_ADDED, user=alice).exists()
    sign_out(client)

    response = sign_in_with_password(client, alice)
    assert response.url == "/accounts/2fa/authenticate/"
    # The password alone does not sign in.
    assert client.get("/").status_code == 302
    page = client.get("/accounts/2fa/authenticate/")
    assert b"Two-factor authentication" in page.content

    code = pyotp.TOTP(secret).now()
    refused = client.post("/accounts/2fa/authenticate/", {"code": other_code(code)})
    assert refused.status_code == 200
    assert b"Incorrect code" in refused.content
    assert client.get("/").status_code == 302

    response = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_a_recovery_code_signs_in_once(client, alice, django_capture_on_commit_callbacks):
    _secret, codes = enrol_totp(client, alice, django_capture_on_commit_callbacks)
    sign_out(client)

    sign_in_with_password(client, alice)
    assert client.post("/accounts/2fa/authenticate/", {"code": codes[0]}).status_code == 302
    assert client.get("/").status_code == 200
    sign_out(client)

    sign_in_with_password(client, alice)
    again = client.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert again.status_code == 200
    assert client.get("/").status_code == 302
    assert client.post("/accounts/2fa/authenticate/", {"code": codes[1]}).status_code == 302
    assert client.get("/").status_code == 200


def test_recovery_codes_can_be_downloaded_and_regenerated(client, alice, django_capture_on_commit_callbacks):
    _secret, codes = enrol_totp(client, alice, django_capture_on_commit_callbacks)
    download = client.get("/accounts/2fa/recovery-codes/download/")
    assert download.status_code == 200
    assert codes[0] in download.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/2fa/recovery-codes/generate/")
    assert response.status_code == 302
    fresh = re.findall(r"<li>([0-9a-f]{8})</li>", client.get("/accounts/2fa/recovery-codes/").content.decode())
    assert len(fresh) == 10 and codes[0] not in fresh
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.RECOVERY_CODES, user=alice).exists()


def test_totp_can_be_deactivated(client, alice, django_capture_on_commit_callbacks):
    enrol_totp(client, alice, django_capture_on_commit_callbacks)
    index = client.get("/accounts/2fa/").content.decode()
    assert "Deactivate" in index
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/accounts/2fa/totp/deactivate/").status_code == 302
    assert not Authenticator.objects.filter(user=alice, type=Authenticator.Type.TOTP).exists()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MFA_REMOVED, user=alice).exists()
