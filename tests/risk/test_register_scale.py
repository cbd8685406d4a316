"""The risk register at scale: keyset pages, flat query counts, cached summaries, reference counters."""

from __future__ import annotations

import importlib
import threading
import time
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aims.roles import Role
from risk import selectors, services
from risk.filters import RiskFilter
from risk.models import ReferenceCounter, Risk, TreatmentAction
from risk.pagination import InvalidCursor, keyset_page
from tests.registry.factories import AISystemFactory
from tests.risk.factories import RiskFactory, TreatmentActionFactory

ORDERINGS = ["", "ref_code", "-ref_code", "title", "-title", "next_review_date", "-next_review_date", "updated_at",
             "-updated_at"]  # fmt: skip


def bulk_risks(organization, owner, count, *, start=0):
    """``count`` risks with one treatment each, written in bulk as a large register would be loaded.

    Titles repeat and one in four has no review date, so that keys tie and NULLs sort.
    """
    risks = Risk.objects.bulk_create(
        Risk(
            organization=organization,
            ref_code=f"BLK-{start + n:05d}",
            title=f"Bulk risk {n % 7}",
            owner=owner,
            system=None,
            inherent_likelihood=1 + n % 5,
            inherent_impact=1 + n % 3,
            inherent_level="low",
            status=Risk.Status.ASSESSED,
            next_review_date=None if n % 4 == 0 else date(2027, 1, 1) + timedelta(days=n % 9),
        )
        for n in range(count)
    )
    TreatmentAction.objects.bulk_create(
        TreatmentAction(organization=organization, risk=risk, title="Monitor", owner=owner) for risk in risks
    )
    return risks


def ordered(organization, ordering):
    return RiskFilter({"ordering": ordering} if ordering else {}, queryset=selectors.risk_register(organization)).qs


# --- Keyset pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_keyset_pages_walk_the_register_in_order_both_ways(acme, olivia, ordering):
    bulk_risks(acme, olivia, 23)
    risks = ordered(acme, ordering)
    expected = list(risks.values_list("pk", flat=True))  # OFFSET order: what numbered pages show
    seen, cursor = [], None
    while True:
        page = keyset_page(risks, cursor=cursor, size=5)
        seen.extend(r.pk for r in page.object_list)
        if not page.has_next():
            break
        cursor = page.next_cursor
    assert seen == expected

    # Backwards from the last page (its cursor is cheap: the ordering read backwards).
    first = keyset_page(risks, cursor=None, size=5)
    page = keyset_page(risks, cursor=first.last_cursor, size=5)
    assert [r.pk for r in page.object_list] == expected[-5:] and not page.has_next()
    back = [r.pk for r in page.object_list]
    while page.has_previous():
        page = keyset_page(risks, cursor=page.previous_cursor, size=5)
        back = [r.pk for r in page.object_list] + back
    assert back == expected
    assert first.previous_cursor is None and first.has_next()


def test_a_cursor_of_another_ordering_or_a_damaged_one_is_refused(acme, olivia):
    bulk_risks(acme, olivia, 12)
    by_title = keyset_page(ordered(acme, "title"), cursor=None, size=5)
    with pytest.raises(InvalidCursor):
        keyset_page(ordered(acme, "-title"), cursor=by_title.next_cursor, size=5)
    for damaged in ["%%%", "bm90IGpzb24", "WyJ4IiwiYSIsbnVsbF0", by_title.next_cursor[:-3]]:
        with pytest.raises(InvalidCursor):
            keyset_page(ordered(acme, "title"), cursor=damaged, size=5)


def test_a_deep_keyset_page_seeks_through_the_ordering_index(acme, olivia):
    bulk_risks(acme, olivia, 30)
    for ordering in ("title", "-next_review_date", "updated_at"):
        risks = ordered(acme, ordering)
        cursor = keyset_page(risks, cursor=None, size=10).next_cursor
        with CaptureQueriesContext(connection) as queries:
            keyset_page(risks, cursor=cursor, size=10)
        (query,) = queries.captured_queries
        # One row comparison, which PostgreSQL answers from the (organization, key, id) index.
        assert ") > (" in query["sql"] or ") < (" in query["sql"], query["sql"]
        assert "OFFSET" not in query["sql"]


# --- Register page -------------------------------------------------------------------------------


def test_register_page_follows_next_and_previous_links(login, olivia, acme):
    bulk_risks(acme, olivia, 60)
    client = login(olivia)
    first = client.get(reverse("risk:list"), {"ordering": "-title"})
    page = first.context["page_obj"]
    assert len(first.context["object_list"]) == 25 and page.has_next() and not page.has_previous()
    assert f"cursor={page.next_cursor}" in first.content.decode()
    assert first.context["risk_total"] == 60
    second = client.get(reverse("risk:list"), {"ordering": "-title", "cursor": page.next_cursor})
    expected = list(ordered(acme, "-title").values_list("pk", flat=True))
    assert [r.pk for r in second.context["object_list"]] == expected[25:50]
    back = client.get(
        reverse("risk:list"), {"ordering": "-title", "cursor": second.context["page_obj"].previous_cursor}
    )
    assert [r.pk for r in back.context["object_list"]] == expected[:25]
    # A damaged link, or one of another sort, starts again at the first page.
    other_sort = client.get(reverse("risk:list"), {"ordering": "title", "cursor": page.next_cursor})
    assert [r.pk for r in other_sort.context["object_list"]] == list(
        ordered(acme, "title").values_list("pk", flat=True)[:25]
    )
    assert client.get(reverse("risk:list"), {"cursor": "%%%"}).status_code == 200
    # Numbered pages of older links still answer, with their count.
    numbered = client.get(reverse("risk:list"), {"page": 2})
    assert numbered.context["paginator"].count == 60 and len(numbered.context["object_list"]) == 25


def test_register_rows_count_their_treatments(login, olivia, acme):
    treated = RiskFactory(organization=acme, owner=olivia, title="Treated")
    TreatmentActionFactory(risk=treated)
    TreatmentActionFactory(risk=treated, title="Second")
    RiskFactory(organization=acme, owner=olivia, title="Untreated")
    rows = login(olivia).get(reverse("risk:list")).context["object_list"]
    assert {r.title: r.treatment_count for r in rows} == {"Treated": 2, "Untreated": 0}


def test_another_organisations_cursor_shows_only_ones_own_risks(login, olivia, acme, charlie, globex):
    bulk_risks(acme, olivia, 30)
    ours = RiskFactory(organization=globex, owner=charlie, title="Globex risk")
    cursor = keyset_page(ordered(acme, ""), cursor=None, size=25).next_cursor
    response = login(charlie).get(reverse("risk:list"), {"cursor": cursor})
    assert response.status_code == 200
    assert {r.organization_id for r in response.context["object_list"]} <= {globex.pk}
    page = login(charlie).get(reverse("risk:list")).context["object_list"]
    assert [r.pk for r in page] == [ours.pk]


def test_a_filtered_register_maps_the_filter_and_the_full_one_is_cached(
    login, olivia, acme, django_capture_on_commit_callbacks
):
    RiskFactory(organization=acme, owner=olivia, title="A", inherent_likelihood=5, inherent_impact=5)
    RiskFactory(organization=acme, owner=olivia, title="B", inherent_likelihood=1, inherent_impact=1)
    client = login(olivia)

    def cells(response):
        inherent = response.context["heat_maps"][0]
        return {(c.likelihood, c.impact): c.count for _, _, row in inherent.rows for c in row if c.count}

    def aggregates(params=None):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("risk:list"), params or {})
        return [q["sql"] for q in queries.captured_queries if q["sql"].endswith("GROUP BY 1, 2, 3, 4, 5")], response

    grouped, full = aggregates()
    assert cells(full) == {(5, 5): 1, (1, 1): 1} and len(grouped) == 1  # both maps and the count
    grouped, filtered = aggregates({"q": "A"})
    assert cells(filtered) == {(5, 5): 1} and filtered.context["risk_total"] == 1 and len(grouped) == 1
    assert cells(client.get(reverse("risk:list"), {"level": "low"})) == {(1, 1): 1}  # another filter, its own

    # Cached, the whole register's and each filter's, until a write commits.
    assert aggregates()[0] == [] and aggregates({"q": "A"})[0] == []
    with django_capture_on_commit_callbacks(execute=True):
        RiskFactory(organization=acme, owner=olivia, title="AC", inherent_likelihood=5, inherent_impact=5)
    assert cells(client.get(reverse("risk:list"))) == {(5, 5): 2, (1, 1): 1}
    assert cells(client.get(reverse("risk:list"), {"q": "A"})) == {(5, 5): 2}


def test_a_search_beyond_the_cap_counts_up_to_it_and_maps_the_whole_register(login, olivia, acme, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 5)
    bulk_risks(acme, olivia, 30)  # "Bulk risk 0" … "Bulk risk 6"
    RiskFactory(organization=acme, owner=olivia, title="Other", inherent_likelihood=5, inherent_impact=5)
    client = login(olivia)
    cache.clear()
    response = client.get(reverse("risk:list"), {"q": "bulk"})
    assert response.context["risk_total_capped"] and response.context["risk_total"] == 5
    assert "More than 5 risks match" in response.content.decode()
    inherent = response.context["heat_maps"][0]
    assert inherent.total == 31  # the whole register's map, said so on the page
    assert len(response.context["object_list"]) == 25 and response.context["page_obj"].has_next()
    # Within the cap, a search is counted and mapped exactly.
    few = client.get(reverse("risk:list"), {"q": "bulk risk 6"})
    assert not few.context["risk_total_capped"] and few.context["risk_total"] == 4
    assert few.context["heat_maps"][0].total == 4
    # Numbered pages (old links) still say how many pages the search has.
    numbered = client.get(reverse("risk:list"), {"q": "bulk", "page": 2})
    assert numbered.context["paginator"].count == 30 and len(numbered.context["object_list"]) == 5
    # The API's numbered pages of a search count up to the cap too, and say so; cursor pages reach every match.
    api = client.get(reverse("risk-list"), {"q": "bulk", "page_size": 2}).json()
    assert (api["count"], api["count_capped"], len(api["results"])) == (5, True, 2)
    exact = client.get(reverse("risk-list"), {"q": "bulk risk 6", "page_size": 2}).json()
    assert exact["count"] == 4 and "count_capped" not in exact
    seen, body = [], client.get(reverse("risk-list"), {"q": "bulk", "cursor": "", "page_size": 10}).json()
    while True:
        seen += [row["id"] for row in body["results"]]
        if not body["next"]:
            break
        body = client.get(body["next"]).json()
    assert len(seen) == 30


# --- Numbered pages: the ids first, then their rows -----------------------------------------------


@pytest.mark.parametrize("ordering", ["", "-title", "next_review_date"])
def test_numbered_pages_read_their_ids_from_the_index_then_their_rows(login, olivia, acme, ordering):
    bulk_risks(acme, olivia, 60)
    client = login(olivia)
    params = {"ordering": ordering} if ordering else {}
    expected = list(ordered(acme, ordering).values_list("pk", flat=True))
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("risk:list"), {**params, "page": 3})
    assert [r.pk for r in response.context["object_list"]] == expected[50:]
    assert response.context["paginator"].count == 60 and response.context["paginator"].num_pages == 3
    assert all(r.treatment_count == 1 for r in response.context["object_list"])
    offset = [q["sql"] for q in queries.captured_queries if "OFFSET" in q["sql"]]
    # Only the ids walk the offset: no join, no subquery of the rows' treatments.
    assert len(offset) == 1 and offset[0].startswith('SELECT "risk_risk"."id" AS "pk" FROM "risk_risk" WHERE')
    assert "JOIN" not in offset[0] and "treatment" not in offset[0]
    body = client.get(reverse("risk-list"), {**params, "page": 2, "page_size": 25}).json()
    assert body["count"] == 60 and [row["id"] for row in body["results"]] == expected[25:50]
    assert client.get(reverse("risk:list"), {**params, "page": 4}).status_code == 404


# --- Query counts that do not grow with the register ------------------------------------------


def _queries(client, path, params=None):
    cache.clear()  # the cold path: every summary computed, not read from the cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params or {})
    assert response.status_code == 200, response.content[:500]
    return len(queries.captured_queries), response


def _deep_cursor(organization, ordering):
    risks = ordered(organization, ordering)
    page = keyset_page(risks, cursor=None, size=25)
    return keyset_page(risks, cursor=page.next_cursor, size=25).next_cursor


@pytest.mark.parametrize("ordering", ["", "-next_review_date", "title"])
def test_register_pages_cost_the_same_queries_at_two_sizes(login, olivia, acme, ordering):
    RiskFactory.create_batch(5, organization=acme, owner=olivia, assessed=True)
    bulk_risks(acme, olivia, 55)
    client = login(olivia)
    params = {"ordering": ordering} if ordering else {}
    small_first, _ = _queries(client, reverse("risk:list"), params)
    small_deep, response = _queries(client, reverse("risk:list"), {**params, "cursor": _deep_cursor(acme, ordering)})
    assert len(response.context["object_list"]) == 10
    bulk_risks(acme, olivia, 1000, start=100)
    large_first, _ = _queries(client, reverse("risk:list"), params)
    large_deep, response = _queries(client, reverse("risk:list"), {**params, "cursor": _deep_cursor(acme, ordering)})
    assert len(response.context["object_list"]) == 25
    assert (large_first, large_deep) == (small_first, small_deep)


def test_api_list_costs_the_same_queries_at_two_sizes_by_page_and_by_cursor(api_for, acme, olivia):
    client = api_for(acme, role=Role.OFFICER, created_by=olivia)
    bulk_risks(acme, olivia, 60)
    path = reverse("risk-list")
    client.get(path)  # the token's first use is recorded once
    small_page, _ = _queries(client, path, {"page": 2})
    small_cursor, _ = _queries(client, path, {"cursor": _deep_cursor(acme, "")})
    bulk_risks(acme, olivia, 1000, start=100)
    large_page, _ = _queries(client, path, {"page": 2})
    large_cursor, response = _queries(client, path, {"cursor": _deep_cursor(acme, "")})
    assert len(response.json()["results"]) == 50
    assert (large_page, large_cursor) == (small_page, small_cursor)


def test_risk_detail_costs_the_same_queries_at_two_sizes(login, olivia, acme):
    risk = RiskFactory(organization=acme, owner=olivia, assessed=True)
    TreatmentActionFactory(risk=risk, control_refs=("A.6.2.6",))
    client = login(olivia)
    small, _ = _queries(client, reverse("risk:detail", args=[risk.pk]))
    bulk_risks(acme, olivia, 1000)
    large, _ = _queries(client, reverse("risk:detail", args=[risk.pk]))
    assert large == small


def _save_queries(acme, olivia):
    with CaptureQueriesContext(connection) as queries:
        risk = services.risk_save(
            instance=Risk(organization=acme, title="New", owner=olivia, inherent_likelihood=2, inherent_impact=2),
            acting_user=olivia,
        )
    # Neither the register's references nor their highest number are read: the counter gives it.
    assert not [q for q in queries.captured_queries if "~" in q["sql"] or "REGEXP" in q["sql"].upper()]
    return len(queries.captured_queries), risk


def test_saving_a_risk_costs_the_same_queries_at_10_and_1000_risks(acme, olivia):
    RiskFactory.create_batch(10, organization=acme, owner=olivia)
    small, risk = _save_queries(acme, olivia)
    assert risk.ref_code == "RSK-0011"
    bulk_risks(acme, olivia, 990)
    large, risk = _save_queries(acme, olivia)
    assert risk.ref_code == "RSK-0012"
    assert large == small


def test_saving_a_risk_through_the_page_costs_the_same_queries_at_two_sizes(login, olivia, acme):
    client = login(olivia)
    form = {"title": "Drift", "owner": olivia.pk, "inherent_likelihood": "2", "inherent_impact": "2",
            "status": "identified"}  # fmt: skip
    RiskFactory.create_batch(10, organization=acme, owner=olivia)
    AISystemFactory(organization=acme)

    def post():
        with CaptureQueriesContext(connection) as queries:
            assert client.post(reverse("risk:create"), form).status_code == 302
        return len(queries.captured_queries)

    small = post()
    bulk_risks(acme, olivia, 1000)
    assert post() == small


# --- Reference counter -----------------------------------------------------------------------------


def test_references_follow_the_counter_and_skip_numbers_taken_around_it(acme, globex, olivia, charlie):
    assert RiskFactory(organization=acme, owner=olivia).ref_code == "RSK-0001"
    assert RiskFactory(organization=globex, owner=charlie).ref_code == "RSK-0001"
    assert ReferenceCounter.objects.get(organization=acme, kind="risk").last_number == 1
    # A bulk load wrote the next numbers without the counter: the next save carries on after them.
    Risk.objects.bulk_create(
        [Risk(organization=acme, ref_code=code, title="Loaded", owner=olivia) for code in ("RSK-0002", "RSK-0040")]
    )
    assert RiskFactory(organization=acme, owner=olivia).ref_code == "RSK-0041"
    assert RiskFactory(organization=acme, owner=olivia).ref_code == "RSK-0042"
    # A deleted risk's number is never given again.
    Risk.objects.get(ref_code="RSK-0042", organization=acme).delete()
    assert RiskFactory(organization=acme, owner=olivia).ref_code == "RSK-0043"


def test_migration_starts_each_counter_at_the_highest_reference_in_use(acme, globex, olivia, charlie):
    Risk.objects.bulk_create(
        [Risk(organization=acme, ref_code=code, title="Old", owner=olivia) for code in ("RSK-0007", "RSK-0123", "X-9")]
        + [Risk(organization=globex, ref_code="RSK-0002", title="Old", owner=charlie)]
    )
    migration = importlib.import_module("risk.migrations.0004_reference_counter_and_register_indexes")
    migration.start_counters(apps, None)
    counters = dict(ReferenceCounter.objects.values_list("organization_id", "last_number"))
    assert counters == {acme.pk: 123, globex.pk: 2}
    assert RiskFactory(organization=acme, owner=olivia).ref_code == "RSK-0124"


# --- Dashboard tiles -------------------------------------------------------------------------------


def test_dashboard_tiles_are_cached_until_a_write_commits(acme, olivia, django_capture_on_commit_callbacks):
    cache.clear()
    RiskFactory(organization=acme, owner=olivia, inherent_likelihood=5, inherent_impact=5)
    with CaptureQueriesContext(connection) as cold:
        tiles = {t.label: t.value for t in selectors.risk_tiles(acme)}
    assert tiles["Open risks"] == 1 and len(cold.captured_queries) == 4
    with CaptureQueriesContext(connection) as warm:
        selectors.risk_tiles(acme)
    assert len(warm.captured_queries) == 0
    with django_capture_on_commit_callbacks(execute=True):
        RiskFactory(organization=acme, owner=olivia, inherent_likelihood=5, inherent_impact=5)
    tiles = {t.label: t for t in selectors.risk_tiles(acme)}
    assert tiles["Open risks"].value == 2 and tiles["Open risks"].hint == "2 critical, 0 high"


# --- API keyset pages ------------------------------------------------------------------------------


def test_api_cursor_pages_walk_the_register_and_numbered_pages_keep_their_count(api_for, acme, olivia, globex):
    client = api_for(acme, role=Role.OFFICER, created_by=olivia)
    bulk_risks(acme, olivia, 12)
    bulk_risks(globex, olivia, 3)
    expected = list(ordered(acme, "-next_review_date").values_list("pk", flat=True))
    body = client.get(reverse("risk-list"), {"cursor": "", "page_size": 5, "ordering": "-next_review_date"}).json()
    assert set(body) == {"next", "previous", "results"} and body["previous"] is None
    seen = [row["id"] for row in body["results"]]
    while body["next"]:
        assert "ordering=-next_review_date" in body["next"] and "page_size=5" in body["next"]
        body = client.get(body["next"]).json()
        seen += [row["id"] for row in body["results"]]
    assert seen == expected
    previous = client.get(body["previous"]).json()
    assert [row["id"] for row in previous["results"]] == expected[5:10]

    numbered = client.get(reverse("risk-list"), {"page_size": 5, "page": 2}).json()
    assert numbered["count"] == 12 and len(numbered["results"]) == 5


def test_api_refuses_a_damaged_cursor_with_a_field_error(api_for, acme, olivia):
    client = api_for(acme, role=Role.OFFICER, created_by=olivia)
    bulk_risks(acme, olivia, 3)
    for cursor in ("%%%", "bm90IGpzb24", keyset_page(ordered(acme, "title"), cursor=None, size=1).next_cursor):
        response = client.get(reverse("risk-list"), {"cursor": cursor})
        assert response.status_code == 400, response.content
        assert "cursor" in response.json()["errors"]


def test_api_schema_documents_both_kinds_of_page(login, alice):
    schema = login(alice).get("/api/v1/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/risks/"]["get"]
    assert {"page", "page_size", "cursor"} <= {p["name"] for p in operation["parameters"]}
    page = schema["components"]["schemas"]["PaginatedRiskList"]
    assert page["required"] == ["next", "previous", "results"] and "count" in page["properties"]
    treatments = schema["components"]["schemas"]["PaginatedTreatmentList"]
    assert "count" in treatments["required"]  # the other lists keep their numbered pages only


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_take_numbers_one_after_the_other(catalogue):
    from django.db import connections, transaction

    from tests.aims.factories import OrganizationFactory, UserFactory

    organization, owner = OrganizationFactory(), UserFactory()
    RiskFactory(organization=organization, owner=owner)  # the counter exists: its row lock is what serialises
    holding, results = threading.Event(), []

    def first():
        with transaction.atomic():
            results.append(services._next_ref_code(organization))
            holding.set()
            time.sleep(0.5)  # the second save waits on the counter's row lock meanwhile
        connections.close_all()

    def second():
        holding.wait()
        results.append(RiskFactory(organization=organization, owner=owner).ref_code)
        connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["RSK-0002", "RSK-0003"]
