"""A member of one organisation gets 404 for every object of another, on pages and API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aims.models import Membership
from aims.roles import Role
from tests.aims.factories import ApiTokenFactory, InvitationFactory


@pytest.fixture
def globex_objects(globex, charlie):
    return {
        "membership": Membership.objects.get(organization=globex, user=charlie),
        "invitation": InvitationFactory(organization=globex),
        "token": ApiTokenFactory(organization=globex, created_by=charlie),
    }


PAGE_WRITES = [
    ("member_role", "membership", {"role": Role.VIEWER}),
    ("member_remove", "membership", {}),
    ("invitation_revoke", "invitation", {}),
    ("api_token_revoke", "token", {}),
]


@pytest.mark.parametrize(("url_name", "kind", "data"), PAGE_WRITES)
def test_pages_answer_404_for_another_organisations_objects(login, alice, globex_objects, url_name, kind, data):
    obj = globex_objects[kind]
    response = login(alice).post(reverse(url_name, args=[obj.pk]), data)
    assert response.status_code == 404
    obj.refresh_from_db()
    assert getattr(obj, "revoked_at", None) is None
    assert Membership.objects.filter(pk=globex_objects["membership"].pk, role=Role.ADMIN).exists()


def test_lists_show_only_the_current_organisation(login, alice, victor, charlie, globex_objects):
    page = login(alice).get(reverse("members")).content.decode()
    assert "victor@acme.example" in page
    assert "charlie@globex.example" not in page
    assert globex_objects["invitation"].email not in page
    tokens = login(alice).get(reverse("api_tokens")).content.decode()
    assert globex_objects["token"].name not in tokens


def test_switching_to_an_organisation_you_do_not_belong_to_is_404(login, alice, globex):
    response = login(alice).post(reverse("organization_switch"), {"organization": globex.pk})
    assert response.status_code == 404
    assert login(alice).get(reverse("dashboard")).context["tenant"].organization.slug == "acme"


def test_member_of_two_organisations_switches_and_sees_each(login, alice, globex, charlie):
    Membership.objects.create(organization=globex, user=alice, role=Role.VIEWER)
    client = login(alice)
    assert client.get(reverse("dashboard")).context["tenant"].organization.slug == "acme"
    response = client.post(
        reverse("organization_switch"), {"organization": globex.pk, "next": "/organisation/members/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/organisation/members/"
    page = client.get(reverse("members"))
    assert page.context["tenant"].organization == globex
    assert page.context["tenant"].role == Role.VIEWER
    assert "charlie@globex.example" in page.content.decode()


def test_switch_ignores_an_offsite_next(login, alice):
    acme_id = alice.memberships.get().organization_id
    response = login(alice).post(
        reverse("organization_switch"), {"organization": acme_id, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("dashboard")


API_DETAIL = [
    ("member-detail", "membership", "get"),
    ("member-detail", "membership", "patch"),
    ("member-detail", "membership", "delete"),
    ("invitation-detail", "invitation", "get"),
    ("invitation-detail", "invitation", "delete"),
]


@pytest.mark.parametrize(("route", "kind", "method"), API_DETAIL)
def test_api_answers_404_for_another_organisations_objects(api_for, acme, globex_objects, route, kind, method):
    api = api_for(acme, role=Role.ADMIN)
    obj = globex_objects[kind]
    response = getattr(api, method)(reverse(route, args=[obj.pk]), {"role": Role.VIEWER}, format="json")
    assert response.status_code == 404, response.content
    assert set(response.json()) == {"detail"}
    assert type(obj).objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("route", ["member-list", "invitation-list"])
def test_api_lists_hold_only_the_callers_organisation(api_for, acme, alice, globex_objects, route):
    InvitationFactory(organization=acme, email="acme-invitee@example.com")
    body = api_for(acme, role=Role.ADMIN, created_by=alice).get(reverse(route)).json()
    assert body["count"] == 1
    other = globex_objects["membership" if route == "member-list" else "invitation"]
    assert other.pk not in {row["id"] for row in body["results"]}


def test_session_api_uses_the_organisation_chosen_in_the_portal(client, alice, globex, charlie):
    Membership.objects.create(organization=globex, user=alice, role=Role.OFFICER)
    client.force_login(alice)
    assert client.get(reverse("api-me")).json()["organization"]["slug"] == "acme"
    client.post(reverse("organization_switch"), {"organization": globex.pk})
    me = client.get(reverse("api-me")).json()
    assert me["organization"]["slug"] == "globex"
    assert me["role"] == Role.OFFICER
    emails = {m["user"]["email"] for m in client.get(reverse("member-list")).json()["results"]}
    assert emails == {"alice@acme.example", "charlie@globex.example"}


def test_user_without_organisation_is_sent_to_create_one(client, db):
    from tests.aims.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"] == reverse("no_organization")
    api = client.get(reverse("member-list"))
    assert api.status_code == 403


def test_one_query_finds_the_organisation_and_lists_the_others_in_the_switcher(login, alice, globex):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from aims.tenancy import SESSION_KEY

    Membership.objects.create(organization=globex, user=alice, role=Role.VIEWER)
    client = login(alice)
    session = client.session
    session[SESSION_KEY] = globex.pk
    session.save()
    client.get(reverse("audits:ca_list"))  # session bookkeeping of the first request
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("audits:ca_list"))
        assert page.status_code == 200
    tenant_queries = [q["sql"] for q in captured.captured_queries if 'FROM "aims_membership"' in q["sql"]]
    assert len(tenant_queries) == 1, tenant_queries
    html = page.content.decode()
    assert page.context["tenant"].organization == globex
    assert page.context["tenant"].role == Role.VIEWER
    assert [m.organization.name for m in page.context["my_memberships"]] == ["Acme Health AI", "Globex Analytics"]
    assert f'<option value="{globex.pk}" selected>Globex Analytics</option>' in html
    assert f'<option value="{alice.memberships.get(organization__slug="acme").organization_id}" >Acme Health AI' in html
