"""Monitoring API: metrics, measurements (batch ingest), alerts; roles, tenancy and query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aims.roles import Role
from registry.monitoring import selectors
from registry.monitoring import services as monitoring
from registry.monitoring.models import Measurement, MetricDefinition, MonitoringAlert
from tests.aims.factories import MembershipFactory
from tests.registry.factories import AISystemFactory, MetricDefinitionFactory

NOW = timezone.now().replace(microsecond=0)


def url(basename, pk=None, action=None):
    if action:
        return reverse(f"{basename}-{action}", args=[pk] if pk is not None else [])
    return reverse(f"{basename}-detail", args=[pk]) if pk is not None else reverse(f"{basename}-list")


def item(metric, value, minutes_ago=0, **extra):
    return {
        "metric": metric.pk,
        "measured_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
        "value": value,
        **extra,
    }


@pytest.fixture
def dana(acme):
    return MembershipFactory(organization=acme, role=Role.OWNER).user


@pytest.fixture
def system(acme, dana):
    return AISystemFactory(organization=acme, owner=dana)


@pytest.fixture
def other_system(acme):
    return AISystemFactory(organization=acme)


@pytest.fixture
def auc(system):
    return MetricDefinitionFactory(system=system)


@pytest.fixture
def foreign(globex):
    return MetricDefinitionFactory(system=AISystemFactory(organization=globex))


@pytest.fixture
def alert(acme, auc):
    monitoring.measurements_ingest(organization=acme, items=[item(auc, 0.6, 5)], acting_user=None)
    return MonitoringAlert.objects.get(metric=auc)


@pytest.fixture
def api(api_for, acme, olivia):
    return api_for(acme, role=Role.OFFICER, created_by=olivia)


@pytest.fixture
def owner_api(api_for, acme, dana):
    return api_for(acme, role=Role.OWNER, created_by=dana)


# --- Metrics -----------------------------------------------------------------------------------


def metric_payload(system, **overrides):
    return {
        "system": system.pk,
        "key": "approval_gap",
        "name": "Approval rate gap",
        "kind": "fairness_gap",
        "direction": "lower",
        "target": 0.05,
        "alert_threshold": 0.1,
        "expected_every_minutes": 1440,
        **overrides,
    }


def test_metric_crud(api, system, olivia):
    response = api.post(url("metric"), metric_payload(system), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["last_value"] is None and body["stale"] is False and body["source"] == "pipeline"
    metric = MetricDefinition.objects.get(pk=body["id"])
    assert metric.history.first().history_user == olivia
    response = api.patch(url("metric", metric.pk), {"alert_threshold": 0.2}, format="json")
    assert response.status_code == 200 and response.json()["alert_threshold"] == 0.2
    assert api.get(url("metric"), {"system": system.pk}).json()["count"] == 1
    assert api.delete(url("metric", metric.pk)).status_code == 204


def test_metric_validation(api, system, auc):
    bad = api.post(url("metric"), metric_payload(system, alert_threshold=0.01), format="json")
    assert bad.status_code == 400 and "alert_threshold" in bad.json()["errors"]
    duplicate = api.post(url("metric"), metric_payload(system, key="auc"), format="json")
    assert duplicate.status_code == 400 and "key" in duplicate.json()["errors"]


def test_metric_on_another_organisations_system_is_refused(api, globex):
    response = api.post(url("metric"), metric_payload(AISystemFactory(organization=globex)), format="json")
    assert response.status_code == 400 and "system" in response.json()["errors"]


def test_owner_changes_only_metrics_of_own_systems(owner_api, system, other_system, auc):
    assert owner_api.post(url("metric"), metric_payload(system), format="json").status_code == 201
    assert owner_api.post(url("metric"), metric_payload(other_system), format="json").status_code == 403
    theirs = MetricDefinitionFactory(system=other_system)
    assert owner_api.patch(url("metric", theirs.pk), {"name": "x"}, format="json").status_code == 403
    assert owner_api.patch(url("metric", auc.pk), {"system": other_system.pk}, format="json").status_code == 403
    assert owner_api.patch(url("metric", auc.pk), {"name": "ROC AUC"}, format="json").status_code == 200


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR])
def test_read_only_roles_cannot_write(api_for, acme, role, system, auc, alert):
    client = api_for(acme, role=role)
    assert client.get(url("metric")).status_code == 200
    assert client.get(url("measurement")).status_code == 200
    assert client.get(url("monitoringalert")).status_code == 200
    assert client.post(url("metric"), metric_payload(system), format="json").status_code == 403
    assert client.delete(url("metric", auc.pk)).status_code == 403
    batch = client.post(url("measurement", action="batch"), {"items": [item(auc, 0.9)]}, format="json")
    assert batch.status_code == 403
    for name in ("acknowledge", "close"):
        assert client.post(url("monitoringalert", alert.pk, name), {"note": "x"}, format="json").status_code == 403
    assert Measurement.objects.count() == 1


def test_cross_tenant_is_not_found(api, foreign, globex):
    monitoring.measurements_ingest(organization=globex, items=[item(foreign, 0.5)], acting_user=None)
    theirs = MonitoringAlert.objects.get(metric=foreign)
    assert api.get(url("metric", foreign.pk)).status_code == 404
    assert api.patch(url("metric", foreign.pk), {"name": "x"}, format="json").status_code == 404
    assert api.delete(url("metric", foreign.pk)).status_code == 404
    assert api.get(url("metric")).json()["count"] == 0
    assert api.get(url("measurement"), {"metric": foreign.pk}).json()["count"] == 0
    assert api.get(url("monitoringalert")).json()["count"] == 0
    assert api.get(url("monitoringalert", theirs.pk)).status_code == 404
    for name in ("acknowledge", "close"):
        assert api.post(url("monitoringalert", theirs.pk, name), {"note": "x"}, format="json").status_code == 404
    batch = api.post(url("measurement", action="batch"), {"items": [item(foreign, 0.9)]}, format="json")
    assert batch.status_code == 400 and batch.json()["errors"][0]["index"] == 0
    assert Measurement.objects.filter(metric=foreign).count() == 1


# --- Measurements ------------------------------------------------------------------------------


def test_batch_ingest_is_idempotent(api, auc, system):
    items = [
        item(auc, 0.9, 10),
        item(auc, 0.7, 5),
        {"system": system.ref_code, "metric_key": "auc", "measured_at": NOW.isoformat(), "value": 0.74},
    ]
    first = api.post(url("measurement", action="batch"), {"items": items}, format="json")
    assert first.status_code == 200
    assert first.json() == {"created": 3, "duplicates": 0, "alerts_opened": 1, "alerts_closed": 0}
    second = api.post(url("measurement", action="batch"), {"items": items}, format="json")
    assert second.json() == {"created": 0, "duplicates": 3, "alerts_opened": 0, "alerts_closed": 0}
    assert Measurement.objects.count() == 3


def test_batch_with_a_bad_item_stores_nothing(api, auc):
    items = [item(auc, 0.9, 3), item(auc, "NaN", 2), {**item(auc, 0.9, 1), "measured_at": "2026-05-01T10:00:00"}]
    response = api.post(url("measurement", action="batch"), {"items": items}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "2 of 3 items are invalid; nothing was stored."
    assert [e["index"] for e in body["errors"]] == [1, 2]
    assert "value" in body["errors"][0]["errors"] and "measured_at" in body["errors"][1]["errors"]
    assert not Measurement.objects.exists()


def test_batch_needs_a_list_of_at_most_5000(api, auc):
    assert api.post(url("measurement", action="batch"), {"items": []}, format="json").status_code == 400
    too_many = [item(auc, 0.9, i) for i in range(5001)]
    response = api.post(url("measurement", action="batch"), {"items": too_many}, format="json")
    assert response.status_code == 400 and "5000" in str(response.json())


def test_owner_sends_measurements_only_for_own_systems(owner_api, auc, other_system):
    theirs = MetricDefinitionFactory(system=other_system)
    response = owner_api.post(
        url("measurement", action="batch"), {"items": [item(auc, 0.9), item(theirs, 0.9)]}, format="json"
    )
    assert response.status_code == 400 and [e["index"] for e in response.json()["errors"]] == [1]
    ok = owner_api.post(url("measurement", action="batch"), {"items": [item(auc, 0.9)]}, format="json")
    assert ok.status_code == 200


def test_an_owners_systems_elsewhere_are_not_theirs_here(owner_api, acme, globex, dana, system, auc):
    # The same person owns a system of another organisation, whose metric has the same key.
    MembershipFactory(organization=globex, user=dana, role=Role.OWNER)
    elsewhere = AISystemFactory(organization=globex, owner=dana)
    theirs = MetricDefinitionFactory(system=elsewhere)
    assert list(selectors.systems_owned(acme, dana)) == [system]
    assert list(selectors.systems_owned(globex, dana)) == [elsewhere]
    by_ref = {"system": elsewhere.ref_code, "metric_key": "auc", "measured_at": NOW.isoformat(), "value": 0.9}
    response = owner_api.post(
        url("measurement", action="batch"), {"items": [item(auc, 0.9), item(theirs, 0.9), by_ref]}, format="json"
    )
    assert response.status_code == 400 and [e["index"] for e in response.json()["errors"]] == [1, 2]
    assert not Measurement.objects.exists()


def test_measurement_list_filters_and_paginates(api, acme, auc):
    monitoring.measurements_ingest(organization=acme, items=[item(auc, 0.9, m) for m in range(60)], acting_user=None)
    page = api.get(url("measurement"), {"metric": auc.pk})
    assert page.json()["count"] == 60 and len(page.json()["results"]) == 50
    assert page.json()["results"][0]["measured_at"] > page.json()["results"][1]["measured_at"]
    since = (NOW - timedelta(minutes=9, seconds=30)).isoformat()
    assert api.get(url("measurement"), {"metric": auc.pk, "since": since}).json()["count"] == 10
    until = (NOW - timedelta(minutes=49, seconds=30)).isoformat()
    assert api.get(url("measurement"), {"until": until}).json()["count"] == 10


# --- Alerts ------------------------------------------------------------------------------------


def test_alert_list_filters(api, alert, system, other_system):
    assert api.get(url("monitoringalert"), {"status": "open"}).json()["count"] == 1
    assert api.get(url("monitoringalert"), {"status": "closed"}).json()["count"] == 0
    assert api.get(url("monitoringalert"), {"system": other_system.pk}).json()["count"] == 0
    row = api.get(url("monitoringalert", alert.pk)).json()
    assert (row["metric_key"], row["status"], row["system"]) == ("auc", "open", system.pk)


def test_acknowledge_and_close(api, alert, olivia):
    response = api.post(url("monitoringalert", alert.pk, "acknowledge"), {"note": "On it"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "acknowledged"
    assert response.json()["acknowledged_by"] == olivia.pk
    again = api.post(url("monitoringalert", alert.pk, "acknowledge"), {}, format="json")
    assert again.status_code == 400
    assert api.post(url("monitoringalert", alert.pk, "close"), {}, format="json").status_code == 400
    closed = api.post(url("monitoringalert", alert.pk, "close"), {"note": "Retrained"}, format="json")
    assert closed.status_code == 200 and closed.json()["close_note"] == "Retrained"


def test_owner_acts_only_on_alerts_of_own_systems(owner_api, acme, alert, other_system):
    theirs_metric = MetricDefinitionFactory(system=other_system)
    monitoring.measurements_ingest(organization=acme, items=[item(theirs_metric, 0.5)], acting_user=None)
    theirs = MonitoringAlert.objects.get(metric=theirs_metric)
    assert owner_api.post(url("monitoringalert", theirs.pk, "acknowledge"), {}, format="json").status_code == 403
    assert owner_api.post(url("monitoringalert", alert.pk, "acknowledge"), {}, format="json").status_code == 200


# --- Query counts ------------------------------------------------------------------------------


def _count_queries(client, path, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, params or {}).status_code == 200
    return len(queries)


def test_list_query_counts_do_not_grow_with_rows(api, acme, system):
    def grow(n):
        for i in range(n):
            metric = MetricDefinitionFactory(system=system, key=f"m{MetricDefinition.objects.count()}-{i}")
            monitoring.measurements_ingest(
                organization=acme, items=[item(metric, 0.5), item(metric, 0.6, 1)], acting_user=None
            )

    grow(1)
    _count_queries(api, url("metric"))  # the first request of a token also records its use
    few = [_count_queries(api, url(name)) for name in ("metric", "measurement", "monitoringalert")]
    grow(5)
    many = [_count_queries(api, url(name)) for name in ("metric", "measurement", "monitoringalert")]
    assert few == many
