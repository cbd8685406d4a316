"""Monitoring pages, included by registry.urls (so under ``inventory/``)."""

from __future__ import annotations

from django.urls import path

from registry.monitoring import views

urlpatterns = [
    path("monitoring/", views.MonitoringOverviewView.as_view(), name="monitoring"),
    path("monitoring/alerts/<int:pk>/<str:action>/", views.AlertActionView.as_view(), name="monitoring_alert_action"),
    path("systems/<int:pk>/monitoring/", views.SystemMonitoringView.as_view(), name="system_monitoring"),
    path("systems/<int:pk>/monitoring/metrics/", views.MetricCreateView.as_view(), name="system_metric_create"),
    path(
        "systems/<int:pk>/monitoring/measurements/",
        views.MeasurementCreateView.as_view(),
        name="system_measurement_create",
    ),
]
