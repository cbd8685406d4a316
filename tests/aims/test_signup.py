"""Self-service start: with SIGNUP_ENABLED a person signs up, confirms their e-mail address and
creates their organisation; without it sign-up is closed and the login page offers no link."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from aims.models import Membership, SecurityEvent, User
from aims.roles import Role

PASSWORD = "a-Long-pass-2026"


@pytest.fixture
def signup_open(settings):
    settings.SIGNUP_ENABLED = True


def test_a_person_signs_up_confirms_their_address_and_creates_an_organisation(client, db, signup_open):
    page = client.get(reverse("account_signup"))
    assert page.status_code == 200 and "Create an account" in page.content.decode()
    sent = client.post(
        reverse("account_signup"), {"email": "Nina@Startup.example", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert sent.status_code == 302 and sent["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session  # mandatory verification: not signed in yet
    assert "Confirm your e-mail address" in client.get(sent["Location"]).content.decode()
    nina = User.objects.get(email="nina@startup.example")
    assert not Membership.objects.filter(user=nina).exists()

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["nina@startup.example"]
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", mail.outbox[0].body).group(1)
    assert client.get(link).status_code == 200
    confirmed = client.post(link, follow=True)
    assert confirmed.redirect_chain[-1][0] == reverse("no_organization")
    assert client.session["_auth_user_id"] == str(nina.pk)

    created = client.post(reverse("no_organization"), {"name": "Startup AI"}, follow=True)
    assert created.redirect_chain[-1][0] == reverse("dashboard")
    membership = Membership.objects.get(user=nina)
    assert membership.organization.name == "Startup AI" and membership.role == Role.ADMIN
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.ORGANIZATION_CREATED)
    assert (event.organization, event.actor) == (membership.organization, nina)


def test_an_unconfirmed_address_cannot_sign_in(client, db, signup_open):
    client.post(reverse("account_signup"), {"email": "omar@example.com", "password1": PASSWORD, "password2": PASSWORD})
    client.logout()
    response = client.post(reverse("account_login"), {"login": "omar@example.com", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


def test_signing_up_with_a_taken_address_does_not_tell(client, alice, signup_open):
    response = client.post(
        reverse("account_signup"), {"email": alice.email, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("account_email_verification_sent")
    assert "already" in mail.outbox[0].body.lower()  # the owner of the address is told instead


def test_sign_up_is_closed_by_default(client, db, settings):
    assert settings.SIGNUP_ENABLED is False
    closed = client.get(reverse("account_signup"))
    assert "Sign-up is closed" in closed.content.decode()
    client.post(reverse("account_signup"), {"email": "pat@example.com", "password1": PASSWORD, "password2": PASSWORD})
    assert not User.objects.filter(email="pat@example.com").exists()
    assert reverse("account_signup") not in client.get(reverse("account_login")).content.decode()


def test_the_login_page_links_to_sign_up_when_it_is_open(client, db, signup_open):
    assert reverse("account_signup") in client.get(reverse("account_login")).content.decode()
