"""Impact assessment pages, included by the project at ``impact-assessments/``."""

from __future__ import annotations

from django.urls import path

from risk.impact import views

urlpatterns = [
    path("", views.AssessmentListView.as_view(), name="impact_assessments"),
    path("start/", views.AssessmentStartView.as_view(), name="ia_start"),
    path("<int:pk>/", views.AssessmentDetailView.as_view(), name="ia_detail"),
    path("<int:pk>/edit/", views.AssessmentEditView.as_view(), name="ia_edit"),
    path("<int:pk>/submit/", views.AssessmentSubmitView.as_view(), name="ia_submit"),
    path("<int:pk>/return/", views.AssessmentReturnView.as_view(), name="ia_return"),
    path("<int:pk>/approve/", views.AssessmentApproveView.as_view(), name="ia_approve"),
    path("<int:pk>/items/add/", views.ItemAddView.as_view(), name="ia_item_add"),
    path("<int:pk>/items/<int:item_pk>/edit/", views.ItemEditView.as_view(), name="ia_item_edit"),
    path("<int:pk>/items/<int:item_pk>/delete/", views.ItemDeleteView.as_view(), name="ia_item_delete"),
    path("<int:pk>/items/<int:item_pk>/raise-risk/", views.ItemRaiseRiskView.as_view(), name="ia_item_raise_risk"),
]
