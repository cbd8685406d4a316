"""Changes to tenant data are recorded (who, when, what) and shown, per organisation."""

from __future__ import annotations

from urllib.parse import quote

from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

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
    assert all(f"<strong>{model}</strong>" in html for model in ("Invitation", "API token", "Membership"))
    # The number of queries does not grow with the number of changes.
    for n in range(5, 25):
        services.member_add(organization=acme, email=f"p{n}@example.com", role=Role.VIEWER, acting_user=alice)
    with django_assert_max_num_queries(25):
        client.get(reverse("activity"))


def test_activity_pages_by_keyset_older_then_newer(alice, acme):
    for n in range(60):
        services.member_add(organization=acme, email=f"q{n}@example.com", role=Role.VIEWER, acting_user=alice)
    total = sum(model.history.filter(**_scope(model, acme)).count() for model in tracked_models())
    first = organization_activity(acme, per_page=25)
    assert len(first.entries) == 25 and first.newer is None and first.older is not None
    seen, page = list(first.entries), first
    while page.older is not None:
        page = organization_activity(acme, older_than=str(page.older), per_page=25)
        assert page.newer is not None
        seen.extend(page.entries)
    # Every row once, newest first, across the tables, and nothing after the last page.
    assert len(seen) == total
    assert [e.when for e in seen] == sorted((e.when for e in seen), reverse=True)
    back = organization_activity(acme, newer_than=str(page.newer), per_page=25)
    assert [e.when for e in back.entries] == [e.when for e in seen[-len(page.entries) - 25 : -len(page.entries)]]
    assert back.older is not None
    assert Invitation.history.filter(organization=acme).count() == 60


def test_activity_rows_written_in_the_same_instant_are_neither_lost_nor_repeated(alice, acme):
    services.member_add(organization=acme, email="same@example.com", role=Role.VIEWER, acting_user=alice)
    instant = timezone.now()
    for model in tracked_models():
        model.history.filter(**_scope(model, acme)).update(history_date=instant)
    total = sum(model.history.filter(**_scope(model, acme)).count() for model in tracked_models())
    assert total > 2
    seen, page = [], organization_activity(acme, per_page=1)
    seen.extend(page.entries)
    while page.older is not None:
        page = organization_activity(acme, older_than=str(page.older), per_page=1)
        seen.extend(page.entries)
    assert len(seen) == total
    assert len({(e.model, e.label, e.action) for e in seen}) == total


def test_a_malformed_activity_cursor_shows_the_newest_page(login, alice, acme):
    client = login(alice)
    for cursor in ("nonsense", "2026-01-01T00:00:00_x_1", "2026-01-01T00:00:00_1_1", "9" * 30):
        response = client.get(reverse("activity"), {"older": cursor})
        assert response.status_code == 200
        assert response.context["activity_newer"] == ""


def test_activity_page_links_to_older_and_back(login, alice, acme):
    for n in range(60):
        services.member_add(organization=acme, email=f"r{n}@example.com", role=Role.VIEWER, acting_user=alice)
    client = login(alice)
    first = client.get(reverse("activity"))
    older = first.context["activity_older"]
    assert older == str(organization_activity(acme).older)
    assert f"?older={quote(older)}" in first.content.decode().replace("&amp;", "&")
    second = client.get(reverse("activity"), {"older": older})
    assert second.status_code == 200
    assert "r59@example.com" in first.content.decode() and "r59@example.com" not in second.content.decode()
    assert "?newer=" in second.content.decode()


def _scope(model, organization):
    return {"id": organization.pk} if model._meta.label == "aims.Organization" else {"organization": organization}


def test_removal_is_recorded_with_who(login, alice, victor, acme):
    membership = Membership.objects.get(user=victor)
    login(alice).post(reverse("member_remove", args=[membership.pk]))
    record = Membership.history.filter(id=membership.pk).latest()
    assert record.history_type == "-" and record.history_user == alice
    entries = organization_activity(acme).entries
    assert entries[0].action == "deleted" and entries[0].model == "Membership"


def test_activity_page_costs_the_same_queries_at_two_sizes(login, alice, acme):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def grow(start, count):
        for n in range(start, start + count):
            services.member_add(organization=acme, email=f"s{n}@example.com", role=Role.VIEWER, acting_user=alice)
            services.api_token_create(
                organization=acme, name=f"CI {n}", role=Role.VIEWER, expires_in_days=10, acting_user=alice
            )

    client = login(alice)
    grow(0, 60)  # more than two pages of the same two kinds of change as below
    client.get(reverse("activity"))
    cache.clear()  # the feed is cached: measure what it costs to read
    with CaptureQueriesContext(connection) as small:
        first = client.get(reverse("activity"))
    cache.clear()
    with CaptureQueriesContext(connection) as small_older:
        client.get(reverse("activity"), {"older": first.context["activity_older"]})
    grow(60, 150)
    cache.clear()
    with CaptureQueriesContext(connection) as large:
        first = client.get(reverse("activity"))
    cache.clear()
    with CaptureQueriesContext(connection) as large_older:
        client.get(reverse("activity"), {"older": first.context["activity_older"]})
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(large_older.captured_queries) == len(small_older.captured_queries)
    # No exact count of the history any more.
    assert not any("COUNT(" in q["sql"].upper() for q in large.captured_queries if "history" in q["sql"])


def test_activity_feed_is_read_once_until_the_next_change_commits(
    login, alice, acme, charlie, globex, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    client = login(alice)
    with CaptureQueriesContext(connection) as cold:
        client.get(reverse("activity"))
    with CaptureQueriesContext(connection) as warm:
        cached = client.get(reverse("activity"))
    assert len(warm.captured_queries) < len(cold.captured_queries)
    assert not any("history" in q["sql"] for q in warm.captured_queries)
    assert "feed@example.com" not in cached.content.decode()
    # Another organisation's change leaves this feed cached; this one's makes it stale once committed.
    with django_capture_on_commit_callbacks(execute=True):
        services.organization_update(organization=globex, name="Globex Renamed", acting_user=charlie)
    with CaptureQueriesContext(connection) as after_other:
        client.get(reverse("activity"))
    assert len(after_other.captured_queries) == len(warm.captured_queries)
    with django_capture_on_commit_callbacks(execute=True):
        services.member_add(organization=acme, email="feed@example.com", role=Role.VIEWER, acting_user=alice)
    fresh = client.get(reverse("activity"))
    assert "feed@example.com" in fresh.content.decode()
    assert "Globex" not in fresh.content.decode()
    # The organisation's own record is scoped by its id.
    with django_capture_on_commit_callbacks(execute=True):
        services.organization_update(organization=acme, name="Acme Renamed", acting_user=alice)
    assert "Acme Renamed" in client.get(reverse("activity")).content.decode()
