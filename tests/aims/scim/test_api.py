"""The SCIM service through HTTP requests: users, groups and roles, filters and pages, every refusal
in SCIM's error shape, tenancy, the last administrator, and what is recorded."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aims.identity.models import IdpGroupRole
from aims.models import ApiToken, Membership, ScimGroup, ScimUser, SecurityEvent, User
from aims.roles import Role
from aims.scim.services import scim_token_revoke
from tests.aims.factories import ApiTokenFactory, MembershipFactory, UserFactory
from tests.aims.scim.conftest import SCIM, Scim, group_body, user_body

pytestmark = pytest.mark.django_db
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
Kind = SecurityEvent.Kind


def scim_error(response, status: int, scim_type: str | None = None) -> dict:
    """Assert ``response`` is a SCIM error of ``status`` (and ``scimType``); return its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == SCIM
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    assert body["detail"]
    if scim_type is not None:
        assert body["scimType"] == scim_type
    return body


def role_of(user, organization) -> str | None:
    membership = Membership.objects.filter(user=user, organization=organization).first()
    return membership.role if membership else None


def test_discovery_documents(scim):
    config = scim.get("ServiceProviderConfig")
    assert config.status_code == 200 and config["Content-Type"] == SCIM
    assert config.json()["patch"] == {"supported": True}
    assert config.json()["filter"]["supported"] is True
    types = scim.get("ResourceTypes").json()
    assert {t["id"] for t in types["Resources"]} == {"User", "Group"}
    assert scim.get("ResourceTypes/Group").json()["endpoint"] == "/Groups"
    schemas = scim.get("Schemas").json()
    assert {s["name"] for s in schemas["Resources"]} == {"User", "Group"}
    user_schema = scim.get("Schemas/urn:ietf:params:scim:schemas:core:2.0:User").json()
    assert "userName" in {a["name"] for a in user_schema["attributes"]}
    scim_error(scim.get("Schemas/urn:nothing"), 404)


def test_create_makes_a_verified_account_with_the_default_role(scim, acme):
    response = scim.post(
        "Users",
        user_body(
            "Nina@Acme.example",
            externalId="e-1",
            name={"givenName": "Nina", "familyName": "Novak"},
            emails=[{"value": "nina@acme.example", "type": "work", "primary": True}],
        ),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["userName"] == "Nina@Acme.example" and body["externalId"] == "e-1" and body["active"] is True
    assert response["Location"].endswith(f"/scim/v2/Users/{body['id']}")
    assert body["roles"] == [{"value": Role.VIEWER, "primary": True}]
    user = User.objects.get(email="nina@acme.example")
    assert user.full_name == "Nina Novak"
    assert not user.has_usable_password()
    assert user.emailaddress_set.get().verified
    assert role_of(user, acme) == Role.VIEWER
    event = SecurityEvent.objects.get(kind=Kind.MEMBER_PROVISIONED)
    assert event.organization == acme and event.user == user and event.actor is None
    assert event.details["via"] == "scim" and event.details["scim_token"].startswith("aims_scim_")
    membership = Membership.objects.get(user=user, organization=acme)
    history = membership.history.get()
    assert history.history_user is None and history.history_change_reason.startswith("SCIM provisioning (aims_scim_")


def test_the_configured_default_role_applies(scim, acme, alice):
    from aims.scim.services import scim_default_role_set

    scim_default_role_set(organization=acme, role=Role.AUDITOR, acting_user=alice)
    scim.post("Users", user_body("dora@acme.example"))
    assert role_of(User.objects.get(email="dora@acme.example"), acme) == Role.AUDITOR


def test_an_account_of_another_organisation_is_linked_never_altered(scim, acme, charlie, globex):
    response = scim.post("Users", user_body(charlie.email, name={"formatted": "Someone Else"}))
    assert response.status_code == 201
    charlie.refresh_from_db()
    assert charlie.full_name != "Someone Else"
    assert charlie.check_password("correct-horse-battery")
    assert role_of(charlie, acme) == Role.VIEWER and role_of(charlie, globex) == Role.ADMIN
    scim.patch(f"Users/{response.json()['id']}", {"op": "replace", "path": "name.formatted", "value": "Changed"})
    charlie.refresh_from_db()
    assert charlie.full_name != "Changed"


def test_an_existing_member_is_linked_with_their_role(scim, acme, olivia):
    response = scim.post("Users", user_body(olivia.email))
    assert response.status_code == 201
    assert role_of(olivia, acme) == Role.OFFICER
    assert response.json()["roles"][0]["value"] == Role.OFFICER


def test_create_refuses_bad_users(scim):
    scim_error(scim.post("Users", {"schemas": []}), 400, "invalidValue")
    scim_error(scim.post("Users", user_body("not an address")), 400, "invalidValue")
    scim_error(scim.post("Users", user_body("a@acme.example", active="maybe")), 400, "invalidValue")
    scim_error(scim.post("Users", user_body("a@acme.example", name="Ann")), 400, "invalidValue")
    scim_error(scim.post("Users", user_body("x" * 300 + "@acme.example")), 400, "invalidValue")
    scim_error(scim.post("Users", user_body("a@acme.example", emails="a@acme.example")), 400, "invalidValue")
    assert scim.post("Users", user_body("a@acme.example")).status_code == 201
    scim_error(scim.post("Users", user_body("A@ACME.example")), 409, "uniqueness")
    scim_error(scim.request("POST", "Users", raw='{"userName": '), 400, "invalidSyntax")
    scim_error(scim.request("POST", "Users", raw="[1, 2]"), 400, "invalidSyntax")
    scim_error(scim.request("POST", "Users", raw='{"userName": "nul\\u0000@acme.example"}'), 400, "invalidValue")
    assert ScimUser.objects.count() == 1


def test_entra_deactivation_keeps_the_identity_and_revokes_tokens(scim, acme):
    created = scim.post("Users", user_body("pete@acme.example", externalId="x-9")).json()
    pete = User.objects.get(email="pete@acme.example")
    Membership.objects.filter(user=pete).update(role=Role.OFFICER)
    token = ApiTokenFactory(organization=acme, created_by=pete, role=Role.OFFICER)
    # Entra ID capitalises the op and sends the boolean as a string.
    response = scim.patch(f"Users/{created['id']}", {"op": "Replace", "path": "active", "value": "False"})
    assert response.status_code == 200, response.content
    assert response.json()["active"] is False and response.json()["roles"] == []
    assert role_of(pete, acme) is None
    token.refresh_from_db()
    assert token.revoked_at is not None
    kept = ScimUser.objects.get()
    assert (str(kept.scim_id), kept.external_id, kept.user_name) == (created["id"], "x-9", "pete@acme.example")
    assert SecurityEvent.objects.filter(kind=Kind.MEMBER_DEACTIVATED, user=pete, organization=acme).exists()
    removal = Membership.history.filter(user_id=pete.pk, history_type="-").get()
    assert removal.history_user is None and removal.history_change_reason.startswith("SCIM provisioning")
    assert kept.history.first().active is False
    # Okta sends the attributes as the value of a path-less replace.
    response = scim.patch(f"Users/{created['id']}", {"op": "replace", "value": {"active": True}})
    assert response.json()["active"] is True
    assert role_of(pete, acme) == Role.VIEWER
    assert ApiToken.objects.active().filter(created_by=pete).count() == 0


def test_patch_changes_names_the_way_entra_and_okta_send_them(scim):
    created = scim.post("Users", user_body("rae@acme.example")).json()
    response = scim.patch(
        f"Users/{created['id']}",
        {"op": "Add", "path": "name.givenName", "value": "Rae"},
        {"op": "Replace", "path": "name.familyName", "value": "Lin"},
        {"op": "Replace", "path": "displayName", "value": "Rae L."},
        {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "R&D"},
        {"op": "Replace", "path": "title", "value": "Engineer"},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "other@acme.example"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == {"givenName": "Rae", "familyName": "Lin"} and body["displayName"] == "Rae L."
    # The account's address stays the person's own.
    assert body["emails"][0]["value"] == "rae@acme.example"
    assert User.objects.get(email="rae@acme.example").full_name == "Rae Lin"
    response = scim.patch(f"Users/{created['id']}", {"op": "remove", "path": "name.givenName"})
    assert response.json()["name"] == {"familyName": "Lin"}


def test_patch_refuses_what_it_cannot_apply(scim):
    user_id = scim.post("Users", user_body("sam@acme.example")).json()["id"]
    url = f"Users/{user_id}"
    scim_error(scim.patch(url, {"op": "replace", "path": "shoeSize", "value": 9}), 400, "invalidPath")
    scim_error(scim.patch(url, {"op": "replace", "path": "name.middle.x", "value": 9}), 400, "invalidPath")
    scim_error(scim.patch(url, {"op": "replace", "path": "name[", "value": 9}), 400, "invalidPath")
    scim_error(scim.patch(url, {"op": "replace", "path": "emails[type eq ]", "value": 9}), 400, "invalidPath")
    scim_error(scim.patch(url, {"op": "replace", "path": "id", "value": "x"}), 400, "mutability")
    scim_error(scim.patch(url, {"op": "remove", "path": "userName"}), 400, "mutability")
    scim_error(scim.patch(url, {"op": "remove"}), 400, "noTarget")
    scim_error(scim.patch(url, {"op": "move", "path": "active", "value": True}), 400, "invalidSyntax")
    scim_error(scim.patch(url, {"op": "replace", "path": "active", "value": "perhaps"}), 400, "invalidValue")
    scim_error(scim.patch(url, {"op": "replace", "value": "not an object"}), 400, "invalidValue")
    scim_error(scim.patch(url), 400, "invalidSyntax")
    scim_error(scim.request("PATCH", url, {"Operations": [{"op": "replace"}]}), 400, "invalidSyntax")
    scim_error(scim.request("PATCH", url, raw="{nope"), 400, "invalidSyntax")
    assert ScimUser.objects.get().active is True


def test_put_replaces_the_user(scim):
    user_id = scim.post("Users", user_body("tim@acme.example", externalId="t", displayName="Tim")).json()["id"]
    response = scim.put(f"Users/{user_id}", user_body("tim@acme.example", name={"givenName": "Timothy"}))
    assert response.status_code == 200
    body = response.json()
    assert "externalId" not in body and "displayName" not in body and body["name"] == {"givenName": "Timothy"}
    scim_error(scim.put(f"Users/{user_id}", {"name": {}}), 400, "invalidValue")


def test_delete_removes_access_and_forgets_the_identity(scim, acme):
    user_id = scim.post("Users", user_body("uma@acme.example")).json()["id"]
    assert scim.delete(f"Users/{user_id}").status_code == 204
    uma = User.objects.get(email="uma@acme.example")
    assert role_of(uma, acme) is None and not ScimUser.objects.exists()
    scim_error(scim.get(f"Users/{user_id}"), 404)
    assert scim.post("Users", user_body("uma@acme.example")).status_code == 201


def test_filters_and_pages(scim):
    for n in range(5):
        scim.post("Users", user_body(f"p{n}@acme.example", externalId=f"ext-{n}"))
    found = scim.get("Users", filter='userName eq "P3@ACME.example"').json()
    assert found["totalResults"] == 1 and found["Resources"][0]["userName"] == "p3@acme.example"
    assert scim.get("Users", filter='externalId eq "ext-1"').json()["totalResults"] == 1
    assert scim.get("Users", filter='externalId eq "EXT-1"').json()["totalResults"] == 0  # case-exact
    both = 'userName eq "p1@acme.example" or (externalId eq "ext-2" and active eq true)'
    assert scim.get("Users", filter=both).json()["totalResults"] == 2
    assert (
        scim.get("Users", filter='userName sw "p" and not (userName ew "4@acme.example")').json()["totalResults"] == 4
    )
    assert scim.get("Users", filter='id eq "not-a-uuid"').json()["totalResults"] == 0
    page = scim.get("Users", startIndex=2, count=2).json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (5, 2, 2)
    assert [r["userName"] for r in page["Resources"]] == ["p1@acme.example", "p2@acme.example"]
    assert scim.get("Users", startIndex=0, count=-1).json()["itemsPerPage"] == 0
    assert scim.get("Users", startIndex=5, count=10).json()["itemsPerPage"] == 1
    only = scim.get("Users", count=1, attributes="userName").json()["Resources"][0]
    assert set(only) == {"schemas", "id", "meta", "userName"}
    assert scim.get("Users", startIndex=10**30).json()["totalResults"] == 5
    assert scim.get("Users", filter='meta.created gt "2000-01-01T00:00:00Z"').json()["totalResults"] == 5
    assert scim.get("Users", filter="externalId pr and meta.created pr").json()["totalResults"] == 5
    assert scim.get("Users", filter='id ne "not-a-uuid"').json()["totalResults"] == 5
    scim_error(scim.get("Users", filter="meta.created gt 5"), 400, "invalidFilter")
    scim_error(scim.get("Users", filter='meta.created gt "yesterday"'), 400, "invalidFilter")
    scim_error(scim.get("Users", filter='active eq "yes"'), 400, "invalidFilter")
    scim_error(scim.get("Users", filter="active gt true"), 400, "invalidFilter")
    scim_error(scim.get("Users", filter="userName eq null"), 400, "invalidFilter")
    scim_error(scim.get("Users", filter='id gt "x"'), 400, "invalidFilter")
    scim_error(scim.get("Users", count="ten"), 400, "invalidValue")
    scim_error(scim.get("Users", filter="userName eq"), 400, "invalidFilter")
    scim_error(scim.get("Users", filter="userName eq unquoted"), 400, "invalidFilter")
    scim_error(scim.get("Users", filter='password eq "x"'), 400, "invalidFilter")
    scim_error(scim.get("Users", filter='userName zz "x"'), 400, "invalidFilter")
    scim_error(scim.get("Users", filter='(userName eq "x"'), 400, "invalidFilter")


def test_listing_users_costs_the_same_for_more_users(scim):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert scim.get("Users").status_code == 200
        return len(captured)

    scim.post("Users", user_body("q1@acme.example"))
    few = queries()
    for n in range(2, 6):
        scim.post("Users", user_body(f"q{n}@acme.example"))
    # The token, the count, the page of users and their groups.
    assert queries() == few <= 4


def test_authentication_is_the_organisations_scim_token_only(scim, acme, alice, client):
    for anonymous in (Scim(None), Scim("aims_scim_wrong"), Scim(ApiTokenFactory(organization=acme).raw_key)):
        scim_error(anonymous.get("Users"), 401)
        scim_error(anonymous.post("Users", user_body("x@acme.example")), 401)
    response = Scim(None).get("Users")
    assert response["WWW-Authenticate"].startswith("Bearer")
    client.force_login(alice)  # a session is no SCIM credential
    scim_error(client.get("/scim/v2/Users"), 401)
    scim_error(client.get("/scim/v2/Users", headers={"authorization": "Basic YWxpY2U6cHc="}), 401)
    assert scim.get("Users").status_code == 200
    scim_token_revoke(organization=acme, acting_user=alice)
    scim_error(scim.get("Users"), 401)
    assert not ScimUser.objects.exists()


def test_a_rotated_token_stops_working(scim, scim_for, acme, alice):
    fresh = scim_for(acme, alice)
    scim_error(scim.get("Users"), 401)
    assert fresh.get("Users").status_code == 200


def test_another_organisations_token_finds_nothing(scim, scim_for, globex, charlie, acme):
    user_id = scim.post("Users", user_body("vera@acme.example")).json()["id"]
    group_id = scim.post("Groups", group_body("Staff", [user_id])).json()["id"]
    other = scim_for(globex, charlie)
    for path in (f"Users/{user_id}", f"Groups/{group_id}"):
        scim_error(other.get(path), 404)
        scim_error(other.put(path, user_body("vera@acme.example") | group_body("Staff")), 404)
        scim_error(other.patch(path, {"op": "replace", "path": "active", "value": False}), 404)
        scim_error(other.delete(path), 404)
    assert other.get("Users").json()["totalResults"] == 0
    assert other.get("Groups", filter='displayName eq "Staff"').json()["totalResults"] == 0
    scim_error(other.post("Groups", group_body("Theirs", [user_id])), 400, "invalidValue")
    vera = User.objects.get(email="vera@acme.example")
    assert role_of(vera, acme) == Role.VIEWER and ScimUser.objects.get().active


def test_unknown_paths_and_methods_answer_in_scim(scim):
    scim_error(scim.get("Nothing"), 404)
    scim_error(scim.get(""), 404)
    scim_error(scim.get("Users/not-a-uuid"), 404)
    scim_error(scim.get("Groups/00000000-0000-0000-0000-000000000000"), 404)
    scim_error(scim.delete("Users"), 405)
    scim_error(scim.post("ServiceProviderConfig", {}), 405)


def test_groups_map_their_members_to_roles(scim, acme):
    IdpGroupRole.objects.create(organization=acme, group="AIMS Officers", role=Role.OFFICER)
    IdpGroupRole.objects.create(organization=acme, group="AIMS Auditors", role=Role.AUDITOR)
    ada = scim.post("Users", user_body("ada@acme.example")).json()["id"]
    ben = scim.post("Users", user_body("ben@acme.example")).json()["id"]
    person = {email: User.objects.get(email=email) for email in ("ada@acme.example", "ben@acme.example")}
    officers = scim.post("Groups", group_body("aims officers", [ada]))
    assert officers.status_code == 201, officers.content
    officers = officers.json()
    assert officers["members"][0]["value"] == ada
    assert role_of(person["ada@acme.example"], acme) == Role.OFFICER
    auditors = scim.post("Groups", group_body("AIMS Auditors")).json()
    # Entra ID's shape: add with a list of values.
    scim.patch(f"Groups/{auditors['id']}", {"op": "Add", "path": "members", "value": [{"value": ada}, {"value": ben}]})
    assert role_of(person["ada@acme.example"], acme) == Role.OFFICER  # the highest of her groups
    assert role_of(person["ben@acme.example"], acme) == Role.AUDITOR
    # Okta's shape: remove by a value filter.
    response = scim.patch(f"Groups/{officers['id']}", {"op": "remove", "path": f'members[value eq "{ada}"]'})
    assert response.status_code == 200 and response.json()["members"] == []
    assert role_of(person["ada@acme.example"], acme) == Role.AUDITOR
    # Renaming a group changes what its name maps to.
    scim.patch(f"Groups/{auditors['id']}", {"op": "replace", "path": "displayName", "value": "Everyone"})
    assert role_of(person["ben@acme.example"], acme) == Role.VIEWER
    # Okta's shape: a path-less replace that restates the id.
    renamed = {"id": auditors["id"], "displayName": "AIMS Officers 2"}
    assert scim.patch(f"Groups/{auditors['id']}", {"op": "replace", "value": renamed}).status_code == 200
    assert scim.get(f"Groups/{auditors['id']}").json()["displayName"] == "AIMS Officers 2"
    put = scim.put(f"Groups/{officers['id']}", group_body("AIMS Officers", [ben]))
    assert put.status_code == 200 and [m["value"] for m in put.json()["members"]] == [ben]
    assert role_of(person["ben@acme.example"], acme) == Role.OFFICER
    scim.patch(f"Groups/{officers['id']}", {"op": "remove", "path": "members", "value": [{"value": ben}]})
    assert role_of(person["ben@acme.example"], acme) == Role.VIEWER
    scim.patch(f"Groups/{officers['id']}", {"op": "replace", "path": "members", "value": [{"value": ben}]})
    assert role_of(person["ben@acme.example"], acme) == Role.OFFICER
    assert scim.delete(f"Groups/{officers['id']}").status_code == 204
    assert role_of(person["ben@acme.example"], acme) == Role.VIEWER
    changes = SecurityEvent.objects.filter(kind=Kind.MEMBER_ROLE_CHANGED, user=person["ben@acme.example"])
    assert changes.count() == 6  # auditor, viewer (renamed), officer, viewer, officer, viewer
    assert changes.first().details["role"] == Role.VIEWER and changes.first().details["via"] == "scim"


def test_groups_list_filter_and_refusals(scim):
    member = scim.post("Users", user_body("gil@acme.example")).json()["id"]
    for name in ("Alpha", "Beta", "Gamma"):
        scim.post("Groups", group_body(name, [member]))
    found = scim.get("Groups", filter='displayName eq "beta"', excludedAttributes="members").json()
    assert found["totalResults"] == 1 and "members" not in found["Resources"][0]
    assert scim.get("Groups", filter=f'members eq "{member}"').json()["totalResults"] == 3
    assert scim.get("Groups", count=2).json()["itemsPerPage"] == 2
    gid = scim.get("Groups", filter='displayName eq "Alpha"').json()["Resources"][0]["id"]
    scim_error(scim.post("Groups", group_body("ALPHA")), 409, "uniqueness")
    scim_error(scim.post("Groups", {"members": []}), 400, "invalidValue")
    scim_error(scim.post("Groups", group_body("Delta", ["not-a-uuid"])), 400, "invalidValue")
    scim_error(scim.post("Groups", {"displayName": "Delta", "members": "everyone"}), 400, "invalidValue")
    scim_error(scim.patch(f"Groups/{gid}", {"op": "replace", "path": "owner", "value": "x"}), 400, "invalidPath")
    scim_error(scim.patch(f"Groups/{gid}", {"op": "add", "path": 'members[value eq "x"]'}), 400, "invalidPath")
    scim_error(scim.patch(f"Groups/{gid}", {"op": "remove", "path": "displayName"}), 400, "mutability")
    scim_error(scim.patch(f"Groups/{gid}", {"op": "replace", "path": "displayName", "value": "Beta"}), 409)
    assert scim.patch(f"Groups/{gid}", {"op": "remove", "path": "members"}).json()["members"] == []
    assert ScimGroup.objects.count() == 3


def test_the_last_administrator_is_never_removed_or_demoted(scim, acme, alice):
    IdpGroupRole.objects.create(organization=acme, group="Admins", role=Role.ADMIN)
    alice_id = scim.post("Users", user_body(alice.email)).json()["id"]
    assert role_of(alice, acme) == Role.ADMIN
    body = scim_error(scim.patch(f"Users/{alice_id}", {"op": "replace", "path": "active", "value": False}), 400)
    assert body["scimType"] == "mutability" and "is the last administrator" in body["detail"]
    assert alice.email in body["detail"]
    scim_error(scim.delete(f"Users/{alice_id}"), 400, "mutability")
    admins = scim.post("Groups", group_body("Admins", [alice_id])).json()
    scim_error(scim.patch(f"Groups/{admins['id']}", {"op": "remove", "path": "members"}), 400, "mutability")
    scim_error(scim.delete(f"Groups/{admins['id']}"), 400, "mutability")
    assert role_of(alice, acme) == Role.ADMIN and ScimUser.objects.get().active
    assert scim.get(f"Groups/{admins['id']}").json()["members"][0]["value"] == alice_id
    # With a second administrator, the first may go.
    MembershipFactory(organization=acme, role=Role.ADMIN, user=UserFactory())
    assert scim.patch(f"Users/{alice_id}", {"op": "replace", "path": "active", "value": False}).status_code == 200
    assert role_of(alice, acme) is None


def test_the_scim_service_is_not_in_the_openapi_schema(login, alice):
    schema = login(alice).get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 200
    assert not [path for path in schema.json()["paths"] if "scim" in path.lower()]


def test_an_existing_member_created_inactive_loses_access(scim, acme, olivia):
    response = scim.post("Users", user_body(olivia.email, active=False))
    assert response.status_code == 201 and response.json()["active"] is False
    assert role_of(olivia, acme) is None


JUNK = [
    None,
    0,
    1.5,
    True,
    "text",
    [],
    [None],
    {"userName": None},
    {"userName": ["a"]},
    {"displayName": {}},
    {"emails": [{"value": 3}]},
    {"emails": [1]},
    {"name": {"givenName": 7}},
    {"members": [{"value": None}]},
    {"members": [{"id": "x"}]},
    {"Operations": None, "schemas": "x"},
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": None}]},
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "value": None}]},
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": "x"}],
    },
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "name", "value": [1]}],
    },
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "emails", "value": [{"value": "bad"}]}],
    },
]


def test_no_malformed_body_gets_a_500(scim):
    user_id = scim.post("Users", user_body("fuzz@acme.example")).json()["id"]
    group_id = scim.post("Groups", group_body("Fuzz", [user_id])).json()["id"]
    for method, path in (
        ("POST", "Users"),
        ("POST", "Groups"),
        ("PUT", f"Users/{user_id}"),
        ("PUT", f"Groups/{group_id}"),
        ("PATCH", f"Users/{user_id}"),
        ("PATCH", f"Groups/{group_id}"),
    ):
        for body in JUNK:
            response = scim.request(method, path, body)
            assert 400 <= response.status_code < 500, (method, path, body, response.content)
            assert response["Content-Type"] == SCIM, (method, path, body)
    assert ScimUser.objects.get().active
