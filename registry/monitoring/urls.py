"""Monitoring pages, included by registry.urls (so under ``inventory/``)."""

from __future__ import annotations

from django.urls import path

from registry.monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("monitoring/", views.MonitoringOverviewView.as_view(), name="overview"),
    path("monitoring/alerts/<int:pk>/<str:action>/", views.AlertActionView.as_view(), name="alert_action"),
    path("systems/<int:pk>/monitoring/", views.SystemMonitoringView.as_view(), name="system"),
    path("systems/<int:pk>/monitoring/metrics/", views.MetricCreateView.as_view(), name="metric_create"),
    path(
        "systems/<int:pk>/monitoring/measurements/",
        views.MeasurementCreateView.as_view(),
        name="measurement_create",
    ),
]
