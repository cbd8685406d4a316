"""Admins add, invite, re-role and remove members; invitations are accepted by e-mail link."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from aims.models import Invitation, Membership, User, invitation_token
from aims.roles import Role
from tests.aims.factories import UserFactory


def test_an_existing_user_is_invited_and_joins_only_on_accepting(
    login, alice, acme, client, django_capture_on_commit_callbacks
):
    existing = UserFactory(email="dana@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = login(alice).post(reverse("members"), {"email": "DANA@example.com", "role": Role.OWNER}, follow=True)
    assert "An invitation was sent to dana@example.com" in response.content.decode()
    assert not Membership.objects.filter(organization=acme, user=existing).exists()
    invitation = Invitation.objects.get(email="dana@example.com")
    assert "If you already have an account" in mail.outbox[0].body
    client.force_login(existing)
    assert client.post(reverse("invitation_accept", args=[invitation_token(invitation)])).status_code == 302
    assert Membership.objects.get(organization=acme, user=existing).role == Role.OWNER


def test_admin_invites_a_new_address_and_the_invitee_joins(
    login, alice, acme, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(alice).post(reverse("members"), {"email": "erin@example.com", "role": Role.AUDITOR})
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="erin@example.com")
    assert invitation.sent_at is not None
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = reverse("invitation_accept", args=[invitation_token(invitation)])
    assert link in body and "Acme Health AI" in mail.outbox[0].subject

    client.logout()
    page = client.get(link)
    assert page.status_code == 200 and "erin@example.com" in page.content.decode()
    bad = client.post(link, {"full_name": "Erin", "password1": "short", "password2": "other"})
    assert bad.status_code == 200 and bad.context["form"].errors
    assert not User.objects.filter(email="erin@example.com").exists()
    ok = client.post(
        link, {"full_name": "Erin Auditor", "password1": "a-Long-pass-2026", "password2": "a-Long-pass-2026"}
    )
    assert ok.status_code == 302
    erin = User.objects.get(email="erin@example.com")
    assert Membership.objects.get(organization=acme, user=erin).role == Role.AUDITOR
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert client.get(link).status_code == 404  # used links stop working


def test_forged_invitation_link_is_404(client, db):
    assert client.get(reverse("invitation_accept", args=["forged:token"])).status_code == 404


def test_existing_account_accepts_invitation_after_signing_in(client, acme, alice):
    frank = UserFactory(email="frank@example.com")
    invitation = Invitation.objects.create(
        organization=acme, email="frank@example.com", role=Role.VIEWER, expires_at="2099-01-01T00:00Z"
    )
    link = reverse("invitation_accept", args=[invitation_token(invitation)])
    assert client.post(link)["Location"].startswith(reverse("account_login"))
    client.force_login(frank)
    assert client.post(link).status_code == 302
    assert Membership.objects.filter(organization=acme, user=frank).exists()


def test_member_form_reports_duplicates_and_bad_addresses(login, alice, victor):
    client = login(alice)
    dup = client.post(reverse("members"), {"email": "victor@acme.example", "role": Role.VIEWER})
    assert "already a member" in str(dup.context["form"].errors["email"])
    bad = client.post(reverse("members"), {"email": "not-an-email", "role": Role.VIEWER})
    assert bad.status_code == 200 and "email" in bad.context["form"].errors


def test_role_change_and_the_last_admin_rule(login, alice, victor):
    client = login(alice)
    victor_m = Membership.objects.get(user=victor)
    client.post(reverse("member_role", args=[victor_m.pk]), {"role": Role.OFFICER})
    victor_m.refresh_from_db()
    assert victor_m.role == Role.OFFICER
    alice_m = Membership.objects.get(user=alice)
    response = client.post(reverse("member_role", args=[alice_m.pk]), {"role": Role.VIEWER}, follow=True)
    assert "is the last administrator of Acme Health AI" in response.content.decode()
    alice_m.refresh_from_db()
    assert alice_m.role == Role.ADMIN
    client.post(reverse("member_remove", args=[alice_m.pk]))
    assert Membership.objects.filter(pk=alice_m.pk).exists()
    bad_role = client.post(reverse("member_role", args=[victor_m.pk]), {"role": "emperor"}, follow=True)
    assert bad_role.status_code == 200
    victor_m.refresh_from_db()
    assert victor_m.role == Role.OFFICER


def test_admin_removes_a_member(login, alice, victor, acme):
    login(alice).post(reverse("member_remove", args=[Membership.objects.get(user=victor).pk]))
    assert not Membership.objects.filter(organization=acme, user=victor).exists()


def test_api_adds_invites_changes_and_removes(api_for, acme, alice, victor):
    api = api_for(acme, role=Role.ADMIN, created_by=alice)
    UserFactory(email="gina@example.com")
    added = api.post(reverse("member-list"), {"email": "gina@example.com", "role": Role.OWNER})
    assert added.status_code == 201 and added.json()["result"] == "invited"
    invited = api.post(reverse("member-list"), {"email": "hal@example.com", "role": Role.VIEWER})
    assert invited.status_code == 201 and invited.json()["invitation"]["status"] == "pending"
    victor_id = Membership.objects.get(user=victor).pk
    changed = api.patch(reverse("member-detail", args=[victor_id]), {"role": Role.AUDITOR})
    assert changed.status_code == 200 and changed.json()["role"] == Role.AUDITOR
    assert api.delete(reverse("member-detail", args=[victor_id])).status_code == 204
    revoke = api.delete(reverse("invitation-detail", args=[invited.json()["invitation"]["id"]]))
    assert revoke.status_code == 204
    assert Invitation.objects.get(email="hal@example.com").revoked_at is not None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "nope", "role": "viewer"}, "email"),
        ({"email": "a@b.example", "role": "emperor"}, "role"),
        ({}, "email"),
    ],
)
def test_api_reports_field_errors(api_for, acme, payload, field):
    response = api_for(acme, role=Role.ADMIN).post(reverse("member-list"), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_api_service_errors_become_400(api_for, acme, alice):
    api = api_for(acme, role=Role.ADMIN, created_by=alice)
    response = api.patch(reverse("member-detail", args=[Membership.objects.get(user=alice).pk]), {"role": "viewer"})
    assert response.status_code == 400
    assert "last administrator" in response.json()["errors"]["role"][0]


def test_api_lists_are_paginated_filtered_and_searchable(api_for, acme, alice, bob, victor):
    api = api_for(acme, role=Role.ADMIN, created_by=alice)
    page = api.get(reverse("member-list"), {"page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    auditors = api.get(reverse("member-list"), {"role": Role.AUDITOR}).json()["results"]
    assert [m["user"]["email"] for m in auditors] == ["bob@acme.example"]
    # By the address: the factories' full names are random, and one may contain "victor".
    found = api.get(reverse("member-list"), {"search": "victor@acme"}).json()["results"]
    assert [m["user"]["email"] for m in found] == ["victor@acme.example"]
