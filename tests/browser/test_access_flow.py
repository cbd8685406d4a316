"""In a real browser: a locked sign-in refuses the right password with a clear message, and a
newcomer signs up, confirms their address, creates an organisation and reads its security log."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache

from aims.models import Membership, SecurityEvent
from aims.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


def _sign_in(page, email, password):
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_thirty_wrong_passwords_then_the_right_one_is_refused(page, catalogue):
    from playwright.sync_api import expect

    from tests.aims.factories import MembershipFactory, UserFactory

    user = UserFactory(email="dora@example.com")
    MembershipFactory(user=user, role=Role.ADMIN)
    page.goto("/accounts/login/")
    for n in range(30):
        _sign_in(page, "dora@example.com", f"wrong-{n}")
        page.wait_for_load_state()
    expect(page.locator("form")).to_contain_text("Too many failed sign-in attempts")
    _sign_in(page, "dora@example.com", PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator("form")).to_contain_text("Too many failed sign-in attempts")
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED_OUT, email="dora@example.com").exists()

    cache.clear()  # the window has passed
    _sign_in(page, "dora@example.com", PASSWORD)
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def test_a_newcomer_signs_up_creates_an_organisation_and_reads_its_security_log(page, catalogue, settings):
    from playwright.sync_api import expect

    settings.SIGNUP_ENABLED = True
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("E-mail address").fill("nina@startup.example")
    page.locator("#id_password1").fill("a-Long-pass-2026")
    page.get_by_label("Repeat password").fill("a-Long-pass-2026")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your e-mail address")

    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    page.goto(re.sub(r"^https?://[^/]+", "", link))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_label("Organisation name").fill("Startup AI")
    page.get_by_role("button", name=re.compile("Create")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Startup AI")
    assert Membership.objects.get(user__email="nina@startup.example").role == Role.ADMIN

    page.goto("/organisation/members/")
    page.get_by_role("link", name="Security log").click()
    expect(page.locator("table")).to_contain_text("Organisation created")
    expect(page.locator("table")).to_contain_text("Signed in")
