"""A token acts with the lower of its own role and its creator's current role; a creator who has
left takes the token's power with them."""

from __future__ import annotations

from django.urls import reverse
from rest_framework.test import APIClient

from aims import services
from aims.models import ApiToken, Membership
from aims.roles import Role
from aims.tenancy import resolve_tenant
from registry.models import AISystem
from tests.aims.factories import UserFactory

SYSTEM = {
    "name": "Credit scoring",
    "purpose": "Estimate the default risk of loan applicants.",
    "roles": ["provider"],
    "lifecycle_stage": "operation",
    "eu_ai_act_tier": "minimal",
    "tier_rationale": "Internal analytics only.",
}


def bearer(raw_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def test_a_demoted_creators_admin_token_narrows_to_their_new_role(acme, alice, victor):
    victor_m = Membership.objects.get(user=victor)
    services.membership_change_role(membership=victor_m, role=Role.ADMIN, acting_user=alice)
    _, raw_key = services.api_token_create(
        organization=acme, name="victor's", role=Role.ADMIN, expires_in_days=30, acting_user=victor
    )
    api = bearer(raw_key)
    assert api.get(reverse("api-me")).json()["role"] == Role.ADMIN
    services.membership_change_role(membership=victor_m, role=Role.VIEWER, acting_user=alice)

    me = api.get(reverse("api-me")).json()
    assert me["role"] == Role.VIEWER and me["capabilities"] == ["view"]
    assert api.post(reverse("system-list"), SYSTEM, format="json").status_code == 403
    UserFactory(email="mallory@example.com")
    added = api.post(reverse("member-list"), {"email": "mallory@example.com", "role": Role.ADMIN})
    assert added.status_code == 403
    assert not AISystem.objects.filter(organization=acme).exists()
    assert not Membership.objects.filter(user__email="mallory@example.com").exists()
    assert api.get(reverse("member-list")).status_code == 200  # still reads, as a viewer may

    # Narrowed, not revoked: promoted again, the creator's token does what its own role allows.
    services.membership_change_role(membership=victor_m, role=Role.OFFICER, acting_user=alice)
    assert api.get(reverse("api-me")).json()["role"] == Role.OFFICER
    assert api.post(reverse("system-list"), SYSTEM, format="json").status_code == 201


def test_a_token_whose_creator_left_is_refused_with_a_clear_message(acme, alice, olivia):
    _, raw_key = services.api_token_create(
        organization=acme, name="olivia's", role=Role.OFFICER, expires_in_days=30, acting_user=olivia
    )
    # Removed behind the services' back, so the token is not revoked: the creator's absence alone refuses it.
    Membership.objects.filter(user=olivia).delete()
    refused = bearer(raw_key).get(reverse("api-me"))
    assert refused.status_code == 401
    assert "no longer a member" in refused.json()["detail"]


def test_an_owner_token_changes_only_what_its_creator_owns_while_they_are_an_owner(acme, alice):
    dana = UserFactory(email="dana@acme.example")
    dana_m = Membership.objects.create(organization=acme, user=dana, role=Role.OWNER)
    _, raw_key = services.api_token_create(
        organization=acme, name="dana's", role=Role.OWNER, expires_in_days=30, acting_user=dana
    )
    api = bearer(raw_key)
    created = api.post(reverse("system-list"), SYSTEM, format="json")
    assert created.status_code == 201 and created.json()["owner"] == dana.pk
    services.membership_change_role(membership=dana_m, role=Role.VIEWER, acting_user=alice)
    changed = api.patch(reverse("system-detail", args=[created.json()["id"]]), {"name": "Renamed"}, format="json")
    assert changed.status_code == 403


def test_the_tenant_of_a_token_says_it_is_a_token_with_its_effective_role(acme, alice, olivia, rf):
    token, _ = services.api_token_create(
        organization=acme, name="t", role=Role.OFFICER, expires_in_days=30, acting_user=olivia
    )
    services.membership_change_role(
        membership=Membership.objects.get(user=olivia), role=Role.AUDITOR, acting_user=alice
    )
    tenant = resolve_tenant(rf.get("/"), auth=ApiToken.objects.get(pk=token.pk))
    assert tenant.token == token and tenant.role == Role.AUDITOR and tenant.user == olivia


def test_authenticating_a_token_reads_its_creators_role_in_the_same_query(
    api_for, acme, alice, django_assert_num_queries
):
    api = api_for(acme, role=Role.ADMIN, created_by=alice)
    api.get(reverse("api-me"))  # records last use
    # The token with its organisation, creator and creator's role: one query, then nothing else.
    with django_assert_num_queries(1):
        assert api.get(reverse("api-me")).status_code == 200


def test_the_token_page_says_when_a_token_acts_below_its_role(login, acme, alice, olivia):
    services.api_token_create(organization=acme, name="Sync", role=Role.OFFICER, expires_in_days=30, acting_user=olivia)
    services.membership_change_role(membership=Membership.objects.get(user=olivia), role=Role.VIEWER, acting_user=alice)
    page = login(alice).get(reverse("api_tokens")).content.decode()
    assert "acts as Viewer: its creator\u2019s role is now Viewer" in page


def test_demoting_on_the_page_says_the_members_tokens_narrow(login, acme, alice, olivia):
    services.api_token_create(organization=acme, name="Sync", role=Role.OFFICER, expires_in_days=30, acting_user=olivia)
    olivia_m = Membership.objects.get(user=olivia)
    response = login(alice).post(reverse("member_role", args=[olivia_m.pk]), {"role": Role.VIEWER}, follow=True)
    assert "1 of their API tokens now act as Viewer, as they do." in response.content.decode()


def test_me_shows_the_tokens_own_and_effective_role(acme, alice, olivia):
    token, raw_key = services.api_token_create(
        organization=acme, name="t", role=Role.OFFICER, expires_in_days=30, acting_user=olivia
    )
    services.membership_change_role(membership=Membership.objects.get(user=olivia), role=Role.OWNER, acting_user=alice)
    me = bearer(raw_key).get(reverse("api-me")).json()
    assert me["role"] == Role.OWNER
    assert me["token"] == {
        "id": token.pk,
        "prefix": token.key_prefix,
        "role": Role.OFFICER,
        "effective_role": Role.OWNER,
    }
