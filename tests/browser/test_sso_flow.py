"""Single sign-on end to end in Chromium, through real identity providers on the loopback:
the npm ``oidc-provider`` (OpenID Connect) and a pysaml2 IdP (SAML 2.0). The sign-in page
asks for the e-mail address, sends an address of the organisation's domain to its identity
provider, and the person comes back signed in, a member with the role their groups map to."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from aims.models import Membership, SecurityEvent, User
from aims.roles import Role
from aims.sso.services import sso_connection_save
from tests.aims.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.services.providers import oidc_provider, saml_idp  # noqa: F401  # fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme_admin(catalogue):
    org = OrganizationFactory(name="Acme Health AI", slug="acme")
    admin = MembershipFactory(organization=org, role=Role.ADMIN, user=UserFactory(email="alice@acme.example")).user
    # Confirmed addresses at the test domains: the proof that Acme may route them to its IdPs.
    for domain in ("sso-acme.example", "saml-acme.example"):
        EmailAddress.objects.create(user=admin, email=f"alice@{domain}", verified=True, primary=False)
    return admin


def start_sign_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Continue with single sign-on").click()


def test_oidc_sign_in_makes_a_member_with_the_mapped_role(page, acme_admin, oidc_provider):  # noqa: F811
    org = acme_admin.memberships.get().organization
    sso_connection_save(
        organization=org,
        acting_user=acme_admin,
        protocol="oidc",
        oidc_issuer=oidc_provider.issuer,
        oidc_client_id=oidc_provider.client_id,
        oidc_client_secret=oidc_provider.client_secret,
        domains=["sso-acme.example"],
        default_role=Role.VIEWER,
        group_roles=[("aims-officers", Role.OFFICER)],
    )

    start_sign_in(page, "dana@sso-acme.example")
    # The provider's own development login form, the address passed on as login_hint, then
    # its consent screen.
    expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/interaction/"))
    expect(page.locator("input[name=login]")).to_have_value("dana@sso-acme.example")
    page.locator("input[name=password]").fill("anything")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert page.url.startswith("http://localhost:")  # back at the portal
    dana = User.objects.get(email="dana@sso-acme.example")
    assert dana.full_name == "Dana Diaz"
    assert not dana.has_usable_password()
    assert dana.emailaddress_set.get().verified
    assert Membership.objects.get(user=dana, organization=org).role == Role.OFFICER
    kinds = set(SecurityEvent.objects.filter(user=dana).values_list("kind", flat=True))
    assert {SecurityEvent.Kind.SSO_LOGIN, SecurityEvent.Kind.MEMBER_PROVISIONED, SecurityEvent.Kind.LOGIN} <= kinds


def test_saml_sign_in_through_the_idp_makes_a_member_with_the_mapped_role(page, acme_admin, saml_idp):  # noqa: F811
    org = acme_admin.memberships.get().organization
    # The IdP's metadata URL: the portal reads entity id, SSO URL and certificate from it.
    sso_connection_save(
        organization=org,
        acting_user=acme_admin,
        protocol="saml",
        saml_metadata_url=saml_idp.metadata_url,
        domains=["saml-acme.example"],
        default_role=Role.VIEWER,
        group_roles=[("aims-auditors", Role.AUDITOR)],
    )

    start_sign_in(page, "sam@saml-acme.example")
    expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/sso\?SAMLRequest="))
    page.get_by_label("Login").fill("sam")
    page.get_by_role("button", name="Sign in at the IdP").click()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert page.url.startswith("http://localhost:")
    sam = User.objects.get(email="sam@saml-acme.example")
    assert Membership.objects.get(user=sam, organization=org).role == Role.AUDITOR
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SSO_LOGIN, user=sam).exists()
