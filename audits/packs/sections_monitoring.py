"""Pack section for the monitoring of AI system performance (clause 9.1, A.6.2.6).

For the pack's period (and only the pack's system for a system pack): per system with
metrics, the charts (the same server-side SVG as the pages), the breaches (alerts opened in
the period with their values) and what was done (acknowledgements, incidents, corrective
actions, closing notes). Six queries, whatever the number of systems and metrics.
"""

from __future__ import annotations

from datetime import datetime, time

from django.db.models import Prefetch
from django.utils import timezone

from audits.models import CorrectiveAction, EvidencePack, Incident
from audits.packs.records import RecordEntry, record_entry
from registry.monitoring.models import MetricDefinition, MonitoringAlert
from registry.monitoring.views import metric_chart, series_by_metric


def _bounds(pack: EvidencePack) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(pack.period_start, time.min, tzinfo=tz)
    end = datetime.combine(pack.period_end, time.max, tzinfo=tz)
    return start, min(end, max(start, timezone.now()))


def monitoring_data(pack: EvidencePack) -> tuple[dict, list[RecordEntry]]:
    start, end = _bounds(pack)
    metrics = MetricDefinition.objects.for_org(pack.organization).select_related("system")
    alerts = MonitoringAlert.objects.for_org(pack.organization).filter(opened_at__range=(start, end))
    if pack.scope == EvidencePack.Scope.SYSTEM:
        metrics = metrics.filter(system_id=pack.system_id)
        alerts = alerts.filter(system_id=pack.system_id)
    metric_rows = list(metrics.order_by("system__ref_code", "name"))
    series = series_by_metric([m.pk for m in metric_rows], start, end)
    alert_rows = list(
        alerts.select_related("metric", "acknowledged_by")
        .prefetch_related(
            Prefetch("incidents", queryset=Incident.objects.order_by("pk")),
            Prefetch("corrective_actions", queryset=CorrectiveAction.objects.select_related("owner").order_by("pk")),
        )
        .order_by("opened_at", "pk")
    )
    systems: dict[int, dict] = {}
    records: list[RecordEntry] = []
    for metric in metric_rows:
        row = systems.setdefault(metric.system_id, {"system": metric.system, "metrics": [], "alerts": []})
        points = series[metric.pk]
        row["metrics"].append(
            {"metric": metric, "chart": metric_chart(metric, points, start, end), "points": len(points)}
        )
        records.append(record_entry(metric, f"{metric.system.ref_code} metric {metric.name}"))
    for alert in alert_rows:
        if alert.system_id in systems:
            systems[alert.system_id]["alerts"].append(alert)
            records.append(
                record_entry(alert, f"{systems[alert.system_id]['system'].ref_code} alert on {alert.metric.name}")
            )
    context = {"systems": list(systems.values()), "start": start, "end": end}
    return context, records
