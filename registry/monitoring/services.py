"""Writes of performance monitoring (9.1, A.6.2.6): metric definitions, measurement ingest, alerts.

Every service is keyword-only, runs in one transaction and records who acted
(django-simple-history reads ``_history_user``). Measurements are write-once facts without
history; a batch is validated as a whole before anything is stored (all or nothing) and
stored idempotently (a point already stored is reported as a duplicate, never twice).

Alerts follow the measurements: a value beyond the metric's alert threshold opens an alert,
or updates the one already open or acknowledged; when the latest value is back within the
target the alert closes by itself. :func:`monitoring_check` (run by Celery beat) e-mails
new breaches once per alert and silent metrics once per stale episode.

The reads live in :mod:`registry.monitoring.selectors`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Count, Max, Min, QuerySet, Sum
from django.db.models.functions import Trunc
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from aims.i18n import recipient_language
from aims.links import absolute_url
from aims.models import Organization, User
from aims.records import record_delete, record_save
from aims.selectors import reminder_recipients
from aims.summaries import MEASUREMENTS, summaries_changed
from registry.models import AISystem
from registry.monitoring.models import (
    Measurement,
    MeasurementDaily,
    MeasurementHourly,
    MetricDefinition,
    MonitoringAlert,
)
from registry.monitoring.selectors import bucket_start, is_stale, with_last_measurement

logger = logging.getLogger(__name__)

INGEST_MAX_ITEMS = 5000
# Cached pages that show measurements name this scope; new measurements move only it on.
MEASUREMENTS_SCOPE = MEASUREMENTS
# Clocks of pipelines drift a little; anything later than this is a mistake (e.g. local time sent as UTC).
FUTURE_TOLERANCE = timedelta(minutes=5)
AlertStatus = MonitoringAlert.Status


# --- Metric definitions ------------------------------------------------------------------------


@transaction.atomic
def metric_save(*, instance: MetricDefinition, acting_user: User | None) -> MetricDefinition:
    """Create or update a metric definition.

    Refused: a system of another organisation, an alert threshold on the good side of the
    target (it must be equal to the target or worse), and a key already used by another
    metric of the same system.
    """
    errors: dict[str, str] = {}
    if instance.system_id and instance.system.organization_id != instance.organization_id:
        errors["system"] = gettext("Choose one of your organisation's AI systems.")
    for name in ("target", "alert_threshold"):
        value = getattr(instance, name)
        if value is not None and not math.isfinite(value):
            errors[name] = gettext("Give a finite number.")
    if not errors and instance.target is not None and instance.alert_threshold is not None:
        if instance.direction == MetricDefinition.Direction.HIGHER and instance.alert_threshold > instance.target:
            errors["alert_threshold"] = gettext(
                "Higher is better: the alert threshold must be at or below the target "
                "(%(target)s), otherwise a value that meets the target would raise an alert."
            ) % {"target": f"{instance.target:g}"}
        if instance.direction == MetricDefinition.Direction.LOWER and instance.alert_threshold < instance.target:
            errors["alert_threshold"] = gettext(
                "Lower is better: the alert threshold must be at or above the target "
                "(%(target)s), otherwise a value that meets the target would raise an alert."
            ) % {"target": f"{instance.target:g}"}
    if instance.system_id and instance.key:
        others = MetricDefinition.objects.filter(system_id=instance.system_id, key=instance.key)
        if others.exclude(pk=instance.pk).exists():
            errors["key"] = gettext("This system already has a metric with the key “%(key)s”.") % {"key": instance.key}
    if errors:
        raise ValidationError(errors)
    return record_save(instance, acting_user=acting_user)


@transaction.atomic
def metric_delete(*, metric: MetricDefinition, acting_user: User | None) -> None:
    """Delete a metric with its measurements and alerts (deactivate it instead to keep the record)."""
    record_delete(metric, acting_user=acting_user)


# --- Measurements ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestResult:
    created: int
    duplicates: int
    alerts_opened: int
    alerts_updated: int
    alerts_closed: int


class IngestInvalid(ValidationError):
    """A batch with invalid items; ``item_errors`` is ``[{"index": i, "errors": {field: [msg]}}]``."""

    def __init__(self, item_errors: list[dict[str, Any]], total: int):
        self.item_errors = item_errors
        super().__init__(f"{len(item_errors)} of {total} items are invalid; nothing was stored.")


def _parse_time(value: Any, now: datetime) -> tuple[datetime | None, str | None]:
    moment: datetime | None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = parse_datetime(value.strip())
        except ValueError:
            moment = None
        if moment is None:
            return None, "Give an ISO 8601 date and time, e.g. 2026-05-01T10:00:00Z."
    else:
        return None, "Give an ISO 8601 date and time, e.g. 2026-05-01T10:00:00Z."
    if moment is None:  # not reached: parse_datetime's None is answered above
        return None, "Give an ISO 8601 date and time, e.g. 2026-05-01T10:00:00Z."
    if timezone.is_naive(moment):
        return None, "Give the time zone too, e.g. 2026-05-01T10:00:00Z or +02:00."
    if moment > now + FUTURE_TOLERANCE:
        return None, gettext("This time is in the future: measurements are recorded once they are taken.")
    return moment.astimezone(UTC), None


def _parse_value(value: Any) -> tuple[float | None, str | None]:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None, "Give a number."
    try:
        number = float(value)
    except ValueError:
        return None, "Give a number."
    if not math.isfinite(number):
        return None, "Give a finite number (not NaN or infinity)."
    return number, None


def _text(item: dict[str, Any], name: str, max_length: int, errors: dict[str, list[str]]) -> str:
    value = item.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = ["Give a text."]
        return ""
    if len(value.strip()) > max_length:
        errors[name] = [f"At most {max_length} characters."]
    return value.strip()


def _resolve_metrics(
    organization: Organization, items: list[Any], systems: QuerySet[AISystem] | None
) -> tuple[dict[int, MetricDefinition], dict[tuple[object, object], MetricDefinition]]:
    """The organisation's metrics the batch names: by id, and by (system ref_code, key); two queries."""
    ids: set[int] = set()
    refs: set[tuple[str, str]] = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        metric = item.get("metric")
        if isinstance(metric, int) and not isinstance(metric, bool):
            ids.add(metric)
        elif isinstance(item.get("system"), str) and isinstance(item.get("metric_key"), str):
            refs.add((item["system"], item["metric_key"]))
    metrics: QuerySet[MetricDefinition] = MetricDefinition.objects.for_org(organization).select_related("system")
    if systems is not None:
        metrics = metrics.filter(system__in=systems)
    by_id = {m.pk: m for m in metrics.filter(pk__in=ids)} if ids else {}
    by_ref: dict[tuple[object, object], MetricDefinition] = {}
    if refs:
        wanted = metrics.filter(system__ref_code__in={r for r, _ in refs}, key__in={k for _, k in refs})
        by_ref = {(m.system.ref_code, m.key): m for m in wanted}
    return by_id, by_ref


def _validate_items(
    organization: Organization, items: list[Any], now: datetime, systems: QuerySet[AISystem] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every item checked before anything is stored; returns the clean rows or the item errors."""
    by_id, by_ref = _resolve_metrics(organization, items, systems)
    where = "in your organisation" if systems is None else "on the AI systems you own"
    rows: list[dict[str, Any]] = []
    item_errors: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for index, item in enumerate(items):
        errors: dict[str, list[str]] = {}
        if not isinstance(item, dict):
            item_errors.append({"index": index, "errors": {"non_field_errors": ["Each item must be a JSON object."]}})
            continue
        metric = None
        if item.get("metric") is not None:
            metric = by_id.get(item["metric"]) if isinstance(item["metric"], int) else None
            if metric is None:
                errors["metric"] = [f"No metric with id {item['metric']!r} {where}."]
        elif item.get("system") is not None or item.get("metric_key") is not None:
            metric = by_ref.get((item.get("system"), item.get("metric_key")))
            if metric is None:
                errors["metric_key"] = [
                    f"No metric {item.get('metric_key')!r} on system {item.get('system')!r} {where}."
                ]
        else:
            errors["metric"] = ["Give the metric id, or the system reference and the metric_key."]
        measured_at, problem = _parse_time(item.get("measured_at"), now)
        if problem:
            errors["measured_at"] = [problem]
        value, problem = _parse_value(item.get("value"))
        if problem:
            errors["value"] = [problem]
        texts = {
            name: _text(item, name, size, errors)
            for name, size in (("slice", 100), ("model_version", 60), ("note", 300))
        }
        if metric is not None and measured_at is not None:
            key = (metric.pk, measured_at, texts["slice"])
            if key in seen:
                errors["measured_at"] = [f"Item {seen[key]} has the same metric, time and slice."]
            seen.setdefault(key, index)
        if errors:
            item_errors.append({"index": index, "errors": errors})
        else:
            rows.append({"metric": metric, "measured_at": measured_at, "value": value, **texts})
    return rows, item_errors


@transaction.atomic
def measurements_ingest(
    *,
    organization: Organization,
    items: list[Any],
    acting_user: User | None,
    source: str = MetricDefinition.Source.PIPELINE,
    systems: QuerySet[AISystem] | None = None,
) -> IngestResult:
    """Store a batch of measurements and update the alerts of the metrics it concerns.

    ``items`` are dicts: ``metric`` (id) or ``system`` (reference) and ``metric_key``;
    ``measured_at`` (ISO 8601 with a time zone, at most 5 minutes ahead); ``value`` (a finite
    number); optional ``slice``, ``model_version``, ``note``. ``systems``, when given, restricts
    the metrics accepted to those systems (an AI system owner records only their own). Every item is validated first;
    any error raises :class:`IngestInvalid` (a ValidationError) and nothing is stored. A
    point already stored (same metric, time and slice) is a duplicate: it is not stored
    again and does not count towards alerts, so sending a batch twice is harmless.
    """
    if not isinstance(items, list) or not items:
        raise ValidationError({"items": "Send a non-empty list of measurements."})
    if len(items) > INGEST_MAX_ITEMS:
        raise ValidationError(
            {"items": f"Send at most {INGEST_MAX_ITEMS} measurements per batch (got {len(items)}); split it."}
        )
    rows, item_errors = _validate_items(organization, items, timezone.now(), systems)
    if item_errors:
        raise IngestInvalid(item_errors, len(items))

    # Sorted so that two batches with common points take the unique-index locks in one order.
    rows.sort(key=lambda row: (row["metric"].pk, row["measured_at"], row["slice"]))
    inserted = _insert_new_points(
        [
            Measurement(
                organization=organization,
                metric=row["metric"],
                measured_at=row["measured_at"],
                value=row["value"],
                slice=row["slice"],
                model_version=row["model_version"],
                source=source,
                note=row["note"],
                recorded_by=acting_user,
            )
            for row in rows
        ]
    )
    new = [row for row in rows if (row["metric"].pk, row["measured_at"], row["slice"]) in inserted]
    if new:
        # The metrics are locked before their buckets change, as a rebuild locks them: one waits for the other.
        _lock_metrics({row["metric"].pk for row in new})
        _rollups_add(organization, new)
        # A measurement ends a stale episode: the next silence is told about again.
        MetricDefinition.objects.filter(
            pk__in={row["metric"].pk for row in new}, stale_notified_at__isnull=False
        ).update(stale_notified_at=None)
        summaries_changed(organization.pk, MEASUREMENTS_SCOPE, content=False)
    opened, updated, closed = _alerts_evaluate(new, acting_user)
    return IngestResult(
        created=len(new),
        duplicates=len(rows) - len(new),
        alerts_opened=opened,
        alerts_updated=updated,
        alerts_closed=closed,
    )


def _insert_new_points(points: list[Measurement]) -> set[tuple[int, datetime, str]]:
    """Insert the points not stored yet; return the (metric, time, slice) of those this call stored.

    The database decides what is new (``INSERT ... ON CONFLICT DO NOTHING RETURNING``), not a
    read beforehand: a batch sent twice at the same moment then stores each point once and
    exactly one of the two reports it as created. Django's ``bulk_create(ignore_conflicts=True)``
    does not tell which rows it inserted, hence the SQL; PostgreSQL and SQLite both speak it.
    """
    fields = [field for field in Measurement._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    table = quote(Measurement._meta.db_table)
    columns = ", ".join(quote(field.column or "") for field in fields)
    # The columns of the unique constraint measurement_unique_point.
    conflict = ", ".join(quote(column) for column in ("metric_id", "measured_at", "slice"))
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    on_conflict = f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {quote('id')}"
    batch = max(1, min(1000, connection.ops.bulk_batch_size(fields, points)))
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(points), batch):
            chunk = points[start : start + batch]
            params = [
                field.get_db_prep_save(field.pre_save(point, True), connection) for point in chunk for field in fields
            ]
            # Table and column names come from the model; every value is a bound parameter.
            values = ", ".join([row_sql] * len(chunk))
            sql = f"INSERT INTO {table} ({columns}) VALUES {values} {on_conflict}"  # noqa: S608
            cursor.execute(sql, params)
            ids.extend(row[0] for row in cursor.fetchall())
    stored = Measurement.objects.filter(pk__in=ids).values_list("metric_id", "measured_at", "slice")
    return {(metric_id, moment.astimezone(UTC), slice_) for metric_id, moment, slice_ in stored}


def _lock_metrics(metric_ids: set[int]) -> None:
    """Lock the metrics' rows in primary-key order (one order for every batch: no deadlock)."""
    list(MetricDefinition.objects.select_for_update().filter(pk__in=metric_ids).order_by("pk").values_list("pk"))


def _alerts_evaluate(rows: list[dict[str, Any]], acting_user: User | None) -> tuple[int, int, int]:
    """Open, update or close each metric's alert from its new points, in time order."""
    by_metric: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_metric.setdefault(row["metric"].pk, []).append(row)
    # The metrics are locked first: two batches evaluating the same metric at once would
    # otherwise each open an alert (no open alert to lock yet) or count on a stale copy.
    _lock_metrics(set(by_metric))
    alerts = {
        a.metric_id: a for a in MonitoringAlert.objects.open().select_for_update().filter(metric_id__in=by_metric)
    }
    opened = updated = closed = 0
    for metric_id, points in by_metric.items():
        metric = points[0]["metric"]
        points.sort(key=lambda row: row["measured_at"])
        alert: MonitoringAlert | None = alerts.get(metric_id)
        was_open, changed = alert is not None, False
        for point in points:
            value, moment = point["value"], point["measured_at"]
            if not metric.breaches(value):
                continue
            if alert is None:
                alert = MonitoringAlert(
                    organization_id=metric.organization_id,
                    metric=metric,
                    system_id=metric.system_id,
                    opened_at=moment,
                    first_value=value,
                    worst_value=value,
                    last_value=value,
                    last_breach_at=moment,
                    breach_count=0,
                )
                opened += 1
            alert.breach_count += 1
            worse = (
                value < alert.worst_value if metric.direction == metric.Direction.HIGHER else value > alert.worst_value
            )
            if worse:
                alert.worst_value = value
            if moment >= alert.last_breach_at:
                alert.last_breach_at, alert.last_value = moment, value
            changed = True
        latest = points[-1]
        if alert is not None and metric.meets_target(latest["value"]) and latest["measured_at"] > alert.last_breach_at:
            alert.status, alert.closed_at = AlertStatus.CLOSED, timezone.now()
            alert.last_value = latest["value"]
            alert.close_note = (
                f"Closed automatically: {latest['value']:g} measured at {latest['measured_at']:%Y-%m-%d %H:%M} UTC "
                f"meets the target ({metric.target:g})."
            )
            closed += 1
            changed = True
        if changed and alert is not None:
            updated += was_open and alert.status != AlertStatus.CLOSED
            record_save(alert, acting_user=acting_user)
    return opened, updated, closed


def measurement_add(
    *,
    metric: MetricDefinition,
    value: float,
    acting_user: User | None,
    measured_at: datetime | None = None,
    slice: str = "",
    model_version: str = "",
    note: str = "",
) -> IngestResult:
    """Record one measurement entered by hand; the same rules as a pipeline batch of one."""
    item = {
        "metric": metric.pk,
        "measured_at": measured_at or timezone.now(),
        "value": value,
        "slice": slice,
        "model_version": model_version,
        "note": note,
    }
    try:
        return measurements_ingest(
            organization=metric.organization,
            items=[item],
            acting_user=acting_user,
            source=MetricDefinition.Source.MANUAL,
        )
    except IngestInvalid as exc:
        raise ValidationError(exc.item_errors[0]["errors"]) from exc


# --- Roll-ups ----------------------------------------------------------------------------------

# Any: the two tables share their fields through an abstract model, which has no manager to type.
ROLLUPS: tuple[tuple[Any, str], ...] = (
    (MeasurementHourly, "hour"),
    (MeasurementDaily, "day"),
)


def _rollups_add(organization: Organization, rows: list[dict[str, Any]]) -> None:
    """Add exactly the points this batch stored to their hourly and daily buckets.

    One ``INSERT ... ON CONFLICT DO UPDATE`` per table adds to a bucket that exists and creates
    one that does not. The database applies each addition to the latest committed bucket row
    (it waits for a concurrent batch's lock on that row), so concurrent batches never lose one
    another's points; buckets are written in one sorted order so two batches cannot deadlock.
    PostgreSQL and SQLite both speak this upsert.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    for model, size in ROLLUPS:
        buckets: dict[tuple[int, datetime], list[float]] = {}
        for row in rows:
            key = (row["metric"].pk, bucket_start(row["measured_at"], size))
            count, total, low, high = buckets.get(key, (0, 0.0, row["value"], row["value"]))
            buckets[key] = [count + 1, total + row["value"], min(low, row["value"]), max(high, row["value"])]
        field = model._meta.get_field("bucket")
        table = quote(model._meta.db_table)
        upsert = (
            f"ON CONFLICT (metric_id, bucket) DO UPDATE SET "
            f"count = {table}.count + excluded.count, total = {table}.total + excluded.total, "
            f"minimum = CASE WHEN excluded.minimum < {table}.minimum THEN excluded.minimum ELSE {table}.minimum END, "
            f"maximum = CASE WHEN excluded.maximum > {table}.maximum THEN excluded.maximum ELSE {table}.maximum END"
        )
        ordered = sorted(buckets.items())
        # 1,000 buckets (7,000 parameters) a statement stays below SQLite's limit on bound parameters.
        for start in range(0, len(ordered), 1000):
            chunk = ordered[start : start + 1000]
            params: list[Any] = []
            for (metric_id, moment), (count, total, low, high) in chunk:
                prepared = field.get_db_prep_save(moment, connection)
                params += [organization.pk, metric_id, prepared, count, total, low, high]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            # Table and column names come from the model; every value is a bound parameter.
            sql = (
                f"INSERT INTO {table} (organization_id, metric_id, bucket, count, total, minimum, maximum) "  # noqa: S608
                f"VALUES {values} {upsert}"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, params)


@transaction.atomic
def measurement_rollups_rebuild(
    *, metric_ids: list[int] | None = None, start: datetime | None = None, end: datetime | None = None
) -> int:
    """Recompute the roll-ups of ``metric_ids`` (every metric when None) from the raw rows.

    ``start``/``end`` limit the work to the whole UTC days holding them (both open when None).
    The backfill after a migration, and the repair after raw rows were removed. Returns the
    number of hourly buckets written. The metrics are locked first, so an ingest of the same
    metrics waits instead of adding to a bucket being rebuilt.
    """
    metrics = MetricDefinition.objects.all()
    if metric_ids is not None:
        metrics = metrics.filter(pk__in=metric_ids)
    _lock_metrics(set(metrics.values_list("pk", flat=True)))
    raw = Measurement.objects.all() if metric_ids is None else Measurement.objects.filter(metric_id__in=metric_ids)
    if start is not None:
        start = bucket_start(start, "day")
        raw = raw.filter(measured_at__gte=start)
    if end is not None:
        end = bucket_start(end, "day") + timedelta(days=1)
        raw = raw.filter(measured_at__lt=end)
    written = 0
    for model, size in ROLLUPS:
        stale = model.objects.all() if metric_ids is None else model.objects.filter(metric_id__in=metric_ids)
        if start is not None:
            stale = stale.filter(bucket__gte=start)
        if end is not None:
            stale = stale.filter(bucket__lt=end)
        stale.delete()
        groups = (
            raw.annotate(t=Trunc("measured_at", size, tzinfo=UTC))
            .values("organization_id", "metric_id", "t")
            .annotate(n=Count("id"), total=Sum("value"), low=Min("value"), high=Max("value"))
            .order_by()
        )
        batch: list[Any] = []
        for group in groups.iterator(chunk_size=5000):
            batch.append(
                model(
                    organization_id=group["organization_id"],
                    metric_id=group["metric_id"],
                    bucket=group["t"],
                    count=group["n"],
                    total=group["total"],
                    minimum=group["low"],
                    maximum=group["high"],
                )
            )
            if len(batch) >= 5000:
                model.objects.bulk_create(batch)
                written += len(batch) if size == "hour" else 0
                batch = []
        model.objects.bulk_create(batch)
        written += len(batch) if size == "hour" else 0
    return written


@transaction.atomic
def measurements_delete(*, metric: MetricDefinition, start: datetime, end: datetime, acting_user: User | None) -> int:
    """Delete ``metric``'s raw measurements from ``start`` to ``end`` (inclusive); returns how many.

    The rule for removed measurements: the roll-ups always equal the aggregate of the raw rows
    that remain, so the buckets of the days touched are rebuilt in the same transaction (a
    chart never shows a point that is gone). A metric deleted as a whole takes its measurements
    and roll-ups with it (cascade).
    """
    _lock_metrics({metric.pk})
    deleted, _ = Measurement.objects.filter(metric=metric, measured_at__gte=start, measured_at__lte=end).delete()
    if deleted:
        measurement_rollups_rebuild(metric_ids=[metric.pk], start=start, end=end)
        summaries_changed(metric.organization_id, MEASUREMENTS_SCOPE, content=False)
        logger.info("%s deleted %s measurements of metric #%s.", acting_user, deleted, metric.pk)
    return deleted


# --- Alerts ------------------------------------------------------------------------------------


def _locked_alert(alert: MonitoringAlert) -> MonitoringAlert:
    locked: MonitoringAlert = (
        MonitoringAlert.objects.select_for_update().select_related("metric", "system").get(pk=alert.pk)
    )
    return locked


@transaction.atomic
def alert_acknowledge(*, alert: MonitoringAlert, acting_user: User, note: str = "") -> MonitoringAlert:
    """Someone looks into an open alert; it stays open (later breaches still update it) until closed."""
    alert = _locked_alert(alert)
    if alert.status != AlertStatus.OPEN:
        raise ValidationError(
            gettext("Only an open alert can be acknowledged; this one is %(status)s.")
            % {"status": alert.get_status_display()}
        )
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.acknowledged_by, alert.acknowledged_at = acting_user, timezone.now()
    alert.acknowledgement_note = note.strip()
    return record_save(alert, acting_user=acting_user)


@transaction.atomic
def alert_close(*, alert: MonitoringAlert, acting_user: User, note: str) -> MonitoringAlert:
    """Close an open or acknowledged alert by hand; the note says why (the record of the decision)."""
    alert = _locked_alert(alert)
    if alert.status == AlertStatus.CLOSED:
        raise ValidationError(gettext("This alert is closed already."))
    if not note.strip():
        raise ValidationError({"note": gettext("Say why the alert is closed.")})
    alert.status, alert.closed_at, alert.close_note = AlertStatus.CLOSED, timezone.now(), note.strip()
    return record_save(alert, acting_user=acting_user)


# --- Notifications -----------------------------------------------------------------------------


def _send_once(claim: QuerySet[Any], field: str, now: datetime, recipients: list[str], subject: str, body: str) -> bool:
    """Claim the row (``field`` still empty) and send in one transaction: a failed send is retried next run."""
    with transaction.atomic():
        if not claim.filter(**{f"{field}__isnull": True}).update(**{field: now}):
            return False  # another run told already
        send_mail(subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=recipients)
    return True


def _addressees(system: AISystem, people: dict[int, Any]) -> tuple[list[str], bool]:
    members, fallback = people[system.organization_id]
    owner_email = members.get(system.owner_id)
    return ([owner_email], True) if owner_email else (fallback, False)


def monitoring_check(*, now: datetime | None = None) -> dict[str, int]:
    """Tell the system owners (or the admins and officers) about silent metrics and new breaches.

    A stale metric is told about once per silence (``stale_notified_at``, cleared by the next
    measurement); an alert once (``notified_at``), while it is still open. Safe to run twice
    or concurrently. Returns ``{"stale": …, "stale_notified": …, "breaches_notified": …}``.
    """
    now = now or timezone.now()
    metrics = with_last_measurement(MetricDefinition.objects.filter(is_active=True)).select_related(
        "system", "organization"
    )
    stale = [m for m in metrics if is_stale(m, now)]
    alerts = list(
        MonitoringAlert.objects.filter(status=AlertStatus.OPEN, notified_at__isnull=True).select_related(
            "metric", "system", "organization"
        )
    )
    people = reminder_recipients({m.organization_id for m in stale} | {a.organization_id for a in alerts})
    counts = {"stale": len(stale), "stale_notified": 0, "breaches_notified": 0}
    for metric in stale:
        if metric.stale_notified_at is not None:
            continue
        recipients, to_owner = _addressees(metric.system, people)
        if not recipients:
            logger.warning("No one to tell that metric #%s is stale.", metric.pk)
            continue
        since = metric.last_measured_at or metric.created_at  # type: ignore[attr-defined]  # annotated
        context = {
            "metric": metric,
            "system": metric.system,
            "organization": metric.organization,
            "to_owner": to_owner,
            "since": since,
            "never": metric.last_measured_at is None,  # type: ignore[attr-defined]  # annotated
            "link": absolute_url("monitoring:system", "inventory:system_detail", args=[metric.system_id]),
        }
        with recipient_language(metric.system.owner if to_owner else None, metric.organization):
            subject = gettext("[%(organization)s] No measurement of %(metric)s (%(system)s)") % {
                "organization": metric.organization.name,
                "metric": metric.name,
                "system": metric.system.ref_code,
            }
            body = render_to_string("emails/monitoring_stale.txt", context)
        counts["stale_notified"] += _send_once(
            MetricDefinition.objects.filter(pk=metric.pk), "stale_notified_at", now, recipients, subject, body
        )
    for alert in alerts:
        recipients, to_owner = _addressees(alert.system, people)
        if not recipients:
            logger.warning("No one to tell about monitoring alert #%s.", alert.pk)
            continue
        context = {
            "alert": alert,
            "metric": alert.metric,
            "system": alert.system,
            "organization": alert.organization,
            "to_owner": to_owner,
            "link": absolute_url("monitoring:system", "inventory:system_detail", args=[alert.system_id]),
        }
        with recipient_language(alert.system.owner if to_owner else None, alert.organization):
            subject = gettext("[%(organization)s] %(metric)s of %(system)s breached its threshold") % {
                "organization": alert.organization.name,
                "metric": alert.metric.name,
                "system": alert.system.ref_code,
            }
            body = render_to_string("emails/monitoring_breach.txt", context)
        counts["breaches_notified"] += _send_once(
            MonitoringAlert.objects.filter(pk=alert.pk, status=AlertStatus.OPEN),
            "notified_at",
            now,
            recipients,
            subject,
            body,
        )
    return counts
