"""Monitoring pages: the system tab with SVG charts, alert actions, overview, roles, tenancy, chart geometry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audits.models import Incident
from registry.monitoring import services as monitoring
from registry.monitoring.charts import build_chart, nice_step, value_scale
from registry.monitoring.models import Measurement, MetricDefinition, MonitoringAlert
from tests.registry.factories import AISystemFactory, MetricDefinitionFactory

NOW = timezone.now().replace(minute=0, second=0, microsecond=0)


class GapMetricFactory(MetricDefinitionFactory):
    """A lower-is-better fairness gap (target 5 %, alert above 8 %)."""

    key = "gap"
    name = "Approval gap"
    kind = MetricDefinition.Kind.FAIRNESS_GAP
    direction = MetricDefinition.Direction.LOWER
    target = 0.05
    alert_threshold = 0.08


def feed(metric, values, *, every=timedelta(days=1)):
    """Daily points ending now (the last value is the newest)."""
    items = [
        {"metric": metric.pk, "measured_at": NOW - every * (len(values) - 1 - i), "value": v}
        for i, v in enumerate(values)
    ]
    return monitoring.measurements_ingest(organization=metric.organization, items=items, acting_user=None)


@pytest.fixture
def system(acme, olivia):
    return AISystemFactory(organization=acme, owner=olivia, name="Consumer credit scoring")


@pytest.fixture
def breached(system):
    """A fairness gap that went beyond its threshold and is not back within target: an open alert."""
    metric = GapMetricFactory(system=system)
    feed(metric, [0.04] * 20 + [0.09, 0.095, 0.07])
    return metric, MonitoringAlert.objects.get(metric=metric)


# --- The tab -----------------------------------------------------------------------------------


def test_tab_renders_each_metric_with_an_svg_chart_and_reference_lines(login, olivia, system, breached):
    metric, alert = breached
    response = login(olivia).get(reverse("monitoring:system", args=[system.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-current="page">Monitoring</a>' in html
    assert "<svg" in html and 'class="series" d="M' in html
    assert 'class="target-line"' in html and 'class="threshold-line"' in html
    assert "Target 0.05" in html and "Alert 0.08" in html
    assert "Approval gap" in html and "Lower is better" in html and "Fairness gap between groups" in html
    assert f'id="alert-{alert.pk}"' in html
    for name in (
        "Acknowledge",
        "Close",
        "Raise incident",
        "Raise corrective action",
        "Add metric",
        "Record measurement",
    ):
        assert name in html, name
    # 23 daily points in the default 30 days; 7 days holds fewer.
    assert response.context["cards"][0]["chart"].count == 23
    week = login(olivia).get(reverse("monitoring:system", args=[system.pk]), {"period": "7d"})
    assert week.context["cards"][0]["chart"].count == 7


def test_period_links_are_plain_links_and_unknown_period_falls_back(login, olivia, system, breached):
    client = login(olivia)
    html = client.get(reverse("monitoring:system", args=[system.pk])).content.decode()
    for key in ("7d", "30d", "90d", "1y", "all"):
        assert f'href="?period={key}"' in html
    assert client.get(reverse("monitoring:system", args=[system.pk]), {"period": "bogus"}).context["period"] == "30d"
    everything = client.get(reverse("monitoring:system", args=[system.pk]), {"period": "all"})
    assert everything.context["cards"][0]["chart"].count == 23


def test_stale_metric_and_empty_chart(login, olivia, system):
    GapMetricFactory(system=system, key="auc", name="AUC", direction="higher", target=0.8, alert_threshold=0.75)
    MetricDefinition.objects.update(created_at=NOW - timedelta(days=3))
    html = login(olivia).get(reverse("monitoring:system", args=[system.pk])).content.decode()
    assert "Stale" in html and "No measurement in this period" in html and "no measurement yet" in html


def test_acknowledge_then_close(login, olivia, system, breached):
    metric, alert = breached
    client = login(olivia)
    url = lambda action: reverse("monitoring:alert_action", args=[alert.pk, action])  # noqa: E731
    response = client.post(url("acknowledge"), {"note": "Looking into the campaign cohort."})
    assert response.status_code == 302 and response.url == reverse("monitoring:system", args=[system.pk])
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_by == olivia
    assert alert.acknowledgement_note == "Looking into the campaign cohort."
    html = client.get(reverse("monitoring:system", args=[system.pk])).content.decode()
    assert "Looking into the campaign cohort." in html
    assert client.post(url("close"), {"note": "Reweighted; gap back under control."}).status_code == 302
    alert.refresh_from_db()
    assert alert.status == "closed" and alert.close_note == "Reweighted; gap back under control."


def test_close_needs_a_note_and_unknown_action_is_404(login, olivia, breached):
    _, alert = breached
    client = login(olivia)
    response = client.post(reverse("monitoring:alert_action", args=[alert.pk, "close"]), {"note": ""}, follow=True)
    assert "Say why the alert is closed." in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == "open"
    assert client.post(reverse("monitoring:alert_action", args=[alert.pk, "explode"])).status_code == 404


def test_add_a_metric_and_a_manual_measurement(login, olivia, system):
    client = login(olivia)
    data = {"name": "AUC", "key": "auc", "kind": "accuracy", "unit": "", "direction": "higher", "target": "0.8",
            "alert_threshold": "0.75", "expected_every_minutes": "1440"}  # fmt: skip
    assert client.post(reverse("monitoring:metric_create", args=[system.pk]), data).status_code == 302
    metric = MetricDefinition.objects.get(system=system)
    bad = client.post(reverse("monitoring:metric_create", args=[system.pk]), {**data, "key": "auc2", "target": "0.7",
                                                                         "alert_threshold": "0.9"})  # fmt: skip
    assert bad.status_code == 400 and "alert threshold must be at or below" in bad.content.decode()
    response = client.post(
        reverse("monitoring:measurement_create", args=[system.pk]), {"metric": metric.pk, "value": "0.7"}
    )
    assert response.status_code == 302
    assert Measurement.objects.get().source == "manual"
    assert MonitoringAlert.objects.get(metric=metric).first_value == 0.7


def test_overview_lists_systems_in_breach_stale_metrics_and_open_alerts(login, victor, acme, system, breached):
    quiet = AISystemFactory(organization=acme, name="Demand forecasting")
    stale = GapMetricFactory(system=quiet, key="mape", name="MAPE", target=10, alert_threshold=15)
    item = {"metric": stale.pk, "measured_at": NOW - timedelta(days=5), "value": 8.0}
    monitoring.measurements_ingest(organization=acme, items=[item], acting_user=None)
    response = login(victor).get(reverse("monitoring:overview"))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("monitoring:system", args=[system.pk]) in html and "Consumer credit scoring" in html
    assert "MAPE" in html and f"#metric-{stale.pk}" in html
    overview = response.context["overview"]
    assert [row["system"] for row in overview["systems_in_breach"]] == [system]
    assert [s.metric for s in overview["stale_metrics"]] == [stale]
    assert len(overview["open_alerts"]) == 1
    assert 'aria-current="page">Monitoring</a>' in html  # the sidebar entry


def test_dashboard_shows_monitoring_tiles(login, olivia, breached):
    html = login(olivia).get(reverse("dashboard")).content.decode()
    assert "Systems in breach" in html and "Stale metrics" in html and "Open alerts" in html


# --- Roles and tenancy -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["victor", "bob"])
def test_read_only_roles_see_charts_but_every_post_is_403(request, login, persona, system, breached):
    metric, alert = breached
    client = login(request.getfixturevalue(persona))
    response = client.get(reverse("monitoring:system", args=[system.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and f'id="alert-{alert.pk}"' in html
    assert "Acknowledge</button>" not in html and "Add metric" not in html
    posts = [
        (reverse("monitoring:alert_action", args=[alert.pk, action]), {"note": "x", "owner": system.owner_id})
        for action in ("acknowledge", "close")
    ]
    posts += [
        (
            reverse("monitoring:metric_create", args=[system.pk]),
            {"name": "x", "key": "x", "target": 1, "alert_threshold": 1},
        ),
        (reverse("monitoring:measurement_create", args=[system.pk]), {"metric": metric.pk, "value": 1}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    alert.refresh_from_db()
    assert alert.status == "open" and not Incident.objects.exists() and MetricDefinition.objects.count() == 1


def test_an_owner_changes_only_the_monitoring_of_own_systems(login, acme, breached):
    from aims.roles import Role
    from tests.aims.factories import MembershipFactory

    _, alert = breached
    owner = MembershipFactory(organization=acme, role=Role.OWNER).user
    response = login(owner).post(reverse("monitoring:alert_action", args=[alert.pk, "acknowledge"]), {"note": "x"})
    assert response.status_code == 403


def test_another_organisations_monitoring_is_404(login, charlie, system, breached):
    metric, alert = breached
    client = login(charlie)
    assert client.get(reverse("monitoring:system", args=[system.pk])).status_code == 404
    for action in ("acknowledge", "close"):
        response = client.post(reverse("monitoring:alert_action", args=[alert.pk, action]), {"note": "x"})
        assert response.status_code == 404, action
    assert client.post(reverse("monitoring:metric_create", args=[system.pk]), {"name": "x"}).status_code == 404
    response = client.post(
        reverse("monitoring:measurement_create", args=[system.pk]), {"metric": metric.pk, "value": 1}
    )
    assert response.status_code == 404
    assert "Consumer credit scoring" not in client.get(reverse("monitoring:overview")).content.decode()
    alert.refresh_from_db()
    assert alert.status == "open"


# --- Query count -------------------------------------------------------------------------------


def test_tab_query_count_does_not_grow_with_the_number_of_metrics(login, olivia, system):
    client = login(olivia)
    url = reverse("monitoring:system", args=[system.pk])

    def count():
        client.get(url)  # warm up (session, sites)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    first = GapMetricFactory(system=system, key="m0")
    feed(first, [0.04, 0.09, 0.07])
    one = count()
    for i in range(1, 5):
        feed(GapMetricFactory(system=system, key=f"m{i}"), [0.04, 0.09, 0.07])
    assert MonitoringAlert.objects.count() == 5
    assert count() == one


# --- Chart geometry ----------------------------------------------------------------------------

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_nice_steps_and_value_scale_hold_every_value():
    assert nice_step(1.0) == 0.25 and nice_step(10) == 2.5 and nice_step(0.03) == 0.01
    low, high, step = value_scale([0.76, 0.84, 0.80, 0.75])
    assert low <= 0.75 and high >= 0.84 and step > 0
    assert round(low / step, 6).is_integer() and round(high / step, 6).is_integer()
    assert value_scale([]) == (0.0, 1.0, 0.25)
    flat_low, flat_high, _ = value_scale([5.0])
    assert flat_low < 5.0 < flat_high


def test_chart_scales_points_into_the_plot_with_target_and_threshold_lines():
    points = [(T0 + timedelta(days=i), v) for i, v in enumerate([0.04, 0.06, 0.09, 0.05])]
    chart = build_chart(points, target=0.05, threshold=0.08, direction="lower", start=T0, end=T0 + timedelta(days=3))
    assert chart.count == 4 and not chart.empty
    assert chart.path.startswith(f"M{chart.left:g},") and chart.path.count("L") == 3
    assert chart.path.split()[-1].startswith(f"L{chart.right:g},")  # last point at the end of the axis
    xs = [float(p[1:].split(",")[0]) for p in chart.path.split()]
    ys = [float(p[1:].split(",")[1]) for p in chart.path.split()]
    assert xs == sorted(xs) and all(chart.top <= y <= chart.bottom for y in ys)
    assert ys[2] == min(ys)  # the highest value is drawn highest (SVG y grows downwards)
    assert chart.target.value == 0.05 and chart.threshold.value == 0.08
    assert chart.threshold.y < chart.target.y  # 0.08 above 0.05
    assert chart.top <= chart.threshold.y <= chart.bottom and chart.top <= chart.target.y <= chart.bottom
    assert chart.breaches == [(xs[2], ys[2])]
    assert chart.y_ticks[0].pos == chart.bottom and chart.y_ticks[-1].pos == chart.top
    assert chart.x_ticks[0].label == "1 Mar" and chart.x_ticks[0].pos == chart.left


def test_higher_is_better_breaches_are_below_the_threshold():
    points = [(T0, 0.82), (T0 + timedelta(hours=1), 0.70)]
    chart = build_chart(points, target=0.8, threshold=0.75, direction="higher")
    assert len(chart.breaches) == 1 and chart.breaches[0] == chart.last
    assert chart.x_ticks[0].label == "00:00"  # a short span is labelled by the hour


def test_empty_series_still_has_axes_and_reference_lines():
    chart = build_chart([], target=0.05, threshold=0.08, start=T0, end=T0 + timedelta(days=365))
    assert chart.empty and chart.path == "" and chart.last is None and chart.breaches == []
    assert chart.target is not None and chart.threshold is not None and chart.y_ticks
    assert chart.x_ticks[0].label == "Mar 2026"
    assert build_chart([]).y_ticks  # nothing at all: a default axis, no error


# --- Evidence pack section ---------------------------------------------------------------------


def test_pack_section_shows_charts_breaches_and_what_was_done_in_fixed_queries(acme, olivia, system, breached):
    from django.template.loader import render_to_string

    from audits.improvement.services import incident_raise_from_alert
    from audits.models import EvidencePack
    from audits.packs.sections_monitoring import monitoring_data

    metric, alert = breached
    monitoring.alert_acknowledge(alert=alert, acting_user=olivia, note="Checking the new cohort.")
    incident = incident_raise_from_alert(alert=alert, acting_user=olivia)
    today = timezone.localdate()
    pack = EvidencePack(organization=acme, period_start=today - timedelta(days=90), period_end=today)

    def collect():
        with CaptureQueriesContext(connection) as ctx:
            context, records = monitoring_data(pack)
        return context, records, len(ctx.captured_queries)

    context, records, queries = collect()
    html = render_to_string("pdf/sections/monitoring.html", {"data": context, "pack": pack})
    assert system.ref_code in html and "Approval gap" in html and "<svg" in html and 'class="series"' in html
    assert "Checking the new cohort." in html and incident.ref_code in html
    assert {r.type for r in records} == {"registry.MetricDefinition", "registry.MonitoringAlert"}
    other = AISystemFactory(organization=acme, name="Chatbot")
    feed(GapMetricFactory(system=other, key="halluc", target=2, alert_threshold=4), [1.0, 5.0])
    context, _, more = collect()
    assert len(context["systems"]) == 2 and more == queries
    # A system pack holds that system only; a pack without metrics still says so.
    pack.scope, pack.system = EvidencePack.Scope.SYSTEM, other
    assert [row["system"] for row in monitoring_data(pack)[0]["systems"]] == [other]
    empty = EvidencePack(organization=AISystemFactory().organization, period_start=today, period_end=today)
    assert "No metric" in render_to_string("pdf/sections/monitoring.html", {"data": monitoring_data(empty)[0]})
