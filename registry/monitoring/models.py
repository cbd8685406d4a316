"""Performance monitoring of AI systems (9.1, A.6.2.6, A.6.2.8): metrics, measurements, alerts.

Measurements can number millions per system: they carry no history of their own (they are
write-once facts, deduplicated by metric, time and slice) and are indexed for time-range
reads. Metric definitions and alerts are AIMS records and keep their history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aims.tenancy import TenantModel, TenantQuerySet


class MetricDefinition(TenantModel):
    class Kind(models.TextChoices):
        ACCURACY = "accuracy", _("Accuracy")
        ERROR_RATE = "error_rate", _("Error rate")
        FAIRNESS_GAP = "fairness_gap", _("Fairness gap between groups")
        DRIFT = "drift", _("Drift score")
        LATENCY = "latency", _("Latency")
        AVAILABILITY = "availability", _("Availability")
        OVERRIDE_RATE = "override_rate", _("Human override rate")
        COMPLAINTS = "complaints", _("Complaint count")
        CUSTOM = "custom", _("Custom")

    class Direction(models.TextChoices):
        HIGHER = "higher", _("Higher is better")
        LOWER = "lower", _("Lower is better")

    class Source(models.TextChoices):
        PIPELINE = "pipeline", _("Pipeline (API)")
        MANUAL = "manual", _("Entered by hand")

    system = models.ForeignKey("registry.AISystem", on_delete=models.CASCADE, related_name="metrics")
    key = models.SlugField(max_length=60, help_text=_("Stable identifier pipelines use, e.g. auc or approval_gap."))
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=14, choices=Kind.choices, default=Kind.CUSTOM)
    unit = models.CharField(max_length=20, blank=True)
    direction = models.CharField(max_length=6, choices=Direction.choices, default=Direction.HIGHER)
    target = models.FloatField(help_text=_("The value the system should reach."))
    alert_threshold = models.FloatField(help_text=_("Beyond this value (in the bad direction) an alert opens."))
    expected_every_minutes = models.PositiveIntegerField(
        default=1440, help_text=_("How often a measurement is expected; longer silence marks the metric stale.")
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.PIPELINE)
    is_active = models.BooleanField(default=True)
    stale_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("metric")
        ordering = ["system__ref_code", "name"]
        constraints = [models.UniqueConstraint(fields=["system", "key"], name="metric_unique_key_per_system")]

    def __str__(self) -> str:
        return f"{self.name} ({self.system.ref_code})" if self.system_id else self.name

    def breaches(self, value: float) -> bool:
        """Is ``value`` beyond the alert threshold, in the bad direction?"""
        if self.direction == self.Direction.HIGHER:
            return value < self.alert_threshold
        return value > self.alert_threshold

    def meets_target(self, value: float) -> bool:
        if self.direction == self.Direction.HIGHER:
            return value >= self.target
        return value <= self.target

    def is_owned_by(self, user) -> bool:
        return self.system.owner_id == user.pk


class Measurement(models.Model):
    """One measured value. Not a TenantModel: no history rows for millions of facts; the
    organisation is kept on the row so every read is still narrowed by tenant."""

    organization = models.ForeignKey("aims.Organization", on_delete=models.CASCADE, related_name="+")
    metric = models.ForeignKey(MetricDefinition, on_delete=models.CASCADE, related_name="measurements")
    measured_at = models.DateTimeField()
    value = models.FloatField()
    slice = models.CharField(max_length=100, blank=True, default="", help_text=_("Dataset or population slice."))
    model_version = models.CharField(max_length=60, blank=True)
    source = models.CharField(
        max_length=8, choices=MetricDefinition.Source.choices, default=MetricDefinition.Source.PIPELINE
    )
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["measured_at"]
        constraints = [
            models.UniqueConstraint(fields=["metric", "measured_at", "slice"], name="measurement_unique_point")
        ]
        indexes = [models.Index(fields=["metric", "measured_at"], name="measurement_metric_time")]

    def __str__(self) -> str:
        return f"{self.metric_id} {self.measured_at:%Y-%m-%d %H:%M} = {self.value}"


class MonitoringAlertQuerySet(TenantQuerySet):
    def open(self):
        return self.filter(status__in=MonitoringAlert.OPEN_STATUSES)


class MonitoringAlert(TenantModel):
    """A breach of a metric's alert threshold; one open alert per metric, updated by later breaches."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("monitoring alert status", "Open")
        ACKNOWLEDGED = "acknowledged", pgettext_lazy("monitoring alert status", "Acknowledged")
        CLOSED = "closed", pgettext_lazy("monitoring alert status", "Closed")

    OPEN_STATUSES = (Status.OPEN, Status.ACKNOWLEDGED)

    metric = models.ForeignKey(MetricDefinition, on_delete=models.CASCADE, related_name="alerts")
    system = models.ForeignKey("registry.AISystem", on_delete=models.CASCADE, related_name="monitoring_alerts")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    first_value = models.FloatField()
    worst_value = models.FloatField()
    last_value = models.FloatField()
    last_breach_at = models.DateTimeField()
    breach_count = models.PositiveIntegerField(default=1)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_note = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_note = models.TextField(blank=True)
    notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Incidents and corrective actions raised from an alert point back at it (audits reads registry).

    # django-stubs declares ``objects`` a ClassVar of Model; this manager adds the open() query.
    objects = MonitoringAlertQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("monitoring alert")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric"], condition=models.Q(status__in=["open", "acknowledged"]), name="alert_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"Alert on {self.metric}"

    @property
    def is_open(self) -> bool:
        """Open and not acknowledged yet."""
        return self.status == self.Status.OPEN

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED

    def is_owned_by(self, user) -> bool:
        return self.system.owner_id == user.pk


class MeasurementRollup(models.Model):
    """Count, sum, minimum and maximum of a metric's measurements over one UTC bucket (all slices).

    Filled at ingest from exactly the points a batch stored (see
    :func:`registry.monitoring.services.measurements_ingest`) and rebuilt from the raw rows by
    :func:`~registry.monitoring.services.measurement_rollups_rebuild`; long charts read these
    instead of millions of raw rows. Removed with their metric (cascade).
    """

    organization = models.ForeignKey("aims.Organization", on_delete=models.CASCADE, related_name="+")
    metric = models.ForeignKey(MetricDefinition, on_delete=models.CASCADE, related_name="+")
    bucket = models.DateTimeField(help_text=_("Start of the hour or day (UTC)."))
    count = models.PositiveIntegerField()
    total = models.FloatField()
    minimum = models.FloatField()
    maximum = models.FloatField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["bucket"]

    def __str__(self) -> str:
        return f"{self.metric_id} {self.bucket:%Y-%m-%d %H:%M}: {self.count} points"

    @property
    def mean(self) -> float:
        return self.total / self.count


class MeasurementHourly(MeasurementRollup):
    class Meta(MeasurementRollup.Meta):
        verbose_name = _("hourly measurement roll-up")
        constraints = [models.UniqueConstraint(fields=["metric", "bucket"], name="measurementhourly_unique_bucket")]


class MeasurementDaily(MeasurementRollup):
    class Meta(MeasurementRollup.Meta):
        verbose_name = _("daily measurement roll-up")
        constraints = [models.UniqueConstraint(fields=["metric", "bucket"], name="measurementdaily_unique_bucket")]
