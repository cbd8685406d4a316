"""Risk register pages, included by the project at ``risks/``."""

from __future__ import annotations

from django.urls import path

from risk import views

app_name = "risk"

urlpatterns = [
    path("", views.RiskListView.as_view(), name="list"),
    path("new/", views.RiskFormView.as_view(), name="create"),
    path("criteria/", views.CriteriaView.as_view(), name="criteria"),
    path("systems/<int:pk>/", views.SystemRisksView.as_view(), name="system_risks"),
    path("<int:pk>/", views.RiskDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.RiskFormView.as_view(), name="update"),
    path("<int:pk>/delete/", views.RiskDeleteView.as_view(), name="delete"),
    path("<int:pk>/accept/", views.RiskAcceptView.as_view(), name="accept"),
    path("<int:pk>/treatments/new/", views.TreatmentFormView.as_view(), name="treatment_create"),
    path("<int:pk>/treatments/<int:treatment_pk>/edit/", views.TreatmentFormView.as_view(), name="treatment_update"),
    path(
        "<int:pk>/treatments/<int:treatment_pk>/delete/", views.TreatmentDeleteView.as_view(), name="treatment_delete"
    ),
]
