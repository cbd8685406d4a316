"""Creating a token and changing members need a recent sign-in; a stale session confirms first."""

from __future__ import annotations

import time

from django.core.cache import cache
from rest_framework.test import APIClient

from aims.models import ApiToken, Invitation, Membership
from aims.roles import Role
from tests.aims.factories import InvitationFactory, MembershipFactory
from tests.aims.identity.sessions import session_age_authentication, session_mark_authenticated

PASSWORD = "correct-horse-battery"
TOKEN = {"name": "CI pipeline", "role": "viewer", "expires_in_days": "30"}


def stale(client, seconds=10 * 60):
    session_age_authentication(client.session, seconds)
    return client


def test_a_fresh_sign_in_creates_a_token_directly(login, alice, acme):
    response = login(alice).post("/organisation/api-tokens/", TOKEN)
    assert response.status_code == 200
    assert ApiToken.objects.filter(organization=acme, name="CI pipeline").exists()


def test_a_stale_session_confirms_the_password_then_the_token_is_created(login, alice, acme):
    cache.clear()
    client = stale(login(alice))
    response = client.post("/organisation/api-tokens/", TOKEN)
    assert response.status_code == 302
    assert response.url == "/accounts/reauthenticate/?next=%2Forganisation%2Fapi-tokens%2F"
    assert not ApiToken.objects.exists()

    page = client.get(response.url)
    assert page.status_code == 200
    assert b"Confirm it is you" in page.content

    wrong = client.post(response.url, {"password": "not-the-password"})
    assert wrong.status_code == 200
    assert not ApiToken.objects.exists()

    # allauth replays the suspended POST once the password is confirmed: the key is shown once.
    done = client.post(response.url, {"password": PASSWORD})
    assert done.status_code == 200
    token = ApiToken.objects.get(organization=acme)
    assert token.name == "CI pipeline"
    assert token.key_prefix.encode() in done.content
    # Now fresh: the next step goes straight through.
    assert client.post("/organisation/api-tokens/", {**TOKEN, "name": "Second"}).status_code == 200
    assert ApiToken.objects.count() == 2


def test_reading_the_pages_needs_no_recent_sign_in(login, alice):
    client = stale(login(alice))
    assert client.get("/organisation/api-tokens/").status_code == 200
    assert client.get("/organisation/members/").status_code == 200


def test_member_changes_in_a_stale_session_are_sent_to_confirm(login, alice, acme, victor):
    client = stale(login(alice))
    invitation = InvitationFactory(organization=acme, email="new@acme.example", role=Role.VIEWER)
    membership = Membership.objects.get(user=victor)
    attempts = [
        ("/organisation/members/", {"email": "zoe@acme.example", "role": "viewer"}),
        (f"/organisation/members/{membership.pk}/role/", {"role": "officer"}),
        (f"/organisation/members/{membership.pk}/remove/", {}),
        (f"/organisation/invitations/{invitation.pk}/revoke/", {}),
    ]
    for url, data in attempts:
        response = client.post(url, data)
        assert response.status_code == 302, url
        assert response.url.startswith("/accounts/reauthenticate/?next="), url
    membership.refresh_from_db()
    invitation.refresh_from_db()
    assert membership.role == Role.VIEWER
    assert invitation.is_pending
    assert not Invitation.objects.filter(email="zoe@acme.example").exists()


def test_a_fresh_session_changes_members(login, alice, victor):
    membership = Membership.objects.get(user=victor)
    response = login(alice).post(f"/organisation/members/{membership.pk}/role/", {"role": "auditor"})
    assert response.status_code == 302 and response.url == "/organisation/members/"
    membership.refresh_from_db()
    assert membership.role == Role.AUDITOR


def test_roles_and_tenancy_are_checked_before_asking(login, victor, charlie, acme, alice):
    target = Membership.objects.get(user=alice)
    # A viewer may not change members at all: 403, not a password prompt.
    assert stale(login(victor)).post(f"/organisation/members/{target.pk}/role/", {"role": "viewer"}).status_code == 403
    # Another organisation's member is not found: 404, not a password prompt.
    outsider = stale(login(charlie))
    assert outsider.post(f"/organisation/members/{target.pk}/remove/").status_code == 404


def test_a_second_factor_confirms_too(login, alice, acme):
    import pyotp
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    cache.clear()
    secret = generate_totp_secret()
    TOTP.activate(alice, secret)
    client = stale(login(alice))
    response = client.post("/organisation/api-tokens/", TOKEN)
    assert response.status_code == 302
    page = client.get(response.url)
    assert b'href="/accounts/2fa/reauthenticate/' in page.content
    mfa_url = "/accounts/2fa/reauthenticate/?next=%2Forganisation%2Fapi-tokens%2F"
    assert client.get(mfa_url).status_code == 200
    assert client.post(mfa_url, {"code": pyotp.TOTP(secret).now()}).status_code == 200
    assert ApiToken.objects.filter(organization=acme).count() == 1


def test_people_who_only_sign_in_through_their_identity_provider_are_not_asked(login, acme):
    sso_only = MembershipFactory(organization=acme, role=Role.ADMIN).user
    sso_only.set_unusable_password()
    sso_only.save()
    response = stale(login(sso_only)).post("/organisation/api-tokens/", TOKEN)
    assert response.status_code == 200
    assert ApiToken.objects.filter(organization=acme).count() == 1


def test_changing_the_security_policy_in_a_stale_session_is_sent_to_confirm(login, alice, acme):
    from aims.identity.models import SecurityPolicy

    response = stale(login(alice)).post("/organisation/security/", {"mfa_required": "everyone"})
    assert response.status_code == 302
    assert response.url.startswith("/accounts/reauthenticate/")
    assert not SecurityPolicy.objects.filter(organization=acme).exists()


# --- The same steps in the API, with the browser's session ---------------------------------------


def api_session(user, *, fresh=True):
    api = APIClient()
    api.force_login(user)
    session_mark_authenticated(api.session, user, at=None if fresh else time.time() - 600)
    return api


def test_a_stale_session_cannot_change_members_in_the_api(alice, victor, acme):
    membership = Membership.objects.get(user=victor)
    invitation = InvitationFactory(organization=acme, email="new@acme.example")
    api = api_session(alice, fresh=False)
    attempts = [
        api.post("/api/v1/members/", {"email": "zoe@acme.example", "role": "viewer"}, format="json"),
        api.patch(f"/api/v1/members/{membership.pk}/", {"role": "officer"}, format="json"),
        api.delete(f"/api/v1/members/{membership.pk}/"),
        api.delete(f"/api/v1/invitations/{invitation.pk}/"),
    ]
    for response in attempts:
        assert response.status_code == 403, response.content
        assert "needs a recent sign-in" in response.json()["detail"]
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER
    assert api.get("/api/v1/members/").status_code == 200


def test_a_fresh_session_or_a_token_changes_members_in_the_api(alice, victor, acme, api_for):
    membership = Membership.objects.get(user=victor)
    api = api_session(alice)
    assert api.patch(f"/api/v1/members/{membership.pk}/", {"role": "auditor"}, format="json").status_code == 200
    token = api_for(acme, role=Role.ADMIN, created_by=alice)
    assert token.patch(f"/api/v1/members/{membership.pk}/", {"role": "owner"}, format="json").status_code == 200
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_another_organisations_member_is_404_before_asking_in_the_api(charlie, alice):
    target = Membership.objects.get(user=alice)
    api = api_session(charlie, fresh=False)
    assert api.patch(f"/api/v1/members/{target.pk}/", {"role": "viewer"}, format="json").status_code == 404
