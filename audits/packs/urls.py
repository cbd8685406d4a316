"""Evidence pack pages, included by the project at ``evidence-packs/``."""

from __future__ import annotations

from django.urls import path

from audits.packs import views

app_name = "packs"

urlpatterns = [
    path("", views.EvidencePackListView.as_view(), name="list"),
    path("<int:pk>/", views.EvidencePackDetailView.as_view(), name="detail"),
    path("<int:pk>/progress/", views.EvidencePackProgressView.as_view(), name="progress"),
    path("<int:pk>/download/", views.EvidencePackDownloadView.as_view(), name="download"),
    path("<int:pk>/verify/", views.EvidencePackVerifyView.as_view(), name="verify"),
    path("<int:pk>/cancel/", views.EvidencePackCancelView.as_view(), name="cancel"),
]
