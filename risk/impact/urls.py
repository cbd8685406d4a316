"""Impact assessment pages, included by the project at ``impact-assessments/``."""

from __future__ import annotations

from django.urls import path

from risk.impact import views

app_name = "impact"

urlpatterns = [
    path("", views.AssessmentListView.as_view(), name="list"),
    path("start/", views.AssessmentStartView.as_view(), name="start"),
    path("systems-to-assess/", views.SystemsToAssessView.as_view(), name="systems_to_assess"),
    path("systems/<int:pk>/", views.SystemAssessmentsView.as_view(), name="system_assessments"),
    path("<int:pk>/", views.AssessmentDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.AssessmentEditView.as_view(), name="edit"),
    path("<int:pk>/submit/", views.AssessmentSubmitView.as_view(), name="submit"),
    path("<int:pk>/return/", views.AssessmentReturnView.as_view(), name="return"),
    path("<int:pk>/approve/", views.AssessmentApproveView.as_view(), name="approve"),
    path("<int:pk>/items/add/", views.ItemAddView.as_view(), name="item_add"),
    path("<int:pk>/items/<int:item_pk>/edit/", views.ItemEditView.as_view(), name="item_edit"),
    path("<int:pk>/items/<int:item_pk>/delete/", views.ItemDeleteView.as_view(), name="item_delete"),
    path("<int:pk>/items/<int:item_pk>/raise-risk/", views.ItemRaiseRiskView.as_view(), name="item_raise_risk"),
]
