"""E-mail-first sign-in: an address of a single sign-on domain is sent to its identity provider,
any other address signs in with its password; "SSO required" refuses passwords except the
break-glass administrator's; nothing tells whether an account exists."""

from __future__ import annotations

import pytest

from aims.models import SecurityEvent
from aims.roles import Role
from aims.sso.selectors import sso_connection_for_email
from aims.sso.services import sso_connection_save
from tests.aims.factories import MembershipFactory, UserFactory
from tests.services.providers import free_port

LOGIN = "/accounts/login/"
PASSWORD = "correct-horse-battery"  # the personas' password

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_sso(alice):
    """Acme's people (acme.example) sign in with Acme's OpenID Connect provider."""

    def _save(**overrides):
        fields = {
            "organization": alice.memberships.get().organization,
            "acting_user": alice,
            "protocol": "oidc",
            "oidc_issuer": "https://login.acme.example",
            "oidc_client_id": "aims",
            "oidc_client_secret": "secret",
            "domains": ["acme.example"],
            **overrides,
        }
        return sso_connection_save(**fields)

    return _save


def sign_in(client, email, password=""):
    return client.post(LOGIN, {"login": email, "password": password})


def test_an_sso_address_is_offered_its_identity_provider(client, acme_sso, victor):
    acme_sso()

    response = sign_in(client, "Victor@ACME.example")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'action="/accounts/oidc/sso-acme/login/?auth_params=login_hint%3Dvictor%2540acme.example"' in page
    assert "csrfmiddlewaretoken" in page
    assert "Continue with single sign-on" in page
    assert "_auth_user_id" not in client.session
    # An unknown address of the domain is answered the same way: the domain decides.
    assert "Continue with single sign-on" in sign_in(client, "nobody@acme.example").content.decode()


def test_without_sso_an_unknown_address_is_answered_like_a_known_one(client, alice, charlie):
    known, unknown = sign_in(client, "charlie@globex.example"), sign_in(client, "nobody@globex.example")
    assert known.context["form"].errors == unknown.context["form"].errors == {"password": ["Enter your password."]}

    known = sign_in(client, "charlie@globex.example", "wrong-password")
    unknown = sign_in(client, "nobody@globex.example", "wrong-password")
    assert known.context["form"].errors == unknown.context["form"].errors
    assert sign_in(client, "charlie@globex.example", PASSWORD).status_code == 302


def test_a_password_still_works_when_sso_is_offered_but_not_required(client, acme_sso, victor):
    acme_sso()

    assert sign_in(client, "victor@acme.example", PASSWORD).status_code == 302
    assert int(client.session["_auth_user_id"]) == victor.pk


def test_sso_required_refuses_passwords_but_lets_the_break_glass_admin_in(client, acme_sso, alice, victor):
    acme_sso(sso_required=True, break_glass_admin=alice)

    response = sign_in(client, "victor@acme.example", PASSWORD)

    assert response.status_code == 200
    assert "Acme Health AI signs in with single sign-on only" in " ".join(response.context["form"].non_field_errors())
    assert "_auth_user_id" not in client.session
    refused = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SSO_REFUSED)
    assert refused.user == victor and refused.details["reason"] == "password_sign_in_while_sso_required"
    # A wrong password gets the usual answer, so the message tells nothing without the password.
    wrong = sign_in(client, "victor@acme.example", "wrong-password")
    assert "signs in with single sign-on only" not in wrong.content.decode()

    assert sign_in(client, "alice@acme.example", PASSWORD).status_code == 302
    assert int(client.session["_auth_user_id"]) == alice.pk


def test_the_sign_in_page_keeps_its_labels(client):
    page = client.get(LOGIN).content.decode()
    for text in ("E-mail address", "Password", "Sign in"):
        assert text in page


def test_a_demoted_break_glass_admin_is_refused_like_everyone_else(client, acme_sso, alice, olivia):
    acme_sso(sso_required=True, break_glass_admin=alice)
    # Another administrator remains, so alice may be demoted; the connection still names her.
    olivia.memberships.update(role=Role.ADMIN)
    alice.memberships.update(role=Role.VIEWER)

    response = sign_in(client, "alice@acme.example", PASSWORD)

    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert "signs in with single sign-on only" in response.content.decode()


def test_finding_the_connection_of_an_address_costs_one_query(acme_sso, django_assert_num_queries):
    connection = acme_sso()
    with django_assert_num_queries(1):
        found = sso_connection_for_email("Someone@Acme.Example")
        assert found == connection and found.organization.name and found.social_app.provider
    with django_assert_num_queries(0):
        assert sso_connection_for_email("not-an-address") is None


def test_an_unreachable_identity_provider_gets_a_clear_page_not_an_error(client, acme_sso):
    acme_sso(oidc_issuer=f"http://127.0.0.1:{free_port()}")  # nothing listens there

    response = client.post("/accounts/oidc/sso-acme/login/")

    assert response.status_code == 502
    assert "Acme Health AI&#x27;s identity provider could not be reached" in response.content.decode()
    refused = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SSO_REFUSED)
    assert refused.details["reason"] == "idp_unreachable" and refused.organization.slug == "acme"


def test_sso_required_never_locks_out_an_account_of_another_organisation(client, acme_sso, alice, globex):
    acme_sso(sso_required=True, break_glass_admin=alice)
    outsider = MembershipFactory(organization=globex, user=UserFactory(email="pat@acme.example")).user

    assert sign_in(client, "pat@acme.example", PASSWORD).status_code == 302
    assert int(client.session["_auth_user_id"]) == outsider.pk
