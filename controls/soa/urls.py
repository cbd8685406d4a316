"""Statement of Applicability and readiness pages, included by the project at ``controls/``."""

from __future__ import annotations

from django.urls import path

from controls.soa import views

app_name = "soa"

urlpatterns = [
    path("soa/", views.SoAView.as_view(), name="statement"),
    path("soa/versions/", views.SoAVersionsView.as_view(), name="versions"),
    path("soa/versions/<int:number>/", views.SoAVersionView.as_view(), name="version"),
    path("soa/export/<str:fmt>/", views.SoAExportView.as_view(), name="export"),
    path("systems/<int:pk>/", views.SystemControlsView.as_view(), name="system_controls"),
    path("soa/<str:ref>/", views.SoAControlView.as_view(), name="control"),
    path("soa/<str:ref>/edit/", views.SoARowEditView.as_view(), name="row_edit"),
    path("readiness/", views.ReadinessView.as_view(), name="readiness"),
]
