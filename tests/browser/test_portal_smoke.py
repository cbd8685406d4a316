"""A person signs in, switches organisation and opens the catalogue, in a real browser."""

from __future__ import annotations

import os
import re

import pytest

from aims.models import Membership
from aims.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_org_user(catalogue):
    from tests.aims.factories import MembershipFactory, OrganizationFactory, UserFactory

    user = UserFactory(email="dora@example.com")
    MembershipFactory(user=user, organization=OrganizationFactory(name="Acme Health AI"), role=Role.ADMIN)
    MembershipFactory(user=user, organization=OrganizationFactory(name="Globex Analytics"), role=Role.AUDITOR)
    return user


def test_sign_in_switch_organisation_and_browse_the_catalogue(page, two_org_user):
    from playwright.sync_api import expect

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("E-mail address").fill("dora@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Health AI")
    expect(page.locator(".tile", has_text="in 9 objective areas")).to_contain_text("38")

    page.get_by_label("Organisation").select_option(label="Globex Analytics")
    expect(page.get_by_role("heading", level=1)).to_have_text("Globex Analytics")
    expect(page.locator(".badge")).to_have_text("Auditor")
    assert Membership.objects.filter(user=two_org_user).count() == 2

    page.get_by_role("link", name="Catalogue", exact=True).click()
    page.locator("a.card-link", has_text="ISO/IEC 42001:2023").click()
    # Clauses start folded, control objectives unfolded.
    page.locator("summary", has_text="Planning").click()
    expect(page.get_by_role("link", name=re.compile("6.2 AI objectives and planning"))).to_be_visible()
    page.get_by_role("link", name=re.compile("A.7.5 Data provenance")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Data provenance")
    expect(page.locator(".breadcrumbs")).to_contain_text("A.7")
    if os.environ.get("AIMS_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["AIMS_SCREENSHOTS"], "requirement.png"), full_page=True)
