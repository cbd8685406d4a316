"""API of performance monitoring: metric definitions, measurements (batch ingest) and alerts.

Pipelines post measurements in batches to ``measurements/batch/``; every write goes
through :mod:`registry.monitoring.services`. Another organisation's records are never found (404);
viewers and auditors read only (403 on writes); an AI system owner changes only the
metrics and alerts of the systems they own.
"""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aims.api.base import SelectorQuerysetMixin, TenantScopedMixin
from aims.api.fields import OrgRecordField
from aims.api.permissions import HasOrganizationRole
from aims.api.schema import crud_schema
from aims.filters import RecordChoiceFilter, organization_records
from registry.models import AISystem
from registry.monitoring import selectors
from registry.monitoring import services as monitoring
from registry.monitoring.models import Measurement, MetricDefinition, MonitoringAlert

FORBIDDEN_CHANGE = "Your role only lets you change the monitoring of AI systems you own."


class CanChangeMonitoring(permissions.BasePermission):
    """Object level: an owner changes only the metrics and alerts of their own systems."""

    message = FORBIDDEN_CHANGE

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in permissions.SAFE_METHODS or request.tenant.can_change(obj)


PERMISSIONS = [HasOrganizationRole, CanChangeMonitoring]


SOURCES = MetricDefinition.Source


# Not an enum component: AI models have a "source" choice set too, and the two names would collide.
@extend_schema_field(
    {"type": "string", "pattern": f"^({'|'.join(SOURCES.values)})$", "description": "pipeline or manual"}
)
class SourceField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=SOURCES.choices, **kwargs)


# --- Metrics -----------------------------------------------------------------------------------


class MetricSerializer(serializers.ModelSerializer):
    system = OrgRecordField(queryset=AISystem.objects.all())
    last_value = serializers.FloatField(read_only=True, allow_null=True)
    last_measured_at = serializers.DateTimeField(read_only=True, allow_null=True)
    stale = serializers.SerializerMethodField()
    source = SourceField(required=False)  # type: ignore[assignment]  # a field named like Field.source

    class Meta:
        model = MetricDefinition
        fields = [
            "id",
            "system",
            "key",
            "name",
            "kind",
            "unit",
            "direction",
            "target",
            "alert_threshold",
            "expected_every_minutes",
            "source",
            "is_active",
            "created_at",
            "last_value",
            "last_measured_at",
            "stale",
        ]
        read_only_fields = ["created_at"]
        # The service checks the key per system with a readable message.
        validators: list = []

    @extend_schema_field(serializers.BooleanField())
    def get_stale(self, metric) -> bool:
        return selectors.is_stale(metric)


class MetricFilter(django_filters.FilterSet):
    system = RecordChoiceFilter(queryset=organization_records(AISystem), help_text="AI system id or reference.")

    class Meta:
        model = MetricDefinition
        fields = ["system", "kind", "is_active"]


@crud_schema(
    "metric",
    create=extend_schema(summary="Define a metric"),
    destroy=extend_schema(summary="Delete a metric with its measurements"),
)
class MetricViewSet(TenantScopedMixin, SelectorQuerysetMixin, viewsets.ModelViewSet):
    """Performance metrics of AI systems (9.1, A.6.2.6): target, alert threshold, expected frequency."""

    queryset = MetricDefinition.objects.all()
    serializer_class = MetricSerializer
    filterset_class = MetricFilter
    ordering_fields = ["name", "key", "id"]
    permission_classes = PERMISSIONS  # inferred narrower in TenantScopedMixin
    selector = staticmethod(selectors.metric_list)

    def _write(self, serializer):
        system = serializer.validated_data.get("system")
        if system is not None and not self.request.tenant.can_change(system):
            raise exceptions.PermissionDenied(FORBIDDEN_CHANGE)
        metric = serializer.instance or MetricDefinition(organization=self.request.tenant.organization)
        for name, value in serializer.validated_data.items():
            setattr(metric, name, value)
        monitoring.metric_save(instance=metric, acting_user=self.request.user)
        serializer.instance = self.reread(metric)

    perform_create = _write
    perform_update = _write

    def perform_destroy(self, instance):
        monitoring.metric_delete(metric=instance, acting_user=self.request.user)


# --- Measurements ------------------------------------------------------------------------------


class MeasurementSerializer(serializers.ModelSerializer):
    source = SourceField(read_only=True)  # type: ignore[assignment]

    class Meta:
        model = Measurement
        fields = ["id", "metric", "measured_at", "value", "slice", "model_version", "source", "note", "created_at"]
        read_only_fields = fields


class MeasurementFilter(django_filters.FilterSet):
    metric = django_filters.NumberFilter(field_name="metric_id")
    system = RecordChoiceFilter(
        field_name="metric__system", queryset=organization_records(AISystem), help_text="AI system id or reference."
    )
    since = django_filters.IsoDateTimeFilter(field_name="measured_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="measured_at", lookup_expr="lte")

    class Meta:
        model = Measurement
        fields = ["metric", "system", "since", "until", "slice"]


class MeasurementItemSerializer(serializers.Serializer):
    """One measurement of a batch (documentation: the service validates the batch as a whole)."""

    metric = serializers.IntegerField(required=False, help_text="Metric id; or give system and metric_key.")
    system = serializers.CharField(required=False, help_text="AI system reference, e.g. AIS-0001.")
    metric_key = serializers.CharField(required=False, help_text="The metric's key on that system.")
    measured_at = serializers.DateTimeField(help_text="ISO 8601 with a time zone; at most 5 minutes ahead.")
    value = serializers.FloatField(help_text="A finite number.")
    slice = serializers.CharField(required=False, max_length=100, help_text="Dataset or population slice.")
    model_version = serializers.CharField(required=False, max_length=60)
    note = serializers.CharField(required=False, max_length=300)


class MeasurementBatchSerializer(serializers.Serializer):
    items = MeasurementItemSerializer(many=True, help_text=f"1 to {monitoring.INGEST_MAX_ITEMS} measurements.")


class IngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField(help_text="Points already stored (same metric, time and slice).")
    alerts_opened = serializers.IntegerField()
    alerts_closed = serializers.IntegerField()


class IngestErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = inline_serializer(  # type: ignore[assignment]  # a field named like Serializer.errors
        "IngestItemError",
        {"index": serializers.IntegerField(), "errors": serializers.DictField(child=serializers.ListField())},
        many=True,
    )


BATCH_EXAMPLE = {
    "items": [
        {
            "system": "AIS-0001",
            "metric_key": "auc",
            "measured_at": "2026-05-01T06:00:00Z",
            "value": 0.83,
            "model_version": "credit-gbm@7",
        },
        {
            "system": "AIS-0001",
            "metric_key": "approval_gap",
            "measured_at": "2026-05-01T06:00:00Z",
            "value": 0.04,
            "slice": "age 60+",
        },
        {"metric": 12, "measured_at": "2026-05-01T06:00:00+02:00", "value": 182.5, "note": "p95 over 24 h"},
    ]
}


@extend_schema_view(list=extend_schema(summary="List measurements (newest first)"))
class MeasurementViewSet(TenantScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Measured values of the metrics; filter by metric and time range."""

    queryset = Measurement.objects.all()
    serializer_class = MeasurementSerializer
    filterset_class = MeasurementFilter
    ordering_fields = ["measured_at", "id"]

    def get_queryset(self):
        return super().get_queryset().order_by("-measured_at", "-pk")

    @extend_schema(
        summary="Send a batch of measurements",
        description=(
            f"Stores up to {monitoring.INGEST_MAX_ITEMS} measurements at once, all or nothing. Name each metric by "
            "its id, or by the AI system's reference and the metric's key. Every item is validated first; if one "
            "is invalid (unknown metric, value not a finite number, time without a time zone or in the future, "
            "the same metric, time and slice twice) the answer is 400 with the index of every bad item and "
            "nothing is stored. A point already stored is counted as a duplicate and not stored again, so a "
            "retried batch is harmless. Values beyond a metric's alert threshold open (or update) its alert; "
            "a latest value back within target closes it."
        ),
        request=MeasurementBatchSerializer,
        responses={
            200: IngestResultSerializer,
            400: OpenApiResponse(IngestErrorSerializer, description="Invalid items; nothing was stored."),
        },
        examples=[
            OpenApiExample("Nightly evaluation job", value=BATCH_EXAMPLE, request_only=True),
            OpenApiExample(
                "Stored",
                value={"created": 3, "duplicates": 0, "alerts_opened": 1, "alerts_closed": 0},
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "Two invalid items",
                value={
                    "detail": "2 of 3 items are invalid; nothing was stored.",
                    "errors": [
                        {"index": 1, "errors": {"value": ["Give a finite number (not NaN or infinity)."]}},
                        {
                            "index": 2,
                            "errors": {"measured_at": ["Give the time zone too, e.g. 2026-05-01T10:00:00Z or +02:00."]},
                        },
                    ],
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    @action(detail=False, methods=["post"], url_path="batch")
    def batch(self, request):
        tenant = request.tenant
        items = request.data.get("items") if isinstance(request.data, dict) else None
        owned = selectors.systems_owned(tenant.organization, tenant.user) if tenant.edits_only_own else None
        try:
            result = monitoring.measurements_ingest(
                organization=tenant.organization, items=items, acting_user=request.user, systems=owned
            )
        except monitoring.IngestInvalid as exc:
            return Response({"detail": exc.message, "errors": exc.item_errors}, status=status.HTTP_400_BAD_REQUEST)
        data = {name: getattr(result, name) for name in IngestResultSerializer().fields}
        return Response(data)


# --- Alerts ------------------------------------------------------------------------------------


class AlertSerializer(serializers.ModelSerializer):
    metric_key = serializers.CharField(source="metric.key", read_only=True)
    metric_name = serializers.CharField(source="metric.name", read_only=True)

    class Meta:
        model = MonitoringAlert
        fields = [
            "id",
            "metric",
            "metric_key",
            "metric_name",
            "system",
            "status",
            "opened_at",
            "first_value",
            "worst_value",
            "last_value",
            "last_breach_at",
            "breach_count",
            "acknowledged_by",
            "acknowledged_at",
            "acknowledgement_note",
            "closed_at",
            "close_note",
        ]
        read_only_fields = fields


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class AlertFilter(django_filters.FilterSet):
    system = RecordChoiceFilter(queryset=organization_records(AISystem), help_text="AI system id or reference.")
    metric = django_filters.NumberFilter(field_name="metric_id")

    class Meta:
        model = MonitoringAlert
        fields = ["status", "system", "metric"]


@extend_schema_view(
    list=extend_schema(summary="List monitoring alerts"),
    retrieve=extend_schema(summary="One monitoring alert"),
    acknowledge=extend_schema(summary="Acknowledge an open alert", request=NoteSerializer),
    close=extend_schema(summary="Close an alert (say why)", request=NoteSerializer),
)
class MonitoringAlertViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Breaches of metrics' alert thresholds; one open alert per metric, closed automatically on recovery."""

    queryset = MonitoringAlert.objects.select_related("metric", "system")
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    ordering_fields = ["opened_at", "last_breach_at", "id"]
    permission_classes = PERMISSIONS  # inferred narrower in TenantScopedMixin

    def _note(self, request) -> str:
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["note"]

    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        alert = monitoring.alert_acknowledge(
            alert=self.get_object(), acting_user=request.user, note=self._note(request)
        )
        return Response(AlertSerializer(alert).data)

    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        alert = monitoring.alert_close(alert=self.get_object(), acting_user=request.user, note=self._note(request))
        return Response(AlertSerializer(alert).data)


ROUTES: list[tuple[str, type[viewsets.ViewSetMixin], str]] = [
    ("metrics", MetricViewSet, "metric"),
    ("measurements", MeasurementViewSet, "measurement"),
    ("monitoring-alerts", MonitoringAlertViewSet, "monitoringalert"),
]
