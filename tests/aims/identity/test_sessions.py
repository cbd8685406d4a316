"""The account-security hub, the sessions page and "sign out everywhere else"."""

from __future__ import annotations

import time

from allauth.usersessions.models import UserSession
from django.test import Client

from aims.identity.middleware import ACTIVITY_RESOLUTION_SECONDS, ACTIVITY_SESSION_KEY
from aims.identity.selectors import browser_label
from aims.security.models import SecurityEvent
from tests.aims.identity.sessions import session_mark_authenticated

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0"
)
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def signed_in(user, user_agent):
    client = Client(headers={"user-agent": user_agent}, REMOTE_ADDR="192.0.2.7")
    client.force_login(user)
    session = client.session
    session_mark_authenticated(session, user)
    # A test sign-in has no browser; the first request a minute on records it, as for a real one.
    session[ACTIVITY_SESSION_KEY] = int(time.time()) - ACTIVITY_RESOLUTION_SECONDS
    session.save()
    assert client.get("/").status_code == 200
    return client


def test_browser_names():
    assert browser_label(FIREFOX) == "Firefox on Linux"
    assert browser_label(EDGE) == "Edge on Windows"
    assert browser_label(SAFARI) == "Safari on iOS"
    assert browser_label("curl/8.5.0") == "curl/8.5.0"
    assert browser_label("") == "Unknown client"


def test_the_top_bar_leads_to_the_account_security_hub(login, alice):
    client = login(alice)
    assert b'href="/accounts/security/">Account security</a>' in client.get("/").content
    hub = client.get("/accounts/security/")
    assert hub.status_code == 200
    html = hub.content.decode()
    for link in ("/accounts/password/change/", "/accounts/2fa/", "/accounts/sessions/"):
        assert f'href="{link}"' in html
    assert "Only your password protects this account" in html


def test_the_hub_needs_a_sign_in(client):
    assert client.get("/accounts/security/").url.startswith("/accounts/login/")


def test_sessions_list_browser_ip_last_seen_and_the_current_one(alice):
    laptop = signed_in(alice, FIREFOX)
    signed_in(alice, EDGE)
    page = laptop.get("/accounts/sessions/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Firefox on Linux" in html and "Edge on Windows" in html
    assert "192.0.2.7" in html
    assert "Last seen" in html
    rows = page.context["rows"]
    assert len(rows) == 2
    assert rows[0].is_current and rows[0].browser == "Firefox on Linux"
    assert not rows[1].is_current
    assert html.count('<span class="badge">This session</span>') == 1


def test_sign_out_everywhere_else_ends_the_other_sessions_and_is_logged(alice, bob):
    laptop = signed_in(alice, FIREFOX)
    phone = signed_in(alice, SAFARI)
    tablet = signed_in(alice, EDGE)
    someone_else = signed_in(bob, FIREFOX)

    response = laptop.post("/accounts/sessions/")
    assert response.status_code == 302
    assert b"Signed out of 2 other sessions." in laptop.get(response.url).content
    for client in (phone, tablet):
        assert client.get("/").url.startswith("/accounts/login/")
    assert laptop.get("/").status_code == 200
    assert someone_else.get("/").status_code == 200
    assert UserSession.objects.filter(user=alice).count() == 1
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SESSIONS_ENDED)
    assert event.user == alice and event.details == {"ended": 2}


def test_with_one_session_there_is_nothing_to_sign_out(alice):
    laptop = signed_in(alice, FIREFOX)
    page = laptop.get("/accounts/sessions/")
    assert b"This is your only session." in page.content
    assert b"Sign out everywhere else" not in page.content
