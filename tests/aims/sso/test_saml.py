"""SAML 2.0 responses posted to the portal's assertion consumer service, built by a real pysaml2
identity provider (tests/services/saml_idp.py) and checked by python3-saml through allauth: a
signed, current response signs the person in; an unsigned, expired or wrongly signed one is
refused with a clear page, no session and an ``SSO_REFUSED`` event. The just-in-time rules of
:mod:`aims.sso.adapter` are checked here too."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress

from aims.identity.models import SecurityPolicy
from aims.models import Membership, SecurityEvent, User
from aims.roles import Role
from aims.sso.services import sso_connection_save
from tests.aims.factories import MembershipFactory, UserFactory
from tests.services.saml_idp import (
    USERS,
    authn_response,
    idp_server,
    make_key_and_certificate,
    parse_authn_request,
    sp_register,
)

IDP = "http://127.0.0.1:9"  # never contacted: the tests hand the IdP's responses to the portal

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def idp_keys(tmp_path_factory):
    """The IdP's key and certificate, and another key pair the portal does not trust."""
    workdir = tmp_path_factory.mktemp("idp")
    for name in ("idp", "rogue"):
        key_pem, cert_pem = make_key_and_certificate(f"{name} IdP")
        (workdir / f"{name}.key").write_text(key_pem)
        (workdir / f"{name}.crt").write_text(cert_pem)
    return workdir


@pytest.fixture
def acme_saml(alice, idp_keys):
    # Alice confirmed an address at the second domain, so Acme may route it to its IdP.
    EmailAddress.objects.create(user=alice, email="alice@saml-acme.example", verified=True, primary=False)
    return sso_connection_save(
        organization=alice.memberships.get().organization,
        acting_user=alice,
        protocol="saml",
        saml_entity_id=f"{IDP}/metadata",
        saml_sso_url=f"{IDP}/sso",
        saml_x509cert=(idp_keys / "idp.crt").read_text(),
        domains=["saml-acme.example", "acme.example"],
        default_role=Role.VIEWER,
        group_roles=[("aims-auditors", Role.AUDITOR)],
    )


def saml_sign_in(
    client, idp_keys, user, *, key="idp", sign=True, sign_response=None, lifetime_minutes=15, process="login"
):
    """Start the sign-in at the portal, let the IdP answer the portal's request, post it to the ACS."""
    client.defaults["HTTP_HOST"] = "testserver"  # browsers always send it; python3-saml reads it
    start = client.post("/accounts/saml/acme/login/", {"process": process})
    assert start.status_code == 302 and start["Location"].startswith(f"{IDP}/sso?")
    saml_request = parse_qs(urlsplit(start["Location"]).query)["SAMLRequest"][0]
    request = parse_authn_request(saml_request)
    server = idp_server(IDP, idp_keys / f"{key}.key", idp_keys / f"{key}.crt", lifetime_minutes=lifetime_minutes)
    sp_register(server, client.get(request["issuer"]).content.decode())
    response = authn_response(server, user=user, request=request, sign=sign, sign_response=sign_response)
    acs = client.post("/accounts/saml/acme/acs/", {"SAMLResponse": response})
    assert acs.status_code == 302  # allauth finishes on its own URL, with its session cookie
    return client.get(acs["Location"])


def signed_in(client):
    return "_auth_user_id" in client.session


def test_a_signed_current_response_signs_in_a_new_member_with_the_mapped_role(client, acme_saml, idp_keys):
    response = saml_sign_in(client, idp_keys, USERS["sam"])

    assert response.status_code == 302 and signed_in(client)
    sam = User.objects.get(email="sam@saml-acme.example")
    assert Membership.objects.get(user=sam, organization=acme_saml.organization).role == Role.AUDITOR
    assert sam.emailaddress_set.get().verified and not sam.has_usable_password()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SSO_LOGIN, user=sam).exists()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MEMBER_PROVISIONED, user=sam).exists()


@pytest.mark.parametrize(
    ("how", "kwargs", "expected"),
    [
        ("unsigned", {"sign": False}, "is not signed and the SP require it"),
        ("only the assertion signed", {"sign_response": False}, "The Message of the Response is not signed"),
        ("expired", {"lifetime_minutes": -10}, "Could not validate timestamp: expired"),
        ("wrongly signed", {"key": "rogue"}, "Signature validation failed"),
    ],
)
def test_an_unsigned_expired_or_wrongly_signed_response_is_refused(client, acme_saml, idp_keys, how, kwargs, expected):
    response = saml_sign_in(client, idp_keys, USERS["sam"], **kwargs)

    assert response.status_code == 401, how
    page = response.content.decode()
    assert "Single sign-on failed" in page and "not a valid, signed and current SAML response" in page
    assert not signed_in(client)
    assert not User.objects.filter(email="sam@saml-acme.example").exists()
    refused = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SSO_REFUSED)
    assert refused.organization == acme_saml.organization and refused.details["protocol"] == "saml"
    assert expected in refused.details["detail"]


def test_an_address_outside_the_connections_domains_is_refused(client, acme_saml, idp_keys):
    response = saml_sign_in(client, idp_keys, USERS["charlie"])

    assert response.status_code == 403 and not signed_in(client)
    assert "outside the domains your organisation signs in for" in response.content.decode()
    assert SecurityEvent.objects.get(kind=SecurityEvent.Kind.SSO_REFUSED).details["reason"] == "foreign_domain"


def test_an_existing_account_of_another_organisation_is_not_taken_over(client, acme_saml, idp_keys, globex):
    gina = MembershipFactory(organization=globex, user=UserFactory(email="gina@saml-acme.example")).user

    response = saml_sign_in(client, idp_keys, USERS["gina"])

    assert response.status_code == 403 and not signed_in(client)
    assert "already exists and is not a member of Acme Health AI" in response.content.decode()
    assert not Membership.objects.filter(user=gina, organization=acme_saml.organization).exists()
    assert not gina.socialaccount_set.exists()
    assert SecurityEvent.objects.get(kind=SecurityEvent.Kind.SSO_REFUSED).details["reason"] == "existing_account"


def test_an_existing_member_is_linked_and_their_role_follows_the_groups(client, acme_saml, idp_keys, olivia):
    user = {**USERS["olivia"], "groups": ["aims-auditors"]}

    assert saml_sign_in(client, idp_keys, user).status_code == 302

    assert int(client.session["_auth_user_id"]) == olivia.pk
    assert olivia.socialaccount_set.get().provider == "sso-acme"
    assert Membership.objects.get(user=olivia, organization=acme_saml.organization).role == Role.AUDITOR
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MEMBER_ROLE_CHANGED, user=olivia).exists()


def test_an_idp_identity_cannot_be_attached_to_a_signed_in_account(client, acme_saml, idp_keys, charlie):
    client.force_login(charlie)

    response = saml_sign_in(client, idp_keys, USERS["sam"], process="connect")

    assert response.status_code == 403
    assert not charlie.socialaccount_set.exists() and not User.objects.filter(email="sam@saml-acme.example").exists()
    assert SecurityEvent.objects.get(kind=SecurityEvent.Kind.SSO_REFUSED).details["reason"] == "not_sign_in"


def test_the_groups_never_demote_the_last_administrator(client, acme_saml, idp_keys, alice):
    user = {"email": "alice@acme.example", "name": "Alice", "groups": ["aims-auditors"]}

    assert saml_sign_in(client, idp_keys, user).status_code == 302

    assert int(client.session["_auth_user_id"]) == alice.pk
    assert Membership.objects.get(user=alice, organization=acme_saml.organization).role == Role.ADMIN


def test_a_deactivated_account_is_neither_linked_nor_signed_in(client, acme_saml, idp_keys, olivia):
    olivia.is_active = False
    olivia.save()

    response = saml_sign_in(client, idp_keys, USERS["olivia"])

    assert response.status_code == 403 and not signed_in(client)
    assert not olivia.socialaccount_set.exists()
    assert SecurityEvent.objects.get(kind=SecurityEvent.Kind.SSO_REFUSED).details["reason"] == "inactive"


@pytest.mark.parametrize("trusted", [True, False])
def test_a_trusted_identity_providers_sign_in_stands_for_the_second_factor(client, acme_saml, idp_keys, trusted):
    SecurityPolicy.objects.create(
        organization=acme_saml.organization,
        mfa_required=SecurityPolicy.MfaRequirement.EVERYONE,
        sso_counts_as_mfa=trusted,
    )

    saml_sign_in(client, idp_keys, USERS["sam"])

    dashboard = client.get("/")
    if trusted:
        # The organisation relies on its IdP's own second factor: the member works at once.
        assert dashboard.status_code == 200
    else:
        assert dashboard.status_code == 302 and dashboard.url == "/accounts/2fa/"
    # A password sign-in of the same member is never taken for the IdP's.
    sam = User.objects.get(email="sam@saml-acme.example")
    sam.set_password("correct-horse-battery")
    sam.save()
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"login": "sam@saml-acme.example", "password": "correct-horse-battery"})
    assert client.get("/").url == "/accounts/2fa/"
