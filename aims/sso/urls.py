"""Pages of single sign-on, under Organisation settings."""

from __future__ import annotations

from django.urls import path

from aims.sso import views

urlpatterns = [
    path("", views.SsoSettingsView.as_view(), name="sso_settings"),
]
