"""Pages of the security log."""

from __future__ import annotations

from django.urls import path

from aims.security import views

urlpatterns = [
    path("", views.SecurityLogView.as_view(), name="security_log"),
    path("export.csv", views.SecurityLogExportView.as_view(), name="security_log_export"),
]
