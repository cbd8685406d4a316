"""The OSCAL download of an audit, included by the project at ``audits/``."""

from __future__ import annotations

from django.urls import path

from audits.oscal import views

app_name = "audits_oscal"

urlpatterns = [
    path(
        "<int:pk>/oscal/assessment-results/", views.AssessmentResultsDownloadView.as_view(), name="assessment_results"
    ),
]
