"""API tokens: shown once, stored hashed, scoped to one organisation and role, revocable, expiring."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from aims import services
from aims.models import ApiToken, Membership
from aims.roles import Role


def bearer(raw_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def test_admin_creates_a_token_that_is_shown_once_and_stored_hashed(login, alice, acme):
    client = login(alice)
    response = client.post(reverse("api_tokens"), {"name": "MLflow sync", "role": Role.OFFICER, "expires_in_days": 90})
    assert response.status_code == 200
    raw_key = response.context["new_key"]
    assert raw_key.startswith("aims_")
    token = ApiToken.objects.get()
    assert token.key_hash == ApiToken.hash_key(raw_key)
    assert raw_key not in (token.key_hash, token.key_prefix)
    assert token.organization == acme and token.role == Role.OFFICER and token.created_by == alice
    assert 89 <= (token.expires_at - timezone.now()).days <= 90
    assert raw_key not in client.get(reverse("api_tokens")).content.decode()
    me = bearer(raw_key).get(reverse("api-me")).json()
    assert me["organization"]["slug"] == "acme"
    assert me["role"] == Role.OFFICER
    assert me["authenticated_by"] == "token"


def test_token_form_reports_bad_input(login, alice):
    response = login(alice).post(reverse("api_tokens"), {"name": "", "role": "god", "expires_in_days": 9999})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"name", "role", "expires_in_days"}
    assert not ApiToken.objects.exists()


def test_revoked_token_is_rejected(api_for, acme, alice, login):
    api = api_for(acme, created_by=alice)
    assert api.get(reverse("member-list")).status_code == 200
    response = login(alice).post(reverse("api_token_revoke", args=[api.token.pk]))
    assert response.status_code == 302
    refused = api.get(reverse("member-list"))
    assert refused.status_code == 401
    assert refused.json() == {"detail": "This API token has been revoked."}


def test_expired_token_is_rejected(api_for, acme):
    api = api_for(acme, expires_at=timezone.now() - timedelta(seconds=1))
    response = api.get(reverse("member-list"))
    assert response.status_code == 401
    assert response.json() == {"detail": "This API token has expired."}


def test_unknown_or_malformed_token_is_rejected(db):
    assert bearer("aims_not-a-real-token").get(reverse("member-list")).status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer")
    assert client.get(reverse("member-list")).status_code == 401
    assert APIClient().get(reverse("member-list")).status_code in (401, 403)


def test_token_of_one_organisation_cannot_see_another(api_for, acme, globex, charlie, alice):
    api = api_for(acme, role=Role.ADMIN, created_by=alice)
    charlie_membership = Membership.objects.get(user=charlie)
    assert api.get(reverse("member-detail", args=[charlie_membership.pk])).status_code == 404
    emails = {m["user"]["email"] for m in api.get(reverse("member-list")).json()["results"]}
    assert "charlie@globex.example" not in emails
    # Even a person who belongs to both organisations: the token decides.
    Membership.objects.create(organization=globex, user=alice, role=Role.ADMIN)
    assert api.get(reverse("member-detail", args=[charlie_membership.pk])).status_code == 404


def test_token_role_limits_what_it_can_do(api_for, acme):
    viewer = api_for(acme, role=Role.VIEWER)
    assert viewer.get(reverse("member-list")).status_code == 200
    assert viewer.post(reverse("member-list"), {"email": "x@example.com", "role": "viewer"}).status_code == 403


def test_token_use_is_recorded_but_not_on_every_call(api_for, acme, django_assert_max_num_queries):
    api = api_for(acme)
    api.get(reverse("api-me"))
    api.token.refresh_from_db()
    first = api.token.last_used_at
    assert first is not None
    api.get(reverse("api-me"))
    api.token.refresh_from_db()
    assert api.token.last_used_at == first


def test_removing_a_member_revokes_their_tokens(acme, alice, olivia):
    token, raw_key = services.api_token_create(
        organization=acme, name="olivia's", role=Role.OFFICER, expires_in_days=30, acting_user=olivia
    )
    services.membership_remove(membership=Membership.objects.get(user=olivia), acting_user=alice)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert bearer(raw_key).get(reverse("api-me")).status_code == 401


def test_token_cannot_exceed_its_creators_role(acme, olivia):
    import pytest
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        services.api_token_create(
            organization=acme,
            name="x",
            role=Role.ADMIN,
            expires_in_days=30,
            acting_user=olivia,
            acting_role=Role.OFFICER,
        )
    assert "role" in exc.value.message_dict
