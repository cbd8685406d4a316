"""The organisation's single sign-on page: administrators configure OIDC or SAML, the allauth app
follows, bad input gets field messages, and nobody else sees or changes it."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialApp
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from aims.identity.models import IdpGroupRole
from aims.models import SecurityEvent, SsoConnection, SsoDomain
from aims.roles import Role
from aims.sso.services import sso_connection_save
from tests.services.providers import free_port, oidc_provider  # noqa: F401  # a fixture
from tests.services.saml_idp import make_key_and_certificate

URL = "/organisation/sso/"
SECRET = "s3cret-from-the-idp"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def alice_proves_acme_health(alice):
    """Alice confirmed an address at the second domain: acme-health.example is provably Acme's."""
    EmailAddress.objects.create(user=alice, email="alice@acme-health.example", verified=True, primary=False)


def oidc_form(**overrides):
    data = {
        "protocol": "oidc",
        "domains": "acme.example\nacme-health.example",
        "oidc_issuer": "https://login.acme.example/realms/staff",
        "oidc_client_id": "aims",
        "oidc_client_secret": SECRET,
        "default_role": Role.VIEWER,
        "groups_claim": "groups",
        "group_roles": "aims-admins = admin\nAIMS Officers = Compliance officer",
    }
    data.update(overrides)
    return data


def test_admin_saves_an_oidc_connection_and_the_allauth_app_follows(login, alice):
    client = login(alice)
    assert client.get(URL).status_code == 200

    response = client.post(URL, oidc_form())

    assert response.status_code == 302
    connection = SsoConnection.objects.get()
    app = connection.social_app
    assert (app.provider, app.provider_id, app.client_id, app.secret) == ("openid_connect", "sso-acme", "aims", SECRET)
    assert app.settings["server_url"] == "https://login.acme.example/realms/staff"
    assert "groups" in app.settings["scope"]
    assert sorted(SsoDomain.objects.values_list("domain", flat=True)) == ["acme-health.example", "acme.example"]
    assert dict(IdpGroupRole.objects.values_list("group", "role")) == {
        "aims-admins": Role.ADMIN,
        "AIMS Officers": Role.OFFICER,
    }
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SSO_CHANGED)
    assert event.actor == alice and event.organization == connection.organization
    assert event.details["secret_changed"] is True
    assert SECRET not in str(event.details)
    # The secret is write-only: never shown back, and kept when the field is left empty.
    page = client.get(URL).content.decode()
    assert SECRET not in page and "A client secret is saved." in page
    assert client.post(URL, oidc_form(oidc_client_secret="", oidc_client_id="aims-2")).status_code == 302
    app.refresh_from_db()
    assert (app.client_id, app.secret) == ("aims-2", SECRET)
    assert SECRET not in str(connection.history.values())
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SSO_CHANGED).first().details["changed"] == [
        "oidc_client_id"
    ]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"oidc_issuer": ""}, "oidc_issuer", "Give the issuer URL"),
        ({"oidc_client_secret": ""}, "oidc_client_secret", "Give the client secret"),
        ({"domains": "not a domain"}, "domains", "is not an e-mail domain"),
        ({"domains": ""}, "domains", "This field is required"),
        ({"group_roles": "aims-admins => boss"}, "group_roles", "write “group = role”"),
        ({"sso_required": "on"}, "break_glass_admin", "name a break-glass administrator"),
        ({"protocol": "saml"}, "saml_entity_id", "Give the IdP entity ID"),
        (
            {"protocol": "saml", "saml_metadata_url": f"http://127.0.0.1:{free_port()}/metadata"},
            "saml_metadata_url",
            "The metadata could not be read from this URL",
        ),
        ({"protocol": "saml", "saml_metadata_xml": "<not-metadata/>"}, "saml_metadata_xml", "names no identity"),
        (
            {
                "protocol": "saml",
                "saml_entity_id": "x",
                "saml_sso_url": "https://idp.example/sso",
                "saml_x509cert": "zz",
            },
            "saml_x509cert",
            "not a readable X.509",
        ),
    ],
)
def test_bad_settings_get_a_field_message_and_save_nothing(login, alice, overrides, field, message):
    response = login(alice).post(URL, oidc_form(**overrides))

    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors, response.context["form"].errors
    assert not SsoConnection.objects.exists() and not SocialApp.objects.exists()


def test_a_domain_belongs_to_one_organisation_only(login, alice, charlie):
    assert login(alice).post(URL, oidc_form()).status_code == 302

    response = login(charlie).post(URL, oidc_form(domains="globex.example\nACME.example"))

    assert response.status_code == 200
    assert "acme.example already signs in through another organisation's connection" in " ".join(
        response.context["form"].errors["domains"]
    )
    assert SsoConnection.objects.count() == 1


def test_break_glass_administrator_must_be_an_admin_of_the_organisation(login, alice, victor, charlie):
    client = login(alice)
    response = client.post(URL, oidc_form(sso_required="on", break_glass_admin=victor.pk))
    assert response.status_code == 200 and "break_glass_admin" in response.context["form"].errors
    assert client.post(URL, oidc_form(sso_required="on", break_glass_admin=charlie.pk)).status_code == 200
    assert client.post(URL, oidc_form(sso_required="on", break_glass_admin=alice.pk)).status_code == 302
    assert SsoConnection.objects.get().break_glass_admin == alice


def test_saml_from_pasted_metadata_shows_the_sp_urls_and_requires_signatures(login, alice):
    key_pem, cert_pem = make_key_and_certificate("Acme IdP")
    body = "".join(cert_pem.strip().splitlines()[1:-1])
    metadata = f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.acme.example/saml">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
      <ds:X509Data><ds:X509Certificate>{body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
      Location="https://idp.acme.example/saml/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""
    client = login(alice)

    response = client.post(URL, oidc_form(protocol="saml", saml_metadata_xml=metadata))

    assert response.status_code == 302
    app = SsoConnection.objects.get().social_app
    assert (app.provider, app.client_id) == ("saml", "acme")
    assert app.settings["idp"] == {
        "entity_id": "https://idp.acme.example/saml",
        "sso_url": "https://idp.acme.example/saml/sso",
        "x509cert": body,
    }
    assert app.settings["advanced"]["want_message_signed"] and app.settings["advanced"]["want_assertion_signed"]
    page = client.get(URL).content.decode()
    assert "http://testserver/accounts/saml/acme/acs/" in page
    assert "http://testserver/accounts/saml/acme/metadata/" in page
    metadata_response = client.get("/accounts/saml/acme/metadata/")
    assert metadata_response.status_code == 200 and b"AssertionConsumerService" in metadata_response.content
    x509.load_pem_x509_certificate(cert_pem.encode())
    serialization.load_pem_private_key(key_pem.encode(), password=None)


def test_removing_the_connection_deletes_the_allauth_app(login, alice):
    client = login(alice)
    client.post(URL, oidc_form())

    assert client.post(URL, {"remove": "1"}).status_code == 302

    assert not SsoConnection.objects.exists() and not SocialApp.objects.exists() and not SsoDomain.objects.exists()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SSO_CHANGED).first().details["action"] == "removed"


def test_only_administrators_see_or_change_single_sign_on(login, alice, victor, olivia):
    sso_connection_save(
        organization=alice.memberships.get().organization,
        acting_user=alice,
        protocol="oidc",
        oidc_issuer="https://login.acme.example",
        oidc_client_id="aims",
        oidc_client_secret=SECRET,
        domains=["acme.example"],
    )
    for person in (victor, olivia):
        client = login(person)
        assert client.get(URL).status_code == 403
        assert client.post(URL, oidc_form(domains="evil.example")).status_code == 403
        assert client.post(URL, {"remove": "1"}).status_code == 403
        assert "Single sign-on" not in client.get("/organisation/settings/").content.decode()
    assert list(SsoDomain.objects.values_list("domain", flat=True)) == ["acme.example"]


def test_another_organisation_never_sees_or_touches_the_connection(login, alice, charlie):
    login(alice).post(URL, oidc_form(), follow=True)  # follow: alice reads her own messages
    client = login(charlie)

    page = client.get(URL).content.decode()
    assert "acme.example" not in page and "login.acme.example" not in page
    client.post(URL, {"remove": "1"})
    assert SsoConnection.objects.filter(organization__slug="acme").exists()
    assert client.post(URL, oidc_form(domains="globex.example")).status_code == 302
    assert SsoConnection.objects.count() == 2
    assert SocialApp.objects.get(provider_id="sso-acme").client_id == "aims"


def test_saving_reads_the_issuers_discovery_document_and_warns_when_it_cannot(login, alice, oidc_provider):  # noqa: F811
    client = login(alice)

    response = client.post(URL, oidc_form(oidc_issuer=oidc_provider.issuer), follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["success"]

    unreachable = f"http://127.0.0.1:{free_port()}"
    response = client.post(URL, oidc_form(oidc_issuer=unreachable), follow=True)
    texts = [str(m) for m in response.context["messages"]]
    assert texts[0] == "Single sign-on settings saved."
    assert texts[1].startswith("Sign-in will fail until the issuer answers:") and unreachable in texts[1]


def test_a_domain_needs_an_administrators_confirmed_address_or_the_instance_administrator(login, alice, charlie):
    # Globex's administrator cannot route the addresses of a domain Globex has not shown it controls.
    refused = login(charlie).post(URL, oidc_form(domains="globex.example\nmail.example"))
    assert refused.status_code == 200
    assert "mail.example: no administrator of the organisation has a verified address there" in str(
        refused.context["form"].errors["domains"]
    )
    assert not SsoDomain.objects.filter(domain="mail.example").exists()
    # An unconfirmed address proves nothing; a confirmed one does.
    address = EmailAddress.objects.create(user=charlie, email="charlie@mail.example", verified=False, primary=False)
    assert login(charlie).post(URL, oidc_form(domains="globex.example\nmail.example")).status_code == 200
    address.verified = True
    address.save()
    assert login(charlie).post(URL, oidc_form(domains="globex.example\nmail.example")).status_code == 302
    assert set(SsoDomain.objects.filter(organization__slug="globex").values_list("domain", flat=True)) == {
        "globex.example",
        "mail.example",
    }
    # A domain the connection already has stays when the proof goes away; an instance administrator
    # may add one without it.
    address.delete()
    assert login(charlie).post(URL, oidc_form(domains="globex.example\nmail.example")).status_code == 302
    alice.is_superuser = True
    alice.save()
    assert login(alice).post(URL, oidc_form(domains="acme.example\nacme-clinics.example")).status_code == 302
    assert SsoDomain.objects.filter(domain="acme-clinics.example", organization__slug="acme").exists()


def test_the_page_shows_the_saved_connection_for_editing(login, alice, olivia):
    client = login(alice)
    client.post(URL, oidc_form(break_glass_admin=alice.pk))

    form = client.get(URL).context["form"]

    assert form.initial["oidc_client_id"] == "aims"
    assert form.initial["oidc_issuer"] == "https://login.acme.example/realms/staff"
    assert form.initial["break_glass_admin"] == alice.pk
    assert "client_secret" not in str(form.initial) and SECRET not in str(form.initial.values())
