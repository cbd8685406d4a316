"""The Provisioning (SCIM) page: the token is shown once and stored as a hash, rotation and
revocation take effect at once and are logged, the default role, and who may see the page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from aims.models import Membership, ScimProvisioning, SecurityEvent
from aims.roles import Role
from tests.aims.factories import MembershipFactory, UserFactory
from tests.aims.scim.conftest import Scim

pytestmark = pytest.mark.django_db
URL = "/organisation/provisioning/"
REVOKE = "/organisation/provisioning/revoke/"
DEFAULT_ROLE = "/organisation/provisioning/default-role/"
TOKEN = re.compile(r'value="(aims_scim_[^"]+)"')


def issue(client) -> str:
    response = client.post(URL)
    assert response.status_code == 200
    found = TOKEN.search(response.content.decode())
    assert found, "the new token is on the page"
    return found.group(1)


def test_the_token_is_shown_once_and_stored_as_a_hash(login, alice, acme):
    client = login(alice)
    page = client.get(URL)
    assert page.status_code == 200 and "Create token" in page.content.decode()
    assert "http://testserver/scim/v2/" in page.content.decode()
    raw = issue(client)
    provisioning = ScimProvisioning.objects.get(organization=acme)
    assert provisioning.token_hash == ScimProvisioning.hash_token(raw) and raw not in str(vars(provisioning))
    assert raw.startswith(provisioning.token_prefix)
    again = client.get(URL).content.decode()
    assert raw not in again and provisioning.token_prefix in again and "Rotate token" in again
    assert Scim(raw).get("Users").status_code == 200
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SCIM_TOKEN_CHANGED)
    assert event.actor == alice and event.organization == acme and event.details["action"] == "created"


def test_rotation_and_revocation_take_effect_at_once(login, alice, acme):
    client = login(alice)
    first = issue(client)
    second = issue(client)
    assert Scim(first).get("Users").status_code == 401
    assert Scim(second).get("Users").status_code == 200
    response = client.post(REVOKE, follow=True)
    assert "SCIM token revoked" in response.content.decode()
    assert Scim(second).get("Users").status_code == 401
    assert not ScimProvisioning.objects.get(organization=acme).has_token
    actions = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SCIM_TOKEN_CHANGED).order_by("pk")
    assert [e.details["action"] for e in actions] == ["created", "rotated", "revoked"]
    response = client.post(REVOKE, follow=True)
    assert "no SCIM token to revoke" in response.content.decode()


def test_the_default_role(login, alice, acme):
    client = login(alice)
    assert client.post(DEFAULT_ROLE, {"default_role": Role.AUDITOR}).status_code == 302
    assert ScimProvisioning.objects.get(organization=acme).default_role == Role.AUDITOR
    refused = client.post(DEFAULT_ROLE, {"default_role": Role.ADMIN})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert ScimProvisioning.objects.get(organization=acme).default_role == Role.AUDITOR
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SECURITY_POLICY_CHANGED).count() == 1


@pytest.mark.parametrize("persona", ["victor", "olivia", "bob"])
def test_only_those_who_manage_members_may_open_it(login, persona, request, alice, acme):
    client = login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403
    for url in (URL, REVOKE, DEFAULT_ROLE):
        assert client.post(url, {"default_role": Role.VIEWER}).status_code == 403
    assert not ScimProvisioning.objects.filter(organization=acme).exists()
    assert "Provisioning (SCIM)" not in client.get(reverse("members")).content.decode()
    assert "Provisioning (SCIM)" in login(alice).get(reverse("members")).content.decode()


def test_the_page_lists_what_was_provisioned(login, alice, acme):
    client = login(alice)
    scim = Scim(issue(client))
    user_id = scim.post("Users", {"userName": "zed@acme.example"}).json()["id"]
    scim.post("Groups", {"displayName": "Zed's team", "members": [{"value": user_id}]})
    page = client.get(URL).content.decode()
    assert "zed@acme.example" in page and "Zed&#x27;s team" in page and "not mapped" in page


def test_the_token_follows_the_person_who_issued_it(login, alice, acme):
    from aims.services import membership_change_role

    second_admin = MembershipFactory(organization=acme, role=Role.ADMIN, user=UserFactory())
    raw = issue(login(alice))
    assert Scim(raw).get("Users").status_code == 200
    membership_change_role(
        membership=Membership.objects.get(user=alice, organization=acme),
        role=Role.VIEWER,
        acting_user=second_admin.user,
    )
    refused = Scim(raw).get("Users")
    assert refused.status_code == 401 and "no longer manages members" in refused.json()["detail"]
    page = login(second_admin.user).get(URL).content.decode()
    assert "its issuer no longer manages members" in page
    assert Scim(issue(login(second_admin.user))).get("Users").status_code == 200
