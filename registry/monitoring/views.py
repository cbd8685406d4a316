"""Monitoring pages (9.1, A.6.2.6): a system's Monitoring tab, the alert actions and the overview.

Reads go through :mod:`registry.monitoring.selectors` and a fixed number of queries however many metrics
a system has (the chart series of all its metrics come from one query, see :func:`series_by_metric`).
Every write is a POST to a service; read-only roles get 403, another organisation's records 404.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Avg, Case, IntegerField, Min, Model, Prefetch, QuerySet, Value, When
from django.db.models.functions import Trunc
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from aims.access import TenantViewMixin, get_for_tenant_or_404
from aims.content_cache import CachedContentMixin
from aims.dashboard import Tile
from aims.filters import INLINE_WIDGET_RENDERER
from aims.forms import apply_service_errors, member_label
from aims.models import Organization, User
from aims.records import ensure_can_change
from aims.roles import Capability, roles_with
from registry import selectors
from registry.models import AISystem
from registry.monitoring import selectors as monitoring_selectors
from registry.monitoring import services as monitoring
from registry.monitoring.charts import build_chart
from registry.monitoring.models import Measurement, MetricDefinition, MonitoringAlert
from registry.monitoring.services import MEASUREMENTS_SCOPE
from registry.views import SYSTEM_CHANGE_REFUSED

PERIODS = [
    ("1d", _("24 hours"), 1),
    ("7d", _("7 days"), 7),
    ("30d", _("30 days"), 30),
    ("90d", _("90 days"), 90),
    ("1y", _("1 year"), 365),
    ("2y", _("2 years"), 730),
    ("all", _("All"), None),
]
DEFAULT_PERIOD = "30d"
ALERTS_SHOWN = 25


# --- Series ------------------------------------------------------------------------------------


def _bucket(span: timedelta) -> str:
    if span <= timedelta(days=31):
        return "hour"
    if span <= timedelta(days=731):
        return "day"
    return "week"


def series_by_metric(metric_ids, start: datetime, end: datetime) -> dict[int, list[tuple[datetime, float]]]:
    """The chart points of several metrics between ``start`` and ``end``, averaged per hour, day or
    week (by the length of the range) in the database: one query whatever the number of metrics.

    Ranges longer than two days read the hourly or daily roll-ups, not the raw rows, so a
    two-year chart costs about what a one-day chart does."""
    metric_ids = list(metric_ids)
    series: dict[int, list[tuple[datetime, float]]] = {pk: [] for pk in metric_ids}
    if not metric_ids:
        return series
    bucket = _bucket(end - start)
    if end - start > monitoring_selectors.RAW_SPAN:
        for row in monitoring_selectors.rollup_rows(metric_ids, start, end, bucket):
            series[row["metric_id"]].append((row["t"], row["total"] / row["n"]))
        return series
    rows = (
        Measurement.objects.filter(metric_id__in=metric_ids, measured_at__gte=start, measured_at__lte=end)
        .annotate(t=Trunc("measured_at", bucket))
        .values("metric_id", "t")
        .annotate(value=Avg("value"))
        .order_by("metric_id", "t")
    )
    for row in rows:
        series[row["metric_id"]].append((row["t"], row["value"]))
    return series


def period_bounds(period: str, metric_ids, now: datetime | None = None) -> tuple[datetime, datetime]:
    """``(start, end)`` of a period key; "all" starts at the first measurement (one query)."""
    now = now or timezone.now()
    days = next((d for key, _label, d in PERIODS if key == period), 30)
    if days is not None:
        return now - timedelta(days=days), now
    first = Measurement.objects.filter(metric_id__in=list(metric_ids)).aggregate(first=Min("measured_at"))["first"]
    return min(first or now - timedelta(days=30), now - timedelta(days=1)), now


def metric_chart(metric: MetricDefinition, points, start, end):
    return build_chart(
        points,
        target=metric.target,
        threshold=metric.alert_threshold,
        direction=metric.direction,
        start=start,
        end=end,
        tz=timezone.get_current_timezone(),
    )


# --- Forms -------------------------------------------------------------------------------------


class MetricForm(forms.ModelForm):
    class Meta:
        model = MetricDefinition
        fields = ["name", "key", "kind", "unit", "direction", "target", "alert_threshold", "expected_every_minutes"]
        labels = {
            "name": _("Name"),
            "key": _("Key"),
            "kind": _("Kind"),
            "unit": _("Unit"),
            "direction": _("Direction"),
            "target": _("Target"),
            "alert_threshold": _("Alert threshold"),
            "expected_every_minutes": _("Expected every (minutes)"),
        }


class MeasurementForm(forms.Form):
    metric = forms.ModelChoiceField(queryset=MetricDefinition.objects.none(), label=_("Metric"))
    value = forms.FloatField(label=_("Value"))
    measured_at = forms.DateTimeField(
        label=_("Measured at"),
        required=False,
        help_text=_("Leave empty for now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    note = forms.CharField(max_length=300, required=False, label=_("Note"))

    def __init__(self, *args, metrics=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"].queryset = metrics
        self.fields["metric"].label_from_instance = lambda m: m.name


class NoteForm(forms.Form):
    note = forms.CharField(required=False, label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}))


def _owners(organization):
    """Members who may own a corrective action (roles that edit records)."""
    return (
        User.objects.filter(
            memberships__organization=organization,
            memberships__role__in=roles_with(Capability.EDIT),
        )
        .distinct()
        .order_by("email")
    )


# --- The Monitoring tab ------------------------------------------------------------------------


def _raised_from_alerts(name: str) -> QuerySet[Any]:
    """Records raised from alerts (incidents, corrective actions) belong to audits, which registry does not import."""
    related = cast(type[Model], MonitoringAlert._meta.get_field(name).related_model)  # a reverse relation's model
    return related._default_manager.all()


def _system_alerts(system: AISystem):
    rank = Case(
        When(status=MonitoringAlert.Status.OPEN, then=Value(0)),
        When(status=MonitoringAlert.Status.ACKNOWLEDGED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        MonitoringAlert.objects.for_org(system.organization)
        .filter(system=system)
        .select_related("metric", "acknowledged_by")
        .prefetch_related(
            Prefetch("incidents", queryset=_raised_from_alerts("incidents").order_by("pk")),
            Prefetch(
                "corrective_actions",
                queryset=_raised_from_alerts("corrective_actions").select_related("owner").order_by("pk"),
            ),
        )
        .annotate(rank=rank)
        .order_by("rank", "-opened_at", "-pk")[:ALERTS_SHOWN]
    )


class SystemMonitoringView(TenantViewMixin, CachedContentMixin, View):
    """``/inventory/systems/<pk>/monitoring/``: the system page with its Monitoring tab.

    Its content is cached also until the organisation's next measurements (which move only
    their own scope on, so the other pages stay cached while metrics stream in)."""

    http_method_names = ["get", "head"]
    content_template_name = "registry/system_detail.html"
    content_cache_scopes = (MEASUREMENTS_SCOPE,)
    content_cache_slot_seconds = 5 * 60  # the last 24 hours move on, metrics turn stale

    def cheap_context(self, pk):
        return {"system": AISystem.objects.for_org(self.tenant.organization).only("ref_code", "name").get(pk=pk)}

    def get(self, request, pk):
        return render_monitoring_tab(self, pk)


def render_monitoring_tab(view, pk, *, metric_form=None, measurement_form=None, status=200):
    tenant, request = view.tenant, view.request
    try:
        system = selectors.system_detail(tenant.organization, pk)
    except AISystem.DoesNotExist as exc:
        raise Http404("No such AI system.") from exc
    can_change = tenant.can_change(system)
    period = request.GET.get("period", DEFAULT_PERIOD)
    if period not in {key for key, _label, _days in PERIODS}:
        period = DEFAULT_PERIOD
    statuses = monitoring_selectors.system_monitoring(system)
    ids = [s.metric.pk for s in statuses]
    start, end = period_bounds(period, ids)
    series = series_by_metric(ids, start, end)
    cards = [{"status": s, "chart": metric_chart(s.metric, series[s.metric.pk], start, end)} for s in statuses]
    context = {
        "system": system,
        "tab": "monitoring",
        "tab_template": "registry/monitoring/_tab_monitoring.html",
        "can_change": can_change,
        "cards": cards,
        "alerts": list(_system_alerts(system)),
        "periods": [(key, label) for key, label, _ in PERIODS],
        "period": period,
        "start": start,
        "end": end,
    }
    if can_change:
        metrics = MetricDefinition.objects.filter(pk__in=[s.metric.pk for s in statuses if s.metric.is_active])
        owners = list(_owners(tenant.organization))
        metric_form = metric_form or MetricForm()
        measurement_form = measurement_form or MeasurementForm(metrics=metrics)
        for form in (metric_form, measurement_form):
            form.renderer = INLINE_WIDGET_RENDERER  # the same markup, without a template per widget
        context.update(
            metric_form=metric_form,
            measurement_form=measurement_form,
            owners=[(u.pk, member_label(u)) for u in owners],
            default_owner=system.owner_id,
        )
    return render(request, "registry/system_detail.html", context, status=status)


class MetricCreateView(TenantViewMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        system = get_for_tenant_or_404(self.tenant, AISystem, pk=pk)
        ensure_can_change(self.tenant, system, SYSTEM_CHANGE_REFUSED)
        form = MetricForm(request.POST, instance=MetricDefinition(organization=system.organization, system=system))
        if form.is_valid():
            try:
                metric = monitoring.metric_save(instance=form.save(commit=False), acting_user=request.user)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Metric “%(name)s” added.") % {"name": metric.name})
                return redirect("monitoring:system", pk=system.pk)
        return render_monitoring_tab(self, pk, metric_form=form, status=400)


class MeasurementCreateView(TenantViewMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        system = get_for_tenant_or_404(self.tenant, AISystem, pk=pk)
        ensure_can_change(self.tenant, system, SYSTEM_CHANGE_REFUSED)
        metrics = MetricDefinition.objects.for_org(self.tenant.organization).filter(system=system, is_active=True)
        form = MeasurementForm(request.POST, metrics=metrics)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = monitoring.measurement_add(
                    metric=data["metric"],
                    value=data["value"],
                    measured_at=data["measured_at"],
                    note=data["note"],
                    acting_user=request.user,
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                if result.created:
                    messages.success(
                        request, gettext("Measurement of %(metric)s recorded.") % {"metric": data["metric"].name}
                    )
                else:
                    messages.warning(request, gettext("This measurement was recorded already."))
                if result.alerts_opened:
                    messages.warning(
                        request,
                        gettext("%(metric)s is beyond its alert threshold: an alert opened.")
                        % {"metric": data["metric"].name},
                    )
                return redirect("monitoring:system", pk=system.pk)
        return render_monitoring_tab(self, pk, measurement_form=form, status=400)


ALERT_ACTIONS = {"acknowledge", "close"}


class AlertActionView(TenantViewMixin, View):
    """POST ``/inventory/monitoring/alerts/<pk>/<action>/``: acknowledge or close an alert."""

    http_method_names = ["post"]

    def post(self, request, pk, action):
        if action not in ALERT_ACTIONS:
            raise Http404("Unknown alert action.")
        alert = get_for_tenant_or_404(self.tenant, MonitoringAlert, pk=pk)
        ensure_can_change(self.tenant, alert, SYSTEM_CHANGE_REFUSED)
        user, note = request.user, request.POST.get("note", "")
        try:
            if action == "acknowledge":
                monitoring.alert_acknowledge(alert=alert, acting_user=user, note=note)
                messages.success(request, gettext("Alert on %(metric)s acknowledged.") % {"metric": alert.metric.name})
            else:
                monitoring.alert_close(alert=alert, acting_user=user, note=note)
                messages.success(request, gettext("Alert on %(metric)s closed.") % {"metric": alert.metric.name})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("monitoring:system", pk=alert.system_id)


# --- Overview ----------------------------------------------------------------------------------


class MonitoringOverviewView(TenantViewMixin, CachedContentMixin, View):
    """``/inventory/monitoring/``: systems in breach, stale metrics and open alerts across the organisation."""

    http_method_names = ["get", "head"]
    content_template_name = "registry/monitoring/overview.html"
    content_cache_scopes = (MEASUREMENTS_SCOPE,)
    content_cache_slot_seconds = 5 * 60  # the last 24 hours move on, metrics turn stale

    def get(self, request):
        overview = monitoring_selectors.monitoring_overview(self.tenant.organization)
        return render(request, "registry/monitoring/overview.html", {"overview": overview})


# --- Dashboard ---------------------------------------------------------------------------------


def monitoring_tiles(organization: Organization) -> list[Tile]:
    """Dashboard tiles: systems in breach, stale metrics, open alerts (the overview's three queries)."""
    overview = monitoring_selectors.monitoring_overview(organization)
    url = reverse("monitoring:overview")
    alerts = overview["open_alerts"]
    unacknowledged = sum(a.status == MonitoringAlert.Status.OPEN for a in alerts)
    breach, stale = overview["systems_in_breach"], overview["stale_metrics"]
    return [
        Tile(
            gettext("Systems in breach"),
            len(breach),
            gettext("with an open monitoring alert"),
            f"{url}#breach",
            4,
            bool(breach),
        ),
        Tile(
            gettext("Stale metrics"),
            len(stale),
            gettext("no measurement when expected"),
            f"{url}#stale",
            5,
            bool(stale),
        ),
        Tile(
            gettext("Open alerts"),
            len(alerts),
            gettext("%(count)s not acknowledged yet") % {"count": unacknowledged},
            f"{url}#alerts",
            6,
            unacknowledged > 0,
        ),
    ]
