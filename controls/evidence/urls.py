from django.urls import path

from controls.evidence import views

urlpatterns = [
    path("", views.EvidenceListView.as_view(), name="evidence_list"),
    path("new/", views.EvidenceCreateView.as_view(), name="evidence_create"),
    path("<int:pk>/", views.EvidenceDetailView.as_view(), name="evidence_detail"),
    path("<int:pk>/edit/", views.EvidenceUpdateView.as_view(), name="evidence_update"),
    path("<int:pk>/versions/new/", views.EvidenceAddVersionView.as_view(), name="evidence_add_version"),
    path(
        "<int:pk>/versions/<int:version_pk>/download/",
        views.EvidenceDownloadView.as_view(),
        name="evidence_download",
    ),
    path("<int:pk>/links/", views.EvidenceLinkAddView.as_view(), name="evidence_link_add"),
    path("<int:pk>/links/<int:link_pk>/remove/", views.EvidenceLinkRemoveView.as_view(), name="evidence_link_remove"),
    path("<int:pk>/delete/", views.EvidenceDeleteView.as_view(), name="evidence_delete"),
]
