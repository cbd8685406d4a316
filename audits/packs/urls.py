from django.urls import path

from audits.packs import views

urlpatterns = [
    path("", views.EvidencePackListView.as_view(), name="evidence_packs"),
    path("<int:pk>/", views.EvidencePackDetailView.as_view(), name="evidence_pack_detail"),
    path("<int:pk>/progress/", views.EvidencePackProgressView.as_view(), name="evidence_pack_progress"),
    path("<int:pk>/download/", views.EvidencePackDownloadView.as_view(), name="evidence_pack_download"),
    path("<int:pk>/verify/", views.EvidencePackVerifyView.as_view(), name="evidence_pack_verify"),
]
