"""The organisation's security policy: the Security page, MFA enforcement and the idle timeout."""

from __future__ import annotations

import time

import pyotp
import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aims.identity.middleware import ACTIVITY_SESSION_KEY, MFA_SETUP_REFUSAL
from aims.identity.models import SecurityPolicy
from aims.identity.services import security_policy_update
from aims.roles import Role
from aims.security.models import SecurityEvent
from tests.aims.factories import MembershipFactory

Requirement = SecurityPolicy.MfaRequirement


def set_policy(org, *, mfa=Requirement.NOBODY, idle=None, by=None):
    return security_policy_update(organization=org, mfa_required=mfa, idle_timeout_minutes=idle, acting_user=by)


def age_activity(client, seconds):
    """Pretend the session was last used ``seconds`` ago (the mark the middleware keeps)."""
    session = client.session
    session[ACTIVITY_SESSION_KEY] = int(time.time()) - seconds
    session.save()


# --- The Security page --------------------------------------------------------------------------


def test_admin_sets_the_policy_and_the_change_is_logged_with_history(login, alice, acme):
    client = login(alice)
    page = client.get("/organisation/security/")
    assert page.status_code == 200
    assert b"Administrators and compliance officers" in page.content

    response = client.post("/organisation/security/", {"mfa_required": "privileged", "idle_timeout_minutes": "30"})
    assert response.status_code == 302
    policy = SecurityPolicy.objects.get(organization=acme)
    assert (policy.mfa_required, policy.idle_timeout_minutes) == ("privileged", 30)
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SECURITY_POLICY_CHANGED)
    assert event.organization == acme and event.actor == alice
    assert event.details["current"] == {
        "mfa_required": "privileged",
        "sso_counts_as_mfa": False,
        "idle_timeout_minutes": 30,
    }
    assert event.details["previous"] == {
        "mfa_required": "nobody",
        "sso_counts_as_mfa": False,
        "idle_timeout_minutes": None,
    }

    # Now that administrators need a second factor, alice is sent to set hers up first.
    assert client.get("/organisation/security/").url == "/accounts/2fa/"
    TOTP.activate(alice, generate_totp_secret())
    client = login(alice)
    client.post("/organisation/security/", {"mfa_required": "everyone", "idle_timeout_minutes": ""})
    assert [h.mfa_required for h in policy.history.order_by("history_date")] == ["privileged", "everyone"]
    assert policy.history.first().history_user == alice
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SECURITY_POLICY_CHANGED).count() == 2


@pytest.mark.parametrize("minutes", ["4", "1441", "-5", "soon"])
def test_an_idle_timeout_out_of_bounds_is_a_form_error(login, alice, acme, minutes):
    response = login(alice).post("/organisation/security/", {"mfa_required": "nobody", "idle_timeout_minutes": minutes})
    assert response.status_code == 200
    assert b'class="error"' in response.content
    assert not SecurityPolicy.objects.filter(organization=acme).exists()


def test_an_unknown_requirement_is_a_form_error(login, alice, acme):
    response = login(alice).post("/organisation/security/", {"mfa_required": "robots"})
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content


def test_the_service_refuses_bounds_too(acme, alice):
    with pytest.raises(ValidationError) as excinfo:
        set_policy(acme, idle=2, by=alice)
    assert "idle_timeout_minutes" in excinfo.value.message_dict


def test_members_read_the_policy_but_only_admins_change_it(login, victor, acme):
    set_policy(acme, mfa=Requirement.PRIVILEGED, idle=60)
    client = login(victor)
    page = client.get("/organisation/security/")
    assert page.status_code == 200
    assert b"Administrators and compliance officers" in page.content and b"60 minutes" in page.content
    assert b'<form method="post" novalidate>' not in page.content
    assert client.post("/organisation/security/", {"mfa_required": "nobody"}).status_code == 403
    assert SecurityPolicy.objects.get(organization=acme).mfa_required == "privileged"


def test_the_security_tab_is_in_organisation_settings(login, alice):
    assert b'href="/organisation/security/"' in login(alice).get("/organisation/settings/").content


# --- Enforcing a second factor -------------------------------------------------------------------


def test_an_officer_without_mfa_is_sent_to_set_it_up(login, olivia, acme):
    set_policy(acme, mfa=Requirement.PRIVILEGED)
    client = login(olivia)

    for path in ("/", "/inventory/", "/organisation/members/", "/accounts/security/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.url == "/accounts/2fa/"
    setup = client.get("/accounts/2fa/")
    assert setup.status_code == 200
    assert b'id="mfa-required"' in setup.content
    assert b"Acme Health AI requires two-factor authentication for your role" in setup.content
    assert client.get("/accounts/2fa/totp/activate/").status_code in (200, 302)
    # Signing out stays possible.
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").url.startswith("/accounts/login/")


def test_the_api_with_session_is_refused_with_a_message_but_tokens_are_not_affected(login, olivia, acme, api_for):
    set_policy(acme, mfa=Requirement.PRIVILEGED)
    response = login(olivia).get("/api/v1/me/")
    assert response.status_code == 403
    assert response.json() == {"detail": MFA_SETUP_REFUSAL}

    token_client = api_for(acme, role=Role.OFFICER, created_by=olivia)
    assert token_client.get("/api/v1/me/").status_code == 200


def test_a_viewer_is_not_concerned_by_admins_and_officers(login, victor, acme):
    set_policy(acme, mfa=Requirement.PRIVILEGED)
    client = login(victor)
    page = client.get("/")
    assert page.status_code == 200
    assert b'id="mfa-required"' not in page.content


def test_all_members_means_the_viewer_too(login, victor, acme):
    set_policy(acme, mfa=Requirement.EVERYONE)
    assert login(victor).get("/").url == "/accounts/2fa/"


def test_a_member_with_an_authenticator_works_normally(login, olivia, acme):
    set_policy(acme, mfa=Requirement.EVERYONE)
    TOTP.activate(olivia, generate_totp_secret())
    assert login(olivia).get("/").status_code == 200


def test_the_policy_of_the_current_organisation_decides(login, olivia, acme, globex):
    set_policy(globex, mfa=Requirement.EVERYONE)
    MembershipFactory(organization=globex, user=olivia, role=Role.VIEWER)
    client = login(olivia)
    assert client.get("/").status_code == 200  # Acme, first by name, asks nothing
    client.post("/organisation/switch/", {"organization": globex.pk})
    assert client.get("/").url == "/accounts/2fa/"
    # The switcher stays open: back in Acme, work goes on.
    assert client.post("/organisation/switch/", {"organization": acme.pk}).status_code == 302
    assert client.get("/").status_code == 200


def test_a_policy_change_reaches_open_sessions_within_a_minute(login, olivia, acme):
    client = login(olivia)
    assert client.get("/").status_code == 200
    set_policy(acme, mfa=Requirement.PRIVILEGED)
    # Read from the session: the next minute of requests does not ask the database.
    assert client.get("/").status_code == 200
    age_activity(client, 61)
    assert client.get("/").url == "/accounts/2fa/"


@pytest.mark.django_db(transaction=True)
def test_adding_an_authenticator_lifts_the_block_at_once(login, olivia, acme):
    # Transactional: allauth announces the new authenticator when its transaction commits,
    # inside the request, as in production.
    set_policy(acme, mfa=Requirement.PRIVILEGED)
    client = login(olivia)
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = page.context["form"].secret
    assert client.post("/accounts/2fa/totp/activate/", {"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert client.get("/").status_code == 200


def test_the_policy_costs_pages_no_query(login, alice, acme, globex):
    client = login(alice)
    client.get("/")
    with CaptureQueriesContext(connection) as without_policy:
        assert client.get("/").status_code == 200
    set_policy(acme, mfa=Requirement.PRIVILEGED, idle=30)
    TOTP.activate(alice, generate_totp_secret())
    client = login(alice)
    client.get("/")
    with CaptureQueriesContext(connection) as with_policy:
        assert client.get("/").status_code == 200
    assert len(with_policy) == len(without_policy)


# --- Idle timeout ------------------------------------------------------------------------------


def test_an_idle_session_is_signed_out_on_its_next_request(login, alice, acme):
    set_policy(acme, idle=15)
    client = login(alice)
    assert client.get("/").status_code == 200
    age_activity(client, 10 * 60)
    assert client.get("/").status_code == 200  # ten minutes is not fifteen
    age_activity(client, 16 * 60)

    response = client.get("/inventory/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=%2Finventory%2F"
    login_page = client.get(response.url)
    assert b"signed out after 15 minutes without activity" in login_page.content
    assert client.get("/").url.startswith("/accounts/login/")
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGOUT, user=alice).exists()


def test_the_strictest_timeout_of_the_persons_organisations_applies(login, alice, acme, globex):
    MembershipFactory(organization=globex, user=alice, role=Role.VIEWER)
    set_policy(acme, idle=120)
    set_policy(globex, idle=5)
    client = login(alice)
    age_activity(client, 6 * 60)
    assert client.get("/").url.startswith("/accounts/login/")


def test_without_a_timeout_an_old_session_stays(login, alice, acme):
    set_policy(acme, mfa=Requirement.NOBODY)
    client = login(alice)
    age_activity(client, 24 * 3600)
    assert client.get("/").status_code == 200


def test_an_idle_api_session_is_answered_as_signed_out(login, alice, acme):
    set_policy(acme, idle=5)
    client = login(alice)
    age_activity(client, 6 * 60)
    assert client.get("/api/v1/me/").status_code in (401, 403)
    assert client.get("/").url.startswith("/accounts/login/")
