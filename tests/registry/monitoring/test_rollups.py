"""Hourly and daily roll-ups of measurements: kept equal to the raw rows, read by the long charts."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import Trunc
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registry.monitoring import selectors as monitoring_selectors
from registry.monitoring import services as monitoring
from registry.monitoring import views as monitoring_views
from registry.monitoring.models import Measurement, MeasurementDaily, MeasurementHourly
from tests.registry.factories import AISystemFactory, MetricDefinitionFactory

NOW = timezone.now().replace(microsecond=0)


def raw_aggregate(metric, size):
    """{bucket: (count, sum, min, max)} computed from the raw rows, the roll-ups' definition."""
    rows = (
        Measurement.objects.filter(metric=metric)
        .annotate(t=Trunc("measured_at", size, tzinfo=UTC))
        .values("t")
        .annotate(n=Count("id"), total=Sum("value"), low=Min("value"), high=Max("value"))
    )
    return {r["t"]: (r["n"], pytest.approx(r["total"]), r["low"], r["high"]) for r in rows}


def rolled_up(model, metric):
    return {r.bucket: (r.count, r.total, r.minimum, r.maximum) for r in model.objects.filter(metric=metric)}


def assert_consistent(metric):
    assert rolled_up(MeasurementHourly, metric) == raw_aggregate(metric, "hour")
    assert rolled_up(MeasurementDaily, metric) == raw_aggregate(metric, "day")


def items(metric, minutes, value=lambda m: 0.8 + (m % 7) / 100):
    return [
        {"metric": metric.pk, "measured_at": (NOW - timedelta(minutes=m)).isoformat(), "value": value(m)}
        for m in minutes
    ]


@pytest.fixture
def system(acme, olivia):
    return AISystemFactory(organization=acme, owner=olivia)


@pytest.fixture
def auc(system):
    return MetricDefinitionFactory(system=system)


# --- Kept at ingest -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_overlapping_batches_leave_the_roll_ups_equal_to_the_raw_rows(acme, auc):
    # Four batches at once over the same hours: half of each batch is also in another one
    # (duplicates, stored once), and every batch adds points to buckets the others write too.
    batches = [items(auc, range(start, start + 600, 3)) for start in (0, 300, 150, 450)]
    barrier = threading.Barrier(len(batches))
    failures: list[BaseException] = []
    results = []

    def send(batch):
        try:
            barrier.wait(timeout=10)
            results.append(monitoring.measurements_ingest(organization=acme, items=batch, acting_user=None))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures

    stored = Measurement.objects.filter(metric=auc).count()
    assert stored == len(set(range(0, 1050, 3))) == sum(r.created for r in results)
    assert sum(r.count for r in MeasurementHourly.objects.filter(metric=auc)) == stored
    assert_consistent(auc)


@pytest.mark.django_db
def test_a_batch_sent_again_adds_nothing_to_the_roll_ups(acme, auc):
    batch = items(auc, range(0, 180, 5))
    monitoring.measurements_ingest(organization=acme, items=batch, acting_user=None)
    before = rolled_up(MeasurementHourly, auc)

    result = monitoring.measurements_ingest(organization=acme, items=batch + items(auc, [181]), acting_user=None)

    assert (result.created, result.duplicates) == (1, len(batch))
    after = rolled_up(MeasurementHourly, auc)
    assert sum(c for c, *_ in after.values()) == sum(c for c, *_ in before.values()) + 1
    assert_consistent(auc)


@pytest.mark.django_db
def test_a_batch_spread_over_thousands_of_hours_rolls_up_every_one(acme, auc):
    # More buckets than one upsert statement carries: they go in several, all of them.
    monitoring.measurements_ingest(organization=acme, items=items(auc, range(0, 2500 * 60, 60)), acting_user=None)
    assert MeasurementHourly.objects.filter(metric=auc).count() == 2500
    assert_consistent(auc)


@pytest.mark.django_db
def test_minimum_and_maximum_follow_later_batches(acme, auc):
    hour = NOW.replace(minute=30, second=0) - timedelta(hours=3)
    for value in (0.5, 0.9, 0.1, 0.7):
        item = {"metric": auc.pk, "measured_at": hour.isoformat(), "value": value}
        monitoring.measurements_ingest(organization=acme, items=[item], acting_user=None)
        hour += timedelta(seconds=1)
    bucket = MeasurementHourly.objects.get(metric=auc)
    assert (bucket.count, bucket.minimum, bucket.maximum) == (4, 0.1, 0.9)
    assert bucket.mean == pytest.approx(0.55)


# --- Rebuilt from raw rows, and what happens when rows go ---------------------------------------


@pytest.mark.django_db
def test_rebuild_backfills_rows_written_outside_the_ingest(acme, auc, system):
    other = MetricDefinitionFactory(system=system, key="other")
    start = datetime(2025, 3, 1, tzinfo=UTC)
    Measurement.objects.bulk_create(
        Measurement(organization=acme, metric=metric, measured_at=start + timedelta(minutes=17 * i), value=i % 5)
        for i in range(400)
        for metric in (auc, other)
    )
    assert not MeasurementHourly.objects.exists()

    out = StringIO()
    call_command("rebuild_measurement_rollups", "--metric", str(auc.pk), stdout=out)

    assert "hourly buckets" in out.getvalue()
    assert_consistent(auc)
    assert not MeasurementHourly.objects.filter(metric=other).exists()
    call_command("rebuild_measurement_rollups", stdout=StringIO())  # every metric
    assert_consistent(other)
    assert_consistent(auc)


@pytest.mark.django_db
def test_deleting_measurements_rebuilds_the_days_they_were_in(acme, auc):
    monitoring.measurements_ingest(organization=acme, items=items(auc, range(0, 4000, 10)), acting_user=None)
    total = Measurement.objects.filter(metric=auc).count()
    start, end = NOW - timedelta(minutes=2000), NOW - timedelta(minutes=1000)

    deleted = monitoring.measurements_delete(metric=auc, start=start, end=end, acting_user=None)

    assert deleted == 101 and Measurement.objects.filter(metric=auc).count() == total - 101
    assert_consistent(auc)
    assert sum(r.count for r in MeasurementDaily.objects.filter(metric=auc)) == total - 101


@pytest.mark.django_db
def test_roll_ups_go_with_their_metric(acme, auc, olivia):
    monitoring.measurements_ingest(organization=acme, items=items(auc, range(0, 100, 10)), acting_user=None)
    assert MeasurementDaily.objects.filter(metric=auc).exists()

    monitoring.metric_delete(metric=auc, acting_user=olivia)

    assert not MeasurementHourly.objects.exists() and not MeasurementDaily.objects.exists()


# --- Read by the long charts --------------------------------------------------------------------


def _two_years(acme, metric, every):
    """Raw points from two years ago until now, ``every`` apart, stored in bulk then rolled up."""
    count = int(timedelta(days=729) / every)
    Measurement.objects.bulk_create(
        (
            Measurement(organization=acme, metric=metric, measured_at=NOW - every * i, value=0.8 + (i % 9) / 100)
            for i in range(count)
        ),
        batch_size=5000,
    )
    monitoring.measurement_rollups_rebuild(metric_ids=[metric.pk])
    return count


def _chart_queries(client, system, period):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("monitoring:system", args=[system.pk]), {"period": period})
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries], response


@pytest.mark.django_db
def test_a_two_year_chart_reads_the_daily_roll_up_not_the_raw_rows(acme, auc):
    _two_years(acme, auc, timedelta(hours=2))
    start, end = NOW - timedelta(days=730), NOW

    with CaptureQueriesContext(connection) as queries:
        series = monitoring_views.series_by_metric([auc.pk], start, end)
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert '"registry_measurementdaily"' in sql and '"registry_measurement"' not in sql
    assert 300 <= len(series[auc.pk]) <= 731

    with CaptureQueriesContext(connection) as queries:
        chart = monitoring_selectors.metric_series(auc, start, end, max_points=500)
    assert chart["bucket"] == "week" and sum(p["count"] for p in chart["points"]) > 8000
    assert all('"registry_measurement"' not in q["sql"] for q in queries.captured_queries)
    assert all('"registry_measurementdaily"' in q["sql"] for q in queries.captured_queries)


@pytest.mark.django_db
def test_range_lengths_pick_raw_rows_then_hourly_then_daily(acme, auc):
    _two_years(acme, auc, timedelta(hours=6))
    cases = [(timedelta(days=1), "registry_measurement"), (timedelta(days=30), "registry_measurementhourly")]
    cases.append((timedelta(days=365), "registry_measurementdaily"))
    for span, table in cases:
        with CaptureQueriesContext(connection) as queries:
            series = monitoring_views.series_by_metric([auc.pk], NOW - span, NOW)
        (sql,) = [q["sql"] for q in queries.captured_queries]
        assert f'FROM "{table}"' in sql, span
        assert series[auc.pk], span


@pytest.mark.django_db
def test_chart_queries_are_flat_whatever_the_range_and_the_number_of_points(login, olivia, acme, system, auc):
    client = login(olivia)
    _two_years(acme, auc, timedelta(hours=12))
    few = {period: len(_chart_queries(client, system, period)[0]) for period in ("1d", "30d", "2y")}
    _two_years(acme, MetricDefinitionFactory(system=system, key="dense"), timedelta(hours=1))
    MetricDefinitionFactory(system=system, key="empty")
    many = {period: len(_chart_queries(client, system, period)[0]) for period in ("1d", "30d", "2y")}

    assert len(set(few.values())) == 1 and many == few
    sqls, response = _chart_queries(client, system, "2y")
    assert [card["chart"].count > 300 for card in response.context["cards"]].count(True) == 2
    # The raw table is read only for each metric's latest value (one row through its index).
    raw = [sql for sql in sqls if '"registry_measurement"' in sql]
    assert raw and all("LIMIT 1" in sql for sql in raw)
    assert any('"registry_measurementdaily"' in sql for sql in sqls)
