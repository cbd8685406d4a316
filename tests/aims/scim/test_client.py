"""A SCIM client drives the running portal over HTTP, as an identity provider's sync would: it
provisions a member, renames, deactivates and reactivates them, gives them a role through a group,
takes it away, and deletes them."""

from __future__ import annotations

import pytest
import requests

from aims.identity.models import IdpGroupRole
from aims.models import ApiToken, Membership, SecurityEvent, User
from aims.roles import Role
from aims.scim.services import scim_token_issue
from tests.aims.factories import ApiTokenFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.aims.scim.conftest import GROUP, PATCH_OP, SCIM, USER

pytestmark = pytest.mark.django_db(transaction=True)


class ScimClient:
    """The few calls an identity provider makes, over a real HTTP connection."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/") + "/scim/v2/"
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": SCIM, "Accept": SCIM})

    def call(self, method: str, path: str, body=None, expect: int = 200, **params):
        response = self.session.request(method, self.base_url + path, json=body, params=params, timeout=30)
        assert response.status_code == expect, (method, path, response.status_code, response.text)
        if response.content:
            assert response.headers["Content-Type"] == SCIM
            return response.json()
        return None

    def patch(self, path: str, *operations, expect: int = 200):
        return self.call("PATCH", path, {"schemas": [PATCH_OP], "Operations": list(operations)}, expect=expect)


@pytest.fixture
def org(catalogue):
    organization = OrganizationFactory(name="Initech", slug="initech")
    admin = MembershipFactory(organization=organization, role=Role.ADMIN, user=UserFactory()).user
    return organization, admin


def role_of(email: str, organization) -> str | None:
    membership = Membership.objects.filter(user__email=email, organization=organization).first()
    return membership.role if membership else None


def test_an_identity_provider_provisions_a_member_through_their_lifecycle(live_server, org):
    organization, admin = org
    _, token = scim_token_issue(organization=organization, acting_user=admin)
    IdpGroupRole.objects.create(organization=organization, group="AIMS Officers", role=Role.OFFICER)
    idp = ScimClient(live_server.url, token)

    assert idp.call("GET", "ServiceProviderConfig")["patch"]["supported"] is True
    # The provider looks the person up first, finds nobody, and creates them.
    assert idp.call("GET", "Users", filter='userName eq "mia@initech.example"')["totalResults"] == 0
    mia = idp.call(
        "POST",
        "Users",
        {
            "schemas": [USER],
            "userName": "mia@initech.example",
            "externalId": "00u1",
            "name": {"givenName": "Mia", "familyName": "Stone"},
            "emails": [{"value": "mia@initech.example", "primary": True, "type": "work"}],
            "active": True,
        },
        expect=201,
    )
    assert role_of("mia@initech.example", organization) == Role.VIEWER
    assert idp.call("GET", "Users", filter='userName eq "mia@initech.example"')["Resources"][0]["id"] == mia["id"]

    renamed = idp.patch(f"Users/{mia['id']}", {"op": "replace", "path": "name.familyName", "value": "Rivers"})
    assert renamed["name"]["familyName"] == "Rivers"
    assert User.objects.get(email="mia@initech.example").full_name == "Mia Rivers"

    mias_token = ApiTokenFactory(organization=organization, created_by=User.objects.get(email="mia@initech.example"))
    assert idp.patch(f"Users/{mia['id']}", {"op": "replace", "value": {"active": False}})["active"] is False
    assert role_of("mia@initech.example", organization) is None
    assert ApiToken.objects.get(pk=mias_token.pk).revoked_at is not None
    back = idp.patch(f"Users/{mia['id']}", {"op": "Replace", "path": "active", "value": "True"})
    assert back["active"] is True and back["id"] == mia["id"] and back["externalId"] == "00u1"
    assert role_of("mia@initech.example", organization) == Role.VIEWER

    group = idp.call("POST", "Groups", {"schemas": [GROUP], "displayName": "AIMS Officers", "members": []}, expect=201)
    idp.patch(f"Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": mia["id"]}]})
    assert role_of("mia@initech.example", organization) == Role.OFFICER
    assert idp.call("GET", f"Users/{mia['id']}")["roles"] == [{"value": Role.OFFICER, "primary": True}]
    idp.patch(f"Groups/{group['id']}", {"op": "remove", "path": f'members[value eq "{mia["id"]}"]'})
    assert role_of("mia@initech.example", organization) == Role.VIEWER

    idp.call("DELETE", f"Users/{mia['id']}", expect=204)
    assert role_of("mia@initech.example", organization) is None
    idp.call("GET", f"Users/{mia['id']}", expect=404)
    idp.call("DELETE", f"Groups/{group['id']}", expect=204)

    kinds = list(SecurityEvent.objects.filter(organization=organization).values_list("kind", flat=True))
    Kind = SecurityEvent.Kind
    assert kinds.count(Kind.MEMBER_PROVISIONED) == 2 and kinds.count(Kind.MEMBER_DEACTIVATED) == 2
    assert kinds.count(Kind.MEMBER_ROLE_CHANGED) == 2 and kinds.count(Kind.SCIM_TOKEN_CHANGED) == 1


def test_refusals_over_http_are_scim_errors_never_html(live_server, org):
    organization, admin = org
    _, token = scim_token_issue(organization=organization, acting_user=admin)
    idp = ScimClient(live_server.url, token)
    response = requests.get(f"{live_server.url}/scim/v2/Users", timeout=30)
    assert response.status_code == 401 and response.headers["Content-Type"] == SCIM
    assert response.json()["status"] == "401"
    bad = idp.session.post(idp.base_url + "Users", data=b"{not json", timeout=30)
    assert bad.status_code == 400 and bad.json()["scimType"] == "invalidSyntax"
    missing = idp.session.get(idp.base_url + "Nowhere/at/all", timeout=30)
    assert missing.status_code == 404 and missing.headers["Content-Type"] == SCIM
