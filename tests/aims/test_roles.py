"""Viewers and auditors can read but change nothing; capabilities are decided in one place."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aims.models import ApiToken, Invitation, Membership
from aims.roles import ROLE_CAPABILITIES, Capability, Role, role_can


def test_capability_table():
    assert ROLE_CAPABILITIES[Role.ADMIN] == frozenset(Capability)
    for role in (Role.VIEWER, Role.AUDITOR):
        assert not role_can(role, Capability.EDIT)
        assert not role_can(role, Capability.MANAGE_MEMBERS)
        assert role_can(role, Capability.VIEW)
    assert role_can(Role.AUDITOR, Capability.RECORD_FINDINGS)
    assert role_can(Role.OFFICER, Capability.EDIT)
    assert not role_can(Role.OFFICER, Capability.MANAGE_MEMBERS)
    assert not role_can(None, Capability.VIEW)
    assert not role_can("stranger", Capability.VIEW)


@pytest.fixture(params=["bob", "victor", "olivia"])
def non_admin(request, bob, victor, olivia):
    return {"bob": bob, "victor": victor, "olivia": olivia}[request.param]


def test_non_admins_cannot_change_members_tokens_or_settings(login, non_admin, alice, acme):
    client = login(non_admin)
    members_before = Membership.objects.filter(organization=acme).count()
    alice_membership = Membership.objects.get(user=alice)
    invitation = Invitation.objects.create(organization=acme, email="x@example.com", expires_at="2099-01-01T00:00Z")
    writes = [
        (reverse("members"), {"email": "new@example.com", "role": Role.ADMIN}),
        (reverse("member_role", args=[alice_membership.pk]), {"role": Role.VIEWER}),
        (reverse("member_remove", args=[alice_membership.pk]), {}),
        (reverse("invitation_revoke", args=[invitation.pk]), {}),
        (reverse("api_tokens"), {"name": "t", "role": Role.ADMIN, "expires_in_days": 30}),
        (reverse("organization_settings"), {"name": "Renamed"}),
    ]
    for url, data in writes:
        assert client.post(url, data).status_code == 403, url
    alice_membership.refresh_from_db()
    assert alice_membership.role == Role.ADMIN
    assert not ApiToken.objects.exists()
    assert Membership.objects.filter(organization=acme).count() == members_before
    acme.refresh_from_db()
    assert acme.name == "Acme Health AI"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR])
def test_read_only_roles_can_read_pages(login, acme, role):
    from tests.aims.factories import MembershipFactory

    user = MembershipFactory(organization=acme, role=role).user
    client = login(user)
    for name in [
        "dashboard",
        "members",
        "organization_settings",
        "activity",
        "catalogue:frameworks",
        "inventory:system_list",
    ]:
        assert client.get(reverse(name)).status_code == 200, name
    assert client.get(reverse("api_tokens")).status_code == 403


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR, Role.OWNER, Role.OFFICER])
def test_api_refuses_member_writes_to_roles_without_the_capability(api_for, acme, alice, role):
    api = api_for(acme, role=role)
    membership = Membership.objects.get(user=alice)
    assert api.post(reverse("member-list"), {"email": "n@example.com", "role": Role.VIEWER}).status_code == 403
    assert api.patch(reverse("member-detail", args=[membership.pk]), {"role": Role.VIEWER}).status_code == 403
    assert api.delete(reverse("member-detail", args=[membership.pk])).status_code == 403
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    assert api.get(reverse("member-list")).status_code == 200


def test_catalogue_api_is_read_only_for_everyone(api_for, acme):
    api = api_for(acme, role=Role.ADMIN)
    assert api.post(reverse("requirement-list"), {"ref": "X"}).status_code == 405
    assert api.delete(reverse("framework-detail", args=["ISO42001"])).status_code == 405
