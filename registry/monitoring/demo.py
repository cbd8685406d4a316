"""Demo monitoring: metrics on three demo systems with about four months of daily measurements.

The credit-scoring approval-rate gap between age groups went above its alert threshold for a
week; the alert was acknowledged with a note (audits' demo raises a corrective action from it). The gap
is better since but not yet back within target, so the alert stays acknowledged. The chatbot's
pipeline stopped sending three days ago: its metric is stale. Everything goes through the
services; running the seeder again adds nothing (a metric that has measurements is left alone).
"""

from __future__ import annotations

import math
import random
from datetime import timedelta

from django.utils import timezone

from registry.models import AISystem
from registry.monitoring import services as monitoring
from registry.monitoring.models import MetricDefinition, MonitoringAlert

DAYS = 120
BREACH_START, BREACH_END = 17, 10  # days ago: the fairness gap is above 0.08 in between
Kind, Direction = MetricDefinition.Kind, MetricDefinition.Direction

METRICS = [
    ("sys-credit", {"key": "auc", "name": "AUC on the weekly holdout", "kind": Kind.ACCURACY,
                    "direction": Direction.HIGHER, "target": 0.80, "alert_threshold": 0.75}),
    ("sys-credit", {"key": "approval_gap", "name": "Approval-rate gap between age groups",
                    "kind": Kind.FAIRNESS_GAP, "direction": Direction.LOWER, "target": 0.05, "alert_threshold": 0.08}),
    ("sys-chatbot", {"key": "hallucination_rate", "name": "Hallucination rate (sampled answers)",
                     "kind": Kind.ERROR_RATE, "unit": "%", "direction": Direction.LOWER, "target": 2.0,
                     "alert_threshold": 4.0}),
    ("sys-demand", {"key": "mape", "name": "Forecast error (MAPE)", "kind": Kind.ERROR_RATE, "unit": "%",
                    "direction": Direction.LOWER, "target": 10.0, "alert_threshold": 15.0}),
]  # fmt: skip


def _value(key: str, days_ago: int, rng: random.Random) -> float:
    """A realistic value: a level, a slow drift, weekly seasonality where it exists, bounded noise."""
    if key == "auc":
        return round(0.835 - 0.00008 * (DAYS - days_ago) + rng.uniform(-0.008, 0.008), 4)
    if key == "approval_gap":
        if BREACH_END <= days_ago <= BREACH_START:  # a shift in applicants after a marketing campaign
            return round(0.085 + 0.01 * math.sin((BREACH_START - days_ago) / 7 * math.pi) + rng.uniform(0, 0.004), 4)
        if days_ago < BREACH_END:  # better after the first correction, not yet back within target
            return round(0.062 + rng.uniform(-0.006, 0.006), 4)
        return round(0.038 + rng.uniform(-0.008, 0.008), 4)
    if key == "hallucination_rate":
        return round(max(0.2, 1.6 + rng.gauss(0, 0.35)), 2)
    # MAPE: worse at week-ends, when promotions are less predictable.
    return round(8.4 + 0.8 * math.sin(days_ago / 7 * 2 * math.pi) + rng.gauss(0, 0.7), 2)


def _metric(system: AISystem, fields: dict, user) -> MetricDefinition:
    metric = MetricDefinition.objects.for_org(system.organization).filter(system=system, key=fields["key"]).first()
    if metric is not None:
        return metric
    metric = MetricDefinition(organization=system.organization, system=system, **fields)
    return monitoring.metric_save(instance=metric, acting_user=user)


def monitoring_demo_seed(organization, users) -> None:
    officer = users["officer"]
    systems = {s.external_id: s for s in AISystem.objects.for_org(organization).filter(
        external_id__in={ext for ext, _ in METRICS})}  # fmt: skip
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for external_id, fields in METRICS:
        system = systems.get(external_id)
        if system is None:
            continue
        metric = _metric(system, fields, officer)
        if metric.measurements.exists():
            continue  # seeded already
        rng = random.Random(f"{organization.slug}-{metric.key}")  # noqa: S311 - demo noise, repeatable
        newest = 3 if metric.key == "hallucination_rate" else 0  # the chatbot's pipeline went quiet
        items = [
            {"metric": metric.pk, "measured_at": now - timedelta(days=ago), "value": _value(metric.key, ago, rng),
             "model_version": "2026.1"}
            for ago in range(DAYS, newest - 1, -1)
        ]  # fmt: skip
        if metric.key != "approval_gap":
            monitoring.measurements_ingest(organization=organization, items=items, acting_user=None)
            continue
        # Up to the end of the breach; then what people did about it; then the weeks after.
        split = DAYS - BREACH_END + 1
        monitoring.measurements_ingest(organization=organization, items=items[:split], acting_user=None)
        alert = MonitoringAlert.objects.open().filter(organization=organization, metric=metric).first()
        if alert is not None:
            monitoring.alert_acknowledge(
                alert=alert,
                acting_user=officer,
                note="Gap widened after the spring campaign brought in many younger applicants; "
                "reweighting the training data and reviewing refusals by age band.",
            )
        monitoring.measurements_ingest(organization=organization, items=items[split:], acting_user=None)
