"""OSCAL downloads and the catalogue import, included by the project at ``controls/``."""

from __future__ import annotations

from django.urls import path

from controls.oscal import views

app_name = "oscal"

urlpatterns = [
    path("oscal/catalog/", views.CatalogDownloadView.as_view(), name="catalog"),
    path("oscal/profile/", views.ProfileDownloadView.as_view(), name="profile"),
    path("oscal/ssp/", views.SspDownloadView.as_view(), name="ssp"),
    path("oscal/import/", views.CatalogueImportView.as_view(), name="import"),
]
