"""Audit, corrective action, management review and incident pages, included by the project at ``audits/``."""

from __future__ import annotations

from django.urls import path

from audits.improvement import views

app_name = "audits"

urlpatterns = [
    path("", views.AuditsHomeView.as_view(), name="home"),
    path("programmes/new/", views.ProgrammeFormView.as_view(), name="programme_create"),
    path("programmes/<int:pk>/edit/", views.ProgrammeFormView.as_view(), name="programme_update"),
    path("new/", views.AuditFormView.as_view(), name="audit_create"),
    path("<int:pk>/", views.AuditDetailView.as_view(tab="plan"), name="audit_detail"),
    path("<int:pk>/checklist/", views.AuditDetailView.as_view(tab="checklist"), name="audit_checklist"),
    path("<int:pk>/findings/", views.AuditDetailView.as_view(tab="findings"), name="audit_findings"),
    path("<int:pk>/actions/", views.AuditDetailView.as_view(tab="actions"), name="audit_actions"),
    path("<int:pk>/history/", views.AuditDetailView.as_view(tab="history"), name="audit_history"),
    path("<int:pk>/edit/", views.AuditFormView.as_view(), name="audit_update"),
    path("<int:pk>/delete/", views.AuditDeleteView.as_view(), name="audit_delete"),
    path("<int:pk>/<str:step>/", views.AuditTransitionView.as_view(), name="audit_transition"),
    path("<int:pk>/checklist/generate/", views.ChecklistGenerateView.as_view(), name="audit_checklist_generate"),
    path("<int:pk>/checklist/<int:item_pk>/", views.ChecklistItemEditView.as_view(), name="checklist_item_edit"),
    path("<int:pk>/findings/new/", views.FindingFormView.as_view(), name="finding_create"),
    path("<int:pk>/findings/<int:finding_pk>/edit/", views.FindingFormView.as_view(), name="finding_update"),
    path("<int:pk>/findings/<int:finding_pk>/delete/", views.FindingDeleteView.as_view(), name="finding_delete"),
    path("findings/", views.FindingListView.as_view(), name="finding_list"),
    path("findings/<int:pk>/", views.FindingDetailView.as_view(), name="finding_detail"),
    path("corrective-actions/", views.CorrectiveActionListView.as_view(), name="ca_list"),
    path("corrective-actions/new/", views.CorrectiveActionFormView.as_view(), name="ca_create"),
    path("corrective-actions/<int:pk>/", views.CorrectiveActionDetailView.as_view(), name="ca_detail"),
    path("corrective-actions/<int:pk>/edit/", views.CorrectiveActionFormView.as_view(), name="ca_update"),
    path("corrective-actions/<int:pk>/delete/", views.CorrectiveActionDeleteView.as_view(), name="ca_delete"),
    path("corrective-actions/<int:pk>/verify/", views.CorrectiveActionVerifyView.as_view(), name="ca_verify"),
    path("corrective-actions/<int:pk>/<str:step>/", views.CorrectiveActionProgressView.as_view(), name="ca_progress"),
    path("reviews/", views.ReviewListView.as_view(), name="review_list"),
    path("reviews/new/", views.ReviewFormView.as_view(), name="review_create"),
    path("reviews/<int:pk>/", views.ReviewDetailView.as_view(), name="review_detail"),
    path("reviews/<int:pk>/edit/", views.ReviewFormView.as_view(), name="review_update"),
    path("reviews/<int:pk>/delete/", views.ReviewDeleteView.as_view(), name="review_delete"),
    path("reviews/<int:pk>/gather-inputs/", views.ReviewGatherView.as_view(), name="review_gather"),
    path("reviews/<int:pk>/actions/new/", views.ReviewActionFormView.as_view(), name="review_action_create"),
    path(
        "reviews/<int:pk>/actions/<int:action_pk>/edit/",
        views.ReviewActionFormView.as_view(),
        name="review_action_update",
    ),
    path(
        "reviews/<int:pk>/actions/<int:action_pk>/delete/",
        views.ReviewActionDeleteView.as_view(),
        name="review_action_delete",
    ),
    path("incidents/", views.IncidentListView.as_view(), name="incident_list"),
    path("systems/<int:pk>/incidents/", views.SystemIncidentsView.as_view(), name="system_incidents"),
    path("systems/<int:pk>/findings/", views.SystemFindingsView.as_view(), name="system_findings"),
    path("incidents/new/", views.IncidentFormView.as_view(), name="incident_create"),
    path("incidents/<int:pk>/", views.IncidentDetailView.as_view(), name="incident_detail"),
    path("incidents/<int:pk>/edit/", views.IncidentFormView.as_view(), name="incident_update"),
    path("incidents/<int:pk>/delete/", views.IncidentDeleteView.as_view(), name="incident_delete"),
    path("alerts/<int:pk>/raise-incident/", views.AlertIncidentRaiseView.as_view(), name="alert_incident_raise"),
    path("alerts/<int:pk>/raise-action/", views.AlertActionRaiseView.as_view(), name="alert_action_raise"),
]
