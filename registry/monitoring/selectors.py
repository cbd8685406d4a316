"""Reads of performance monitoring (9.1, A.6.2.6) the pages, the API and the evidence pack share.

Metrics with their last measurement (:func:`metric_list`), measurements and alerts of an
organisation, a metric's chart series (:func:`metric_series`, aggregated in the database for
long ranges), a system's metric statuses (:func:`system_monitoring`) and the organisation's
overview (:func:`monitoring_overview`), each a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, F, Max, Min, OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from aims.models import Organization, User
from registry.models import AISystem
from registry.monitoring.models import (
    Measurement,
    MeasurementDaily,
    MeasurementHourly,
    MetricDefinition,
    MonitoringAlert,
)

# Bucket sizes tried, smallest first, when a range holds more points than a chart can show.
BUCKETS = (
    ("hour", timedelta(hours=1)),
    ("day", timedelta(days=1)),
    ("week", timedelta(weeks=1)),
    ("month", timedelta(days=31)),
)


# Charts of up to RAW_SPAN read the raw rows; longer ones read the roll-ups: the hourly table up to
# HOURLY_SPAN (at most 1,440 rows a metric), the daily one beyond (730 rows for two years).
RAW_SPAN = timedelta(days=2)
HOURLY_SPAN = timedelta(days=60)


def bucket_start(moment: datetime, size: str) -> datetime:
    """The start of the UTC hour or day holding ``moment`` (the roll-ups' buckets)."""
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if size == "day" else moment


def rollup_table(span: timedelta, bucket: str) -> type[MeasurementHourly] | type[MeasurementDaily]:
    """The roll-up a chart of ``span`` in buckets of ``bucket`` reads: hourly when it needs hours."""
    return MeasurementHourly if bucket == "hour" or span <= HOURLY_SPAN else MeasurementDaily


def rollup_rows(metric_ids: Iterable[int], start: datetime, end: datetime, bucket: str) -> QuerySet[Any]:
    """Values ``metric_id, t, n, total, low, high`` per metric and chart bucket, from the roll-ups.

    The buckets that start within the range are read, whole: the last one may hold points up
    to an hour (or a day) after ``end``, and the points before the first whole bucket are left
    out, so no point is drawn before the chart's start. A chart of days or weeks cannot show
    the difference.
    """
    model = rollup_table(end - start, bucket)
    size = "hour" if model is MeasurementHourly else "day"
    rows: QuerySet[Any] = model.objects.filter(metric_id__in=list(metric_ids), bucket__gte=start, bucket__lte=end)
    moment = F("bucket") if bucket == size else Trunc("bucket", bucket)
    summed: QuerySet[Any] = (
        rows.annotate(t=moment)
        .values("metric_id", "t")
        .annotate(n=Sum("count"), total=Sum("total"), low=Min("minimum"), high=Max("maximum"))
        .order_by("metric_id", "t")
    )
    return summed


def with_last_measurement(metrics: QuerySet[MetricDefinition]) -> QuerySet[MetricDefinition]:
    # A subquery per metric reads one row through the (metric, measured_at) index, however many there are.
    latest = Measurement.objects.filter(metric=OuterRef("pk")).order_by("-measured_at")
    return metrics.annotate(
        last_measured_at=Subquery(latest.values("measured_at")[:1]),
        last_value=Subquery(latest.values("value")[:1]),
    )


def is_stale(metric: MetricDefinition, now: datetime | None = None) -> bool:
    """Silent for longer than expected (since its last measurement, or its creation if it has none).

    ``metric`` must carry ``last_measured_at`` (see :func:`metric_list`).
    """
    if not metric.is_active:
        return False
    # Annotated by with_last_measurement (the stubs cannot know it).
    since: datetime = metric.last_measured_at or metric.created_at  # type: ignore[attr-defined]
    return since < (now or timezone.now()) - timedelta(minutes=metric.expected_every_minutes)


def metric_list(organization: Organization) -> QuerySet[MetricDefinition]:
    """The organisation's metrics with ``last_measured_at`` and ``last_value``, in one query."""
    return with_last_measurement(MetricDefinition.objects.for_org(organization).select_related("system"))


def measurement_list(organization: Organization) -> QuerySet[Measurement]:
    return Measurement.objects.for_org(organization).order_by("-measured_at", "-pk")


def alert_list(organization: Organization) -> QuerySet[MonitoringAlert]:
    return (
        MonitoringAlert.objects.for_org(organization)
        .select_related("metric", "system", "acknowledged_by")
        .order_by("-opened_at", "-pk")
    )


def metric_series(
    metric: MetricDefinition,
    start: datetime,
    end: datetime,
    max_points: int = 500,
    slice: str | None = None,
) -> dict[str, Any]:
    """Points of ``metric`` between ``start`` and ``end`` (inclusive) for a chart.

    Returns ``{"bucket": "raw" | "hour" | "day" | "week" | "month", "points": [{"t", "value",
    "min", "max", "count"}]}`` in time order. Up to ``max_points`` raw points are returned
    as they are; beyond that they are averaged (with min and max) in the database over the
    smallest bucket that gives at most about ``max_points`` rows. ``slice=None`` reads all
    slices. Two queries. A range longer than :data:`RAW_SPAN` over all slices is counted and
    averaged from the roll-ups (see :func:`rollup_rows`), so its cost does not grow with the
    number of raw points.
    """
    points = Measurement.objects.filter(metric=metric, measured_at__gte=start, measured_at__lte=end)
    if slice is not None:
        points = points.filter(slice=slice)
    span = end - start
    from_rollups = slice is None and span > RAW_SPAN
    if from_rollups:
        counted = rollup_table(span, "day").objects.filter(metric=metric, bucket__gte=start, bucket__lte=end)
        total = counted.aggregate(n=Sum("count"))["n"] or 0
    else:
        total = points.count()
    if total <= max_points:
        rows = points.order_by("measured_at").values_list("measured_at", "value")
        return {
            "bucket": "raw",
            "points": [{"t": t, "value": v, "min": v, "max": v, "count": 1} for t, v in rows],
        }
    bucket = next((name for name, size in BUCKETS if span / size <= max_points), BUCKETS[-1][0])
    if from_rollups:
        summed = rollup_rows([metric.pk], start, end, bucket)
        return {
            "bucket": bucket,
            "points": [
                {"t": r["t"], "value": r["total"] / r["n"], "min": r["low"], "max": r["high"], "count": r["n"]}
                for r in summed
            ],
        }
    rows = (
        points.annotate(t=Trunc("measured_at", bucket))
        .values("t")
        .annotate(mean=Avg("value"), low=Min("value"), high=Max("value"), n=Count("id"))
        .order_by("t")
        .values_list("t", "mean", "low", "high", "n")
    )
    return {
        "bucket": bucket,
        "points": [{"t": t, "value": v, "min": lo, "max": hi, "count": n} for t, v, lo, hi, n in rows],
    }


@dataclass(frozen=True)
class MetricStatus:
    """One metric as a monitoring screen shows it."""

    metric: MetricDefinition
    last_value: float | None
    last_measured_at: datetime | None
    stale: bool
    open_alert: MonitoringAlert | None

    @property
    def meets_target(self) -> bool | None:
        return None if self.last_value is None else self.metric.meets_target(self.last_value)

    @property
    def breaching(self) -> bool:
        return self.last_value is not None and self.metric.breaches(self.last_value)


def _statuses(metrics: QuerySet[MetricDefinition], now: datetime) -> list[MetricStatus]:
    metrics = metrics.prefetch_related(
        Prefetch("alerts", queryset=MonitoringAlert.objects.open().select_related("acknowledged_by"), to_attr="open")
    )
    return [
        MetricStatus(
            metric=m,
            last_value=m.last_value,  # type: ignore[attr-defined]  # annotated by with_last_measurement
            last_measured_at=m.last_measured_at,  # type: ignore[attr-defined]
            stale=is_stale(m, now),
            open_alert=m.open[0] if m.open else None,
        )
        for m in metrics
    ]


def system_monitoring(system: AISystem) -> list[MetricStatus]:
    """The system's metrics with their last value, stale flag and open alert; two queries."""
    metrics = metric_list(system.organization).filter(system=system).order_by("-is_active", "name")
    return _statuses(metrics, timezone.now())


def monitoring_overview(organization: Organization) -> dict[str, Any]:
    """What needs attention across the organisation, in three queries.

    ``{"systems_in_breach": [{"system", "open_alerts": [alerts]}], "stale_metrics":
    [MetricStatus], "open_alerts": [alerts], "metric_count": int}``.
    """
    statuses = _statuses(metric_list(organization).filter(is_active=True), timezone.now())
    alerts = list(alert_list(organization).filter(status__in=MonitoringAlert.OPEN_STATUSES))
    by_system: dict[int, dict[str, Any]] = {}
    for alert in alerts:
        by_system.setdefault(alert.system_id, {"system": alert.system, "open_alerts": []})["open_alerts"].append(alert)
    systems = sorted(by_system.values(), key=lambda row: row["system"].ref_code)
    return {
        "systems_in_breach": systems,
        "stale_metrics": [s for s in statuses if s.stale],
        "open_alerts": alerts,
        "metric_count": len(statuses),
    }


def systems_owned(organization: Organization, user: User | None) -> QuerySet[AISystem]:
    """The organisation's AI systems ``user`` owns (none of another organisation's, whatever they own there)."""
    return AISystem.objects.for_org(organization).filter(owner=user)
