"""Nobody joins without consenting, the answer never tells whether an account exists, the last
administrator stays, and leaving is confirmed."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from aims import services
from aims.models import Invitation, Membership, SecurityEvent
from aims.roles import Role
from tests.aims.factories import MembershipFactory, UserFactory

Kind = SecurityEvent.Kind


def _shape(body):
    """The response with the values that differ by address taken out."""
    invitation = dict(body["invitation"])
    for key in ("id", "email", "created_at", "expires_at", "sent_at"):
        invitation.pop(key)
    return {**body, "invitation": invitation}


def test_the_api_answers_the_same_for_an_existing_account_and_a_new_address(api_for, acme, alice, charlie):
    api = api_for(acme, role=Role.ADMIN, created_by=alice)
    existing = api.post(reverse("member-list"), {"email": "charlie@globex.example", "role": Role.ADMIN})
    unknown = api.post(reverse("member-list"), {"email": "nobody@example.com", "role": Role.ADMIN})
    assert existing.status_code == unknown.status_code == 201
    assert _shape(existing.json()) == _shape(unknown.json())
    assert existing.json()["result"] == "invited"
    assert set(existing.json()) == {"result", "invitation"}
    # charlie is not an Acme member until he accepts.
    assert not Membership.objects.filter(organization=acme, user=charlie).exists()
    # Asking twice is refused the same way for both: it speaks of this organisation's invitations only.
    again_existing = api.post(reverse("member-list"), {"email": "charlie@globex.example", "role": Role.ADMIN})
    again_unknown = api.post(reverse("member-list"), {"email": "nobody@example.com", "role": Role.ADMIN})
    assert again_existing.status_code == again_unknown.status_code == 400
    assert again_existing.json()["errors"]["email"][0].replace("charlie@globex.example", "X") == again_unknown.json()[
        "errors"
    ]["email"][0].replace("nobody@example.com", "X")


def test_the_page_answers_the_same_for_an_existing_account_and_a_new_address(login, alice, charlie):
    client = login(alice)
    one = client.post(reverse("members"), {"email": "charlie@globex.example", "role": Role.VIEWER}, follow=True)
    two = client.post(reverse("members"), {"email": "nobody@example.com", "role": Role.VIEWER}, follow=True)
    first = [str(m) for m in one.context["messages"]]
    second = [str(m) for m in two.context["messages"]]
    assert [m.replace("charlie@globex.example", "X") for m in first] == [
        m.replace("nobody@example.com", "X") for m in second
    ]


def test_invitations_and_joining_are_in_the_security_log(acme, alice, charlie):
    invitation = services.member_add(
        organization=acme, email="charlie@globex.example", role=Role.AUDITOR, acting_user=alice
    )
    services.invitation_accept(invitation=invitation, user=charlie)
    invited = SecurityEvent.objects.get(kind=Kind.MEMBER_INVITED)
    assert (invited.organization, invited.actor, invited.email) == (acme, alice, "charlie@globex.example")
    joined = SecurityEvent.objects.get(kind=Kind.MEMBER_JOINED)
    assert (joined.organization, joined.user, joined.details["role"]) == (acme, charlie, Role.AUDITOR)


def test_the_last_admin_can_be_neither_demoted_nor_removed(api_for, acme, alice, victor):
    alice_m = Membership.objects.get(user=alice)
    with pytest.raises(ValidationError, match="last administrator"):
        services.membership_change_role(membership=alice_m, role=Role.OFFICER, acting_user=alice)
    with pytest.raises(ValidationError, match="last administrator"):
        services.membership_remove(membership=alice_m, acting_user=alice)
    api = api_for(acme, role=Role.ADMIN, created_by=alice)
    refused = api.delete(reverse("member-detail", args=[alice_m.pk]) + "?confirm=true")
    assert refused.status_code == 400 and "last administrator" in refused.json()["errors"]["membership"][0]
    assert Membership.objects.filter(pk=alice_m.pk, role=Role.ADMIN).exists()
    # With a second administrator, the change is allowed and logged.
    victor_m = Membership.objects.get(user=victor)
    services.membership_change_role(membership=victor_m, role=Role.ADMIN, acting_user=alice)
    services.membership_change_role(membership=alice_m, role=Role.OFFICER, acting_user=alice)
    changed = SecurityEvent.objects.filter(kind=Kind.MEMBER_ROLE_CHANGED, user=alice).get()
    assert changed.details == {"previous_role": Role.ADMIN, "role": Role.OFFICER}


def test_an_admin_token_cannot_remove_its_own_membership_without_confirming(api_for, acme, alice, olivia):
    MembershipFactory(organization=acme, role=Role.ADMIN)  # alice is not the last admin
    api = api_for(acme, role=Role.ADMIN, created_by=alice)
    own = reverse("member-detail", args=[Membership.objects.get(user=alice).pk])
    refused = api.delete(own)
    assert refused.status_code == 400 and "confirm=true" in refused.json()["errors"]["confirm"][0]
    assert Membership.objects.filter(user=alice, organization=acme).exists()
    assert api.delete(own + "?confirm=true").status_code == 204
    assert api.get(reverse("api-me")).status_code == 401  # its tokens went with it
    removed = SecurityEvent.objects.get(kind=Kind.MEMBER_REMOVED)
    assert (removed.user, removed.actor, removed.details["left"]) == (alice, alice, True)
    assert SecurityEvent.objects.filter(kind=Kind.TOKEN_REVOKED, user=alice).exists()


def test_leaving_on_the_page_asks_for_confirmation(login, acme, alice, olivia):
    services.membership_change_role(membership=Membership.objects.get(user=olivia), role=Role.ADMIN, acting_user=alice)
    client = login(alice)
    own = Membership.objects.get(user=alice)
    first = client.post(reverse("member_remove", args=[own.pk]))
    assert first.status_code == 200 and "Leave Acme Health AI?" in first.content.decode()
    assert Membership.objects.filter(pk=own.pk).exists()
    confirmed = client.post(reverse("member_remove", args=[own.pk]), {"confirm": "yes"})
    assert confirmed.status_code == 302 and confirmed["Location"] == reverse("dashboard")
    assert not Membership.objects.filter(pk=own.pk).exists()


def test_the_last_admin_cannot_leave_on_the_page(login, acme, alice):
    own = Membership.objects.get(user=alice)
    response = login(alice).post(reverse("member_remove", args=[own.pk]), {"confirm": "yes"}, follow=True)
    assert "is the last administrator of Acme Health AI" in response.content.decode()
    assert Membership.objects.filter(pk=own.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(catalogue):
    """Each demotion runs in its own connection; the row lock makes the second see the first."""
    from tests.aims.factories import OrganizationFactory

    org = OrganizationFactory()
    first = MembershipFactory(organization=org, role=Role.ADMIN, user=UserFactory())
    second = MembershipFactory(organization=org, role=Role.ADMIN, user=UserFactory())
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def demote(membership):
        try:
            barrier.wait(timeout=10)
            services.membership_change_role(membership=membership, role=Role.VIEWER, acting_user=membership.user)
        except ValidationError as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=demote, args=(m,)) for m in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(errors) == 1
    assert Membership.objects.for_org(org).admins().count() == 1
    assert not Invitation.objects.exists()


def test_a_removal_without_an_acting_person_is_logged_too(acme, alice, victor):
    """An identity provider (SCIM) removes members with no person acting."""
    services.membership_remove(membership=Membership.objects.get(user=victor), acting_user=None)
    removed = SecurityEvent.objects.get(kind=Kind.MEMBER_REMOVED)
    assert (removed.user, removed.actor) == (victor, None) and "left" not in removed.details
