"""Evidence library pages, included by the project at ``evidence/``."""

from __future__ import annotations

from django.urls import path

from controls.evidence import views

app_name = "evidence"

urlpatterns = [
    path("", views.EvidenceListView.as_view(), name="list"),
    path("new/", views.EvidenceCreateView.as_view(), name="create"),
    path("<int:pk>/", views.EvidenceDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.EvidenceUpdateView.as_view(), name="update"),
    path("<int:pk>/versions/new/", views.EvidenceAddVersionView.as_view(), name="add_version"),
    path(
        "<int:pk>/versions/<int:version_pk>/download/",
        views.EvidenceDownloadView.as_view(),
        name="download",
    ),
    path("<int:pk>/links/", views.EvidenceLinkAddView.as_view(), name="link_add"),
    path("<int:pk>/links/<int:link_pk>/remove/", views.EvidenceLinkRemoveView.as_view(), name="link_remove"),
    path("<int:pk>/delete/", views.EvidenceDeleteView.as_view(), name="delete"),
]
