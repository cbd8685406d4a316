"""30 wrong passwords in a row lock sign-in: the right password is then refused with a clear
message until the window passes, the same for an unknown address (no enumeration)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from aims.models import SecurityEvent

PASSWORD = "correct-horse-battery"
LOCKED = "Too many failed sign-in attempts"
WRONG = "The e-mail address or the password is not right."


@pytest.fixture(autouse=True)
def fresh_limits():
    """The counts live in the cache: start and end every test with none."""
    cache.clear()
    yield
    cache.clear()


def _sign_in(client, email, password):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def _errors(response):
    return " ".join(response.context["form"].non_field_errors())


def test_thirty_wrong_passwords_lock_the_account_until_the_window_passes(client, alice):
    answers = [_sign_in(client, alice.email, f"wrong-{n}") for n in range(30)]
    assert all(a.status_code == 200 for a in answers)
    assert WRONG in _errors(answers[0])
    assert LOCKED in _errors(answers[-1])

    refused = _sign_in(client, alice.email, PASSWORD)
    assert refused.status_code == 200 and LOCKED in _errors(refused)
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED_OUT, email=alice.email).exists()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_FAILED, user=alice).count() >= 5

    cache.clear()  # the ten-minute window has passed
    signed_in = _sign_in(client, alice.email, PASSWORD)
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_an_unknown_address_is_locked_with_the_same_message(client, db):
    answers = [_sign_in(client, "nobody@example.com", f"wrong-{n}") for n in range(30)]
    assert WRONG in _errors(answers[0])
    assert _errors(answers[-1]) == _errors(_sign_in(client, "nobody@example.com", PASSWORD))
    assert LOCKED in _errors(answers[-1])


def test_the_lock_is_per_address_and_per_ip(client, alice, victor):
    for n in range(6):
        _sign_in(client, alice.email, f"wrong-{n}")
    assert LOCKED in _errors(_sign_in(client, alice.email, PASSWORD))
    # Another address from the same machine is not locked by alice's five failures...
    assert _sign_in(client, victor.email, PASSWORD).status_code == 302
    client.logout()
    # ...but twenty failures from one address lock every account tried from it.
    for n in range(20):
        client.post(reverse("account_login"), {"login": f"guess{n}@example.com", "password": "x"})
    assert LOCKED in _errors(_sign_in(client, victor.email, PASSWORD))
    other_ip = client.post(
        reverse("account_login"), {"login": victor.email, "password": PASSWORD}, REMOTE_ADDR="10.1.2.3"
    )
    assert other_ip.status_code == 302
