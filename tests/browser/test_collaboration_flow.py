"""A member mentions a colleague in a risk's discussion; the colleague finds the notification and
opens the risk from it."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(catalogue):
    from aims.roles import Role
    from tests.aims.factories import MembershipFactory, OrganizationFactory, UserFactory
    from tests.risk.factories import RiskFactory

    org = OrganizationFactory(name="Acme Health AI")
    olga = UserFactory(email="olga@example.com", full_name="Olga Officer")
    adam = UserFactory(email="adam@example.com", full_name="Adam Admin")
    MembershipFactory(user=olga, organization=org, role=Role.OFFICER)
    MembershipFactory(user=adam, organization=org, role=Role.ADMIN)
    risk = RiskFactory(organization=org, owner=olga, title="Unfair refusals for younger applicants")
    return olga, adam, risk


def sign_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()


def test_a_mentioned_colleague_sees_the_notification_and_opens_the_record(page, people):
    from playwright.sync_api import expect

    olga, adam, risk = people
    sign_in(page, "olga@example.com")
    page.goto(f"/risks/{risk.pk}/")
    page.get_by_role("textbox", name="Comment").fill("@adam could you check the residual rating?")
    page.get_by_role("button", name="Post comment").click()
    discussion = page.locator("#discussion")
    expect(discussion.locator(".mention")).to_have_text("@adam")
    expect(discussion).to_contain_text("could you check the residual rating?")

    page.context.clear_cookies()
    sign_in(page, "adam@example.com")
    page.goto("/notifications/")
    expect(page.get_by_text("1 unread.")).to_be_visible()
    expect(page.get_by_text(f"Olga Officer mentioned you on risk {risk.ref_code}")).to_be_visible()
    page.get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unfair refusals for younger applicants")
    expect(page.locator("#discussion")).to_contain_text("could you check the residual rating?")

    page.goto("/notifications/")
    expect(page.get_by_text("0 unread.")).to_be_visible()
