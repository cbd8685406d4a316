"""Monitoring services: ingest (validation, atomicity, idempotency), alerts, notifications and reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aims.roles import Role
from registry.monitoring import selectors as monitoring_selectors
from registry.monitoring import services as monitoring
from registry.monitoring.models import Measurement, MetricDefinition, MonitoringAlert
from registry.monitoring.services import IngestInvalid
from tests.aims.factories import MembershipFactory
from tests.registry.factories import AISystemFactory, MetricDefinitionFactory

NOW = timezone.now().replace(microsecond=0)


def point(metric, value, minutes_ago=0, **extra):
    return {
        "metric": metric.pk,
        "measured_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
        "value": value,
        **extra,
    }


def ingest(org, items, user=None):
    return monitoring.measurements_ingest(organization=org, items=items, acting_user=user)


@pytest.fixture
def dana(acme):
    """Owner of the credit-scoring system."""
    return MembershipFactory(organization=acme, role=Role.OWNER).user


@pytest.fixture
def system(acme, dana):
    return AISystemFactory(organization=acme, owner=dana, name="Credit scoring")


@pytest.fixture
def auc(system):
    return MetricDefinitionFactory(system=system)


@pytest.fixture
def latency(system):
    return MetricDefinitionFactory(
        system=system, key="p95", name="p95 latency", direction="lower", target=200, alert_threshold=300
    )


# --- Metric definitions ------------------------------------------------------------------------


def metric_save(system, **fields) -> MetricDefinition:
    return monitoring.metric_save(instance=MetricDefinitionFactory.build(system=system, **fields), acting_user=None)


def test_threshold_must_be_on_the_bad_side_of_the_target(system):
    with pytest.raises(ValidationError) as exc:
        metric_save(system, target=0.8, alert_threshold=0.85)
    assert "alert_threshold" in exc.value.message_dict
    with pytest.raises(ValidationError):
        metric_save(system, key="lat", direction="lower", target=200, alert_threshold=150)
    assert metric_save(system, key="equal", target=0.8, alert_threshold=0.8).pk


def test_key_is_unique_per_system(system, auc, acme):
    with pytest.raises(ValidationError) as exc:
        metric_save(system)
    assert "key" in exc.value.message_dict
    assert metric_save(AISystemFactory(organization=acme)).key == "auc"


# --- Ingest ------------------------------------------------------------------------------------


def test_same_batch_twice_is_stored_once(acme, auc, alice):
    items = [point(auc, 0.9, m) for m in range(10)]
    first = ingest(acme, items, alice)
    second = ingest(acme, items, alice)
    assert (first.created, first.duplicates) == (10, 0)
    assert (second.created, second.duplicates) == (0, 10)
    assert Measurement.objects.filter(metric=auc).count() == 10
    assert Measurement.objects.first().recorded_by == alice


def test_slices_are_distinct_points(acme, auc):
    result = ingest(acme, [point(auc, 0.9, 1, slice="women"), point(auc, 0.9, 1, slice="men")])
    assert result.created == 2


def test_one_bad_item_stores_nothing_and_names_every_bad_index(acme, globex, auc):
    theirs = MetricDefinitionFactory(system=AISystemFactory(organization=globex))
    items = [
        point(auc, 0.9, 1),
        point(auc, float("nan"), 2),
        point(theirs, 0.9, 3),
        {"metric": auc.pk, "measured_at": "yesterday", "value": 0.9},
        {"metric": auc.pk, "measured_at": "2026-01-01T10:00:00", "value": 0.9},
        point(auc, 0.9, -30),
        point(auc, 0.9, 1),
        {"metric": 999999, "measured_at": NOW.isoformat(), "value": 1},
        point(auc, "inf", 4),
        point(auc, True, 5),
    ]
    with pytest.raises(IngestInvalid) as exc:
        ingest(acme, items)
    errors = {e["index"]: e["errors"] for e in exc.value.item_errors}
    assert sorted(errors) == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert "value" in errors[1] and "metric" in errors[2] and "metric" in errors[7]
    assert "time zone" in errors[4]["measured_at"][0]
    assert "future" in errors[5]["measured_at"][0]
    assert "Item 0" in errors[6]["measured_at"][0]
    assert not Measurement.objects.exists()


def test_metric_by_system_reference_and_key(acme, system, auc):
    item = {"system": system.ref_code, "metric_key": "auc", "measured_at": NOW.isoformat(), "value": 0.91}
    assert ingest(acme, [item]).created == 1
    with pytest.raises(IngestInvalid):
        ingest(acme, [{**item, "metric_key": "nope"}])


def test_batch_size_is_limited(acme, auc):
    with pytest.raises(ValidationError):
        ingest(acme, [point(auc, 0.9, m) for m in range(monitoring.INGEST_MAX_ITEMS + 1)])


# --- Alerts from measurements ------------------------------------------------------------------


def test_higher_is_better_opens_one_alert_updated_by_later_breaches(acme, auc):
    result = ingest(acme, [point(auc, 0.78, 30), point(auc, 0.74, 20)])
    assert result.alerts_opened == 1
    alert = MonitoringAlert.objects.get(metric=auc)
    assert (alert.status, alert.first_value, alert.breach_count) == ("open", 0.74, 1)
    result = ingest(acme, [point(auc, 0.70, 10), point(auc, 0.73, 5)])
    assert (result.alerts_opened, result.alerts_updated) == (0, 1)
    alert.refresh_from_db()
    assert (alert.breach_count, alert.worst_value, alert.last_value) == (3, 0.70, 0.73)
    assert alert.last_breach_at == NOW - timedelta(minutes=5)
    assert MonitoringAlert.objects.count() == 1


def test_lower_is_better(acme, latency):
    assert ingest(acme, [point(latency, 250, 3)]).alerts_opened == 0  # worse than target, not beyond threshold
    assert ingest(acme, [point(latency, 310, 2), point(latency, 450, 1)]).alerts_opened == 1
    alert = MonitoringAlert.objects.get(metric=latency)
    assert (alert.worst_value, alert.breach_count) == (450, 2)


def test_closes_by_itself_once_the_latest_value_meets_the_target(acme, auc):
    ingest(acme, [point(auc, 0.7, 30)])
    # Between threshold and target: still open.
    assert ingest(acme, [point(auc, 0.78, 20)]).alerts_closed == 0
    result = ingest(acme, [point(auc, 0.6, 15), point(auc, 0.85, 10)])
    assert result.alerts_closed == 1
    alert = MonitoringAlert.objects.get(metric=auc)
    assert alert.status == "closed" and "automatically" in alert.close_note
    assert alert.breach_count == 2
    # A later breach opens a new alert.
    assert ingest(acme, [point(auc, 0.5, 5)]).alerts_opened == 1
    assert MonitoringAlert.objects.open().count() == 1


def test_an_old_good_value_does_not_close_a_newer_breach(acme, auc):
    ingest(acme, [point(auc, 0.7, 10)])
    assert ingest(acme, [point(auc, 0.9, 60)]).alerts_closed == 0


def test_duplicates_do_not_count_as_breaches_again(acme, auc):
    items = [point(auc, 0.7, 10)]
    ingest(acme, items)
    ingest(acme, items)
    assert MonitoringAlert.objects.get(metric=auc).breach_count == 1


def test_measurement_add_is_one_manual_point(auc, alice):
    result = monitoring.measurement_add(metric=auc, value=0.7, acting_user=alice, note="Quarterly review")
    assert result.created == 1 and result.alerts_opened == 1
    assert Measurement.objects.get().source == "manual"
    with pytest.raises(ValidationError):
        monitoring.measurement_add(metric=auc, value=float("nan"), acting_user=alice)


# --- Alert workflow ----------------------------------------------------------------------------


@pytest.fixture
def alert(acme, auc):
    ingest(acme, [point(auc, 0.6, 5)])
    return MonitoringAlert.objects.get(metric=auc)


def test_acknowledge_then_close(alert, dana):
    alert = monitoring.alert_acknowledge(alert=alert, acting_user=dana, note="Looking at the new data feed")
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", dana)
    with pytest.raises(ValidationError):
        monitoring.alert_acknowledge(alert=alert, acting_user=dana)
    with pytest.raises(ValidationError):
        monitoring.alert_close(alert=alert, acting_user=dana, note=" ")
    alert = monitoring.alert_close(alert=alert, acting_user=dana, note="Feed fixed, retrained")
    assert alert.status == "closed" and alert.closed_at is not None
    assert alert.history.first().history_user == dana
    with pytest.raises(ValidationError):
        monitoring.alert_close(alert=alert, acting_user=dana, note="again")


def test_acknowledged_alert_is_still_updated_and_closed_automatically(acme, auc, alert, dana):
    monitoring.alert_acknowledge(alert=alert, acting_user=dana)
    ingest(acme, [point(auc, 0.5, 3)])
    alert.refresh_from_db()
    assert (alert.status, alert.breach_count) == ("acknowledged", 2)
    ingest(acme, [point(auc, 0.9, 1)])
    alert.refresh_from_db()
    assert alert.status == "closed"


# --- Notifications -----------------------------------------------------------------------------


def test_stale_metric_is_told_once_per_silence(acme, auc, dana):
    later = NOW + timedelta(days=2)
    assert monitoring.monitoring_check(now=NOW)["stale"] == 0
    first = monitoring.monitoring_check(now=later)
    second = monitoring.monitoring_check(now=later + timedelta(hours=1))
    assert (first["stale"], first["stale_notified"], second["stale_notified"]) == (1, 1, 0)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [dana.email] and "No measurement of AUC" in mail.outbox[0].subject
    assert "no measurement since it was defined" in mail.outbox[0].body
    # A measurement ends the silence; the next silence is told about again.
    monitoring.measurement_add(metric=auc, value=0.9, acting_user=dana, measured_at=NOW)
    auc.refresh_from_db()
    assert auc.stale_notified_at is None
    assert monitoring.monitoring_check(now=NOW + timedelta(hours=1))["stale"] == 0
    assert monitoring.monitoring_check(now=NOW + timedelta(days=3))["stale_notified"] == 1
    assert len(mail.outbox) == 2 and "last measurement was taken" in mail.outbox[1].body


def test_without_an_owner_admins_and_officers_are_told(acme, alice, olivia, victor):
    metric = MetricDefinitionFactory(system=AISystemFactory(organization=acme, owner=None))
    monitoring.monitoring_check(now=metric.created_at + timedelta(days=2))
    assert sorted(mail.outbox[0].to) == [alice.email, olivia.email]


def test_inactive_metrics_are_never_stale(system):
    MetricDefinitionFactory(system=system, is_active=False)
    assert monitoring.monitoring_check(now=NOW + timedelta(days=30))["stale"] == 0


def test_breach_is_told_once_per_alert(acme, auc, dana):
    ingest(acme, [point(auc, 0.7, 2)])
    assert monitoring.monitoring_check()["breaches_notified"] == 1
    ingest(acme, [point(auc, 0.6, 1)])  # updates the same alert
    assert monitoring.monitoring_check()["breaches_notified"] == 0
    assert len(mail.outbox) == 1 and "breached its threshold" in mail.outbox[0].subject
    assert mail.outbox[0].to == [dana.email]
    ingest(acme, [point(auc, 0.9, 0)])  # closes; the next breach is a new alert, told again
    ingest(acme, [{**point(auc, 0.5, 0), "slice": "women"}])
    assert monitoring.monitoring_check()["breaches_notified"] == 1


# --- Reads -------------------------------------------------------------------------------------


def _bulk_points(metric, count, step):
    start = datetime(2024, 1, 1, tzinfo=UTC)
    Measurement.objects.bulk_create(
        Measurement(
            organization_id=metric.organization_id,
            metric=metric,
            measured_at=start + i * step,
            value=0.8 + (i % 10) / 100,
        )
        for i in range(count)
    )
    # Written past the ingest, as a backfill would: the roll-ups are rebuilt from them.
    monitoring.measurement_rollups_rebuild(metric_ids=[metric.pk])
    return start, start + (count - 1) * step


def test_series_returns_raw_points_when_few(acme, auc):
    start, end = _bulk_points(auc, 100, timedelta(hours=1))
    series = monitoring_selectors.metric_series(auc, start, end, max_points=500)
    assert series["bucket"] == "raw" and len(series["points"]) == 100
    assert series["points"][0]["t"] == start


def test_series_aggregates_a_long_range_by_day(acme, auc):
    start, end = _bulk_points(auc, 3000, timedelta(hours=1))  # 125 days
    with CaptureQueriesContext(connection) as queries:
        series = monitoring_selectors.metric_series(auc, start, end, max_points=500)
    assert len(queries) == 2
    assert series["bucket"] == "day"
    assert len(series["points"]) <= 500 and len(series["points"]) == 125
    assert sum(p["count"] for p in series["points"]) == 3000
    day = series["points"][0]
    assert day["min"] == pytest.approx(0.8) and day["max"] == pytest.approx(0.89)
    assert 0.8 <= day["value"] <= 0.89


def test_series_uses_hours_for_a_short_range_and_respects_the_limit(acme, auc):
    start, end = _bulk_points(auc, 3000, timedelta(minutes=1))  # 50 hours
    series = monitoring_selectors.metric_series(auc, start, end, max_points=100)
    assert series["bucket"] == "hour" and len(series["points"]) <= 100
    two_years = monitoring_selectors.metric_series(auc, start, start + timedelta(days=730), max_points=500)
    assert two_years["bucket"] == "week" and len(two_years["points"]) <= 500


def test_system_monitoring_and_overview_in_fixed_queries(acme, system, auc, latency, globex):
    ingest(acme, [point(auc, 0.6, 5), point(latency, 100, 5)])
    for i in range(3):
        MetricDefinitionFactory(
            system=system, key=f"extra{i}", expected_every_minutes=1, created_at=NOW - timedelta(hours=1)
        )
    with CaptureQueriesContext(connection) as queries:
        rows = monitoring_selectors.system_monitoring(system)
    assert len(queries) == 2
    by_key = {row.metric.key: row for row in rows}
    assert by_key["auc"].open_alert is not None and by_key["auc"].breaching
    assert by_key["p95"].meets_target and by_key["p95"].open_alert is None
    assert by_key["extra0"].stale and by_key["extra0"].last_value is None
    with CaptureQueriesContext(connection) as queries:
        overview = monitoring_selectors.monitoring_overview(acme)
    assert len(queries) == 3
    assert [row["system"] for row in overview["systems_in_breach"]] == [system]
    assert {s.metric.key for s in overview["stale_metrics"]} == {"extra0", "extra1", "extra2"}
    assert monitoring_selectors.monitoring_overview(globex)["open_alerts"] == []
