"""Statement of Applicability and readiness pages, included by the project at ``controls/``."""

from __future__ import annotations

from django.urls import path

from controls.soa import views

urlpatterns = [
    path("soa/", views.SoAView.as_view(), name="soa"),
    path("soa/versions/", views.SoAVersionsView.as_view(), name="soa_versions"),
    path("soa/versions/<int:number>/", views.SoAVersionView.as_view(), name="soa_version"),
    path("soa/export/<str:fmt>/", views.SoAExportView.as_view(), name="soa_export"),
    path("soa/<str:ref>/", views.SoAControlView.as_view(), name="soa_control"),
    path("soa/<str:ref>/edit/", views.SoARowEditView.as_view(), name="soa_row_edit"),
    path("readiness/", views.ReadinessView.as_view(), name="readiness"),
]
