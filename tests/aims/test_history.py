"""Changes to tenant data are recorded (who, when, what) and shown, per organisation."""

from __future__ import annotations

from django.urls import reverse

from aims import services
from aims.history import object_history, organization_activity, tracked_models
from aims.models import Invitation, Membership
from aims.roles import Role


def test_every_tenant_model_is_tracked():
    labels = {m._meta.label for m in tracked_models()}
    assert {"aims.Organization", "aims.Membership", "aims.Invitation", "aims.ApiToken"} <= labels
    for model in tracked_models():
        assert hasattr(model, "history"), model


def test_role_change_is_recorded_with_who_and_what(login, alice, victor):
    membership = Membership.objects.get(user=victor)
    login(alice).post(reverse("member_role", args=[membership.pk]), {"role": Role.OWNER})
    latest = object_history(membership)[0]
    assert latest.action == "changed"
    assert latest.who == alice
    assert [(c.field, c.old, c.new) for c in latest.changes] == [("Role", "Viewer", "AI system owner")]


def test_api_changes_are_recorded_under_the_tokens_creator(api_for, acme, alice, victor):
    api = api_for(acme, role=Role.ADMIN, created_by=alice)
    membership = Membership.objects.get(user=victor)
    api.patch(reverse("member-detail", args=[membership.pk]), {"role": Role.AUDITOR})
    assert membership.history.latest().history_user == alice


def test_activity_page_shows_this_organisation_only_in_fixed_queries(
    login, alice, acme, charlie, globex, django_assert_max_num_queries
):
    services.organization_update(organization=globex, name="Globex Secret Project", acting_user=charlie)
    for n in range(5):
        services.member_add(organization=acme, email=f"p{n}@example.com", role=Role.VIEWER, acting_user=alice)
    services.api_token_create(organization=acme, name="CI", role=Role.VIEWER, expires_in_days=10, acting_user=alice)
    client = login(alice)
    with django_assert_max_num_queries(25):
        page = client.get(reverse("activity"))
    html = page.content.decode()
    assert "p4@example.com" in html and "CI" in html
    assert "Globex" not in html
    entries = page.context["entries"]
    assert {e.model for e in entries} >= {"Invitation", "API token", "Membership"}
    # The number of queries does not grow with the number of changes.
    for n in range(5, 25):
        services.member_add(organization=acme, email=f"p{n}@example.com", role=Role.VIEWER, acting_user=alice)
    with django_assert_max_num_queries(25):
        client.get(reverse("activity"))


def test_activity_is_paginated(alice, acme):
    for n in range(60):
        services.member_add(organization=acme, email=f"q{n}@example.com", role=Role.VIEWER, acting_user=alice)
    first = organization_activity(acme, page=1)
    second = organization_activity(acme, page=2)
    assert len(first.object_list) == 50 and first.has_next()
    assert first.object_list[0].when >= second.object_list[0].when
    assert Invitation.history.filter(organization=acme).count() == 60


def test_removal_is_recorded_with_who(login, alice, victor, acme):
    membership = Membership.objects.get(user=victor)
    login(alice).post(reverse("member_remove", args=[membership.pk]))
    record = Membership.history.filter(id=membership.pk).latest()
    assert record.history_type == "-" and record.history_user == alice
    entries = organization_activity(acme).object_list
    assert entries[0].action == "deleted" and entries[0].model == "Membership"
