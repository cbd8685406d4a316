"""Administrators manage API tokens in the API; instance administrators create organisations."""

from __future__ import annotations

import re

from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from aims import services
from aims.models import ApiToken, Invitation, Membership, Organization, SecurityEvent, invitation_from_token
from aims.roles import Role
from tests.aims.factories import UserFactory

Kind = SecurityEvent.Kind


def bearer(raw_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def test_admin_creates_lists_and_revokes_tokens_in_the_api(api_for, acme, alice):
    api = api_for(acme, role=Role.ADMIN, created_by=alice)
    created = api.post(reverse("apitoken-list"), {"name": "MLflow sync", "role": Role.OFFICER, "expires_in_days": 30})
    assert created.status_code == 201, created.content
    body = created.json()
    raw_key = body["key"]
    assert raw_key.startswith("aims_") and body["prefix"] == raw_key[:11]
    assert body["role"] == body["effective_role"] == Role.OFFICER and body["creator"]["email"] == alice.email
    assert ApiToken.objects.get(pk=body["id"]).key_hash == ApiToken.hash_key(raw_key)
    assert bearer(raw_key).get(reverse("api-me")).json()["role"] == Role.OFFICER

    listed = api.get(reverse("apitoken-list")).json()["results"]
    assert {t["name"] for t in listed} >= {"MLflow sync"}
    assert all("key" not in t for t in listed)
    assert raw_key not in api.get(reverse("apitoken-list")).content.decode()
    one = api.get(reverse("apitoken-detail", args=[body["id"]])).json()
    assert set(one) >= {"prefix", "role", "effective_role", "creator", "last_used_at", "expires_at", "status"}

    revoked = api.post(reverse("apitoken-revoke", args=[body["id"]]))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert bearer(raw_key).get(reverse("api-me")).status_code == 401
    # DELETE revokes too, and keeps the row for the history.
    other = api.post(reverse("apitoken-list"), {"name": "Other", "role": Role.VIEWER, "expires_in_days": 1}).json()
    assert api.delete(reverse("apitoken-detail", args=[other["id"]])).status_code == 204
    assert ApiToken.objects.get(pk=other["id"]).revoked_at is not None

    events = SecurityEvent.objects.filter(organization=acme)
    assert events.filter(kind=Kind.TOKEN_CREATED).count() == 2
    assert events.filter(kind=Kind.TOKEN_REVOKED).count() == 2
    first = events.get(kind=Kind.TOKEN_CREATED, details__name="MLflow sync")
    assert first.actor == alice and first.details["role"] == Role.OFFICER


def test_the_token_list_shows_effective_roles(api_for, acme, alice, olivia):
    services.api_token_create(organization=acme, name="Sync", role=Role.OFFICER, expires_in_days=30, acting_user=olivia)
    services.membership_change_role(membership=Membership.objects.get(user=olivia), role=Role.VIEWER, acting_user=alice)
    api = api_for(acme, role=Role.ADMIN, created_by=alice)
    sync = next(t for t in api.get(reverse("apitoken-list")).json()["results"] if t["name"] == "Sync")
    assert (sync["role"], sync["effective_role"]) == (Role.OFFICER, Role.VIEWER)
    assert sync["effective_role_note"] == "Acts as Viewer: its creator's role is now Viewer."


def test_token_api_reports_bad_input_and_refuses_roles_above_the_caller(api_for, acme, alice, olivia):
    api = api_for(acme, role=Role.ADMIN, created_by=alice)
    bad = api.post(reverse("apitoken-list"), {"name": "", "role": "god", "expires_in_days": 99999})
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"name", "role", "expires_in_days"}
    services.membership_change_role(membership=Membership.objects.get(user=olivia), role=Role.ADMIN, acting_user=alice)
    narrowed = api_for(acme, role=Role.ADMIN, created_by=olivia)
    services.membership_change_role(
        membership=Membership.objects.get(user=olivia), role=Role.OFFICER, acting_user=alice
    )
    # olivia's admin token now acts as an officer: it may not manage tokens at all.
    assert narrowed.get(reverse("apitoken-list")).status_code == 403


def test_non_admins_and_other_organisations_cannot_touch_tokens(api_for, acme, globex, alice, charlie):
    token, _ = services.api_token_create(
        organization=acme, name="Acme's", role=Role.VIEWER, expires_in_days=30, acting_user=alice
    )
    officer = api_for(acme, role=Role.OFFICER)
    assert officer.get(reverse("apitoken-list")).status_code == 403
    assert officer.post(reverse("apitoken-list"), {"name": "x", "role": "viewer"}).status_code == 403
    other = api_for(globex, role=Role.ADMIN, created_by=charlie)
    assert other.get(reverse("apitoken-detail", args=[token.pk])).status_code == 404
    assert other.post(reverse("apitoken-revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_instance_administrator_creates_an_organisation_with_an_invited_admin(
    client, db, django_capture_on_commit_callbacks
):
    root = UserFactory(email="root@example.com", is_superuser=True)
    client.force_login(root)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("api-organization-create"),
            {"name": "Initech", "admin_email": "Peter@Initech.example"},
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    organization = Organization.objects.get(pk=body["organization"]["id"])
    assert organization.name == "Initech" and not Membership.objects.filter(organization=organization).exists()
    invitation = Invitation.objects.get(pk=body["invitation"]["id"])
    assert (invitation.email, invitation.role, invitation.organization) == (
        "peter@initech.example",
        Role.ADMIN,
        organization,
    )
    # The token is signed with the time: read it from the mail rather than sign it again a second later.
    sent = re.search(r"/invitations/([^/\s]+)/", mail.outbox[0].body)
    assert sent and invitation_from_token(sent.group(1)) == invitation
    event = SecurityEvent.objects.get(kind=Kind.ORGANIZATION_CREATED)
    assert (event.organization, event.actor) == (organization, root)
    bad = client.post(reverse("api-organization-create"), {"name": " "}, content_type="application/json")
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"name", "admin_email"}


def test_only_instance_administrators_create_organisations(api_for, login, acme, alice):
    payload = {"name": "Initech", "admin_email": "peter@initech.example"}
    assert login(alice).post(reverse("api-organization-create"), payload).status_code == 403
    assert (
        api_for(acme, role=Role.ADMIN, created_by=alice).post(reverse("api-organization-create"), payload).status_code
        == 403
    )
    assert APIClient().post(reverse("api-organization-create"), payload).status_code in (401, 403)
    # A superuser's token counts only at the administrator role.
    alice.is_superuser = True
    alice.save()
    assert (
        api_for(acme, role=Role.VIEWER, created_by=alice).post(reverse("api-organization-create"), payload).status_code
        == 403
    )
    assert (
        api_for(acme, role=Role.ADMIN, created_by=alice).post(reverse("api-organization-create"), payload).status_code
        == 201
    )
    assert not Organization.objects.filter(name="Initech").count() > 1


def test_the_schema_documents_tokens_and_organisations(client, db):
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    assert "post" in schema["paths"]["/api/v1/organizations/"]
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/api-tokens/"])
    assert "post" in schema["paths"]["/api/v1/api-tokens/{id}/revoke/"]
