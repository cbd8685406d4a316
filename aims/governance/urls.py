"""AIMS pages (context, policies, roles and concerns, objectives, competence), included at ``aims/``."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from aims.governance import views

version = "policies/<int:pk>/versions/<int:version_pk>/"

app_name = "governance"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="governance:context", permanent=False), name="home"),
    # Context and scope (clause 4)
    path("context/", views.ContextView.as_view(), name="context"),
    path("scope/", views.ScopeDetailView.as_view(), name="scope"),
    path("scope/edit/", views.ScopeEditView.as_view(), name="scope_edit"),
    path("context/issues/new/", views.IssueFormView.as_view(), name="issue_create"),
    path("context/issues/<int:pk>/", views.IssueDetailView.as_view(), name="issue_detail"),
    path("context/issues/<int:pk>/edit/", views.IssueFormView.as_view(), name="issue_update"),
    path("context/issues/<int:pk>/delete/", views.IssueDeleteView.as_view(), name="issue_delete"),
    path("context/parties/", views.PartyListView.as_view(), name="parties"),
    path("context/parties/new/", views.PartyFormView.as_view(), name="party_create"),
    path("context/parties/<int:pk>/", views.PartyDetailView.as_view(), name="party_detail"),
    path("context/parties/<int:pk>/edit/", views.PartyFormView.as_view(), name="party_update"),
    path("context/parties/<int:pk>/delete/", views.PartyDeleteView.as_view(), name="party_delete"),
    # Policies (5.2, A.2)
    path("policies/", views.PolicyListView.as_view(), name="policies"),
    path("policies/new/", views.PolicyFormView.as_view(), name="policy_create"),
    path("policies/<int:pk>/", views.PolicyDetailView.as_view(), name="policy_detail"),
    path("policies/<int:pk>/edit/", views.PolicyFormView.as_view(), name="policy_update"),
    path("policies/<int:pk>/delete/", views.PolicyDeleteView.as_view(), name="policy_delete"),
    path("policies/<int:pk>/versions/new/", views.VersionCreateView.as_view(), name="version_create"),
    path(version, views.VersionDetailView.as_view(), name="version_detail"),
    path(f"{version}edit/", views.VersionEditView.as_view(), name="version_edit"),
    path(f"{version}document/", views.VersionFileView.as_view(), name="version_file"),
    path(
        f"{version}submit/",
        views.VersionActionView.as_view(action="submit", done=_("Version %(number)s submitted for review.")),
        name="version_submit",
    ),
    path(
        f"{version}return/",
        views.VersionActionView.as_view(action="return", done=_("Version %(number)s returned to draft.")),
        name="version_return",
    ),
    path(
        f"{version}approve/",
        views.VersionActionView.as_view(
            action="approve", done=_("Version %(number)s approved; the previously approved version is retired.")
        ),
        name="version_approve",
    ),
    path(
        f"{version}retire/",
        views.VersionActionView.as_view(
            action="retire", done=_("Version %(number)s retired: the policy is not in force.")
        ),
        name="version_retire",
    ),
    path(
        f"{version}delete/",
        views.VersionActionView.as_view(
            action="delete", done=_("Draft version %(number)s deleted; its history is kept.")
        ),
        name="version_delete",
    ),
    # Roles and concerns (5.3, A.3.2, A.3.3)
    path("roles/", views.RolesView.as_view(), name="roles"),
    path("roles/new/", views.OrgRoleFormView.as_view(), name="role_create"),
    path("roles/<int:pk>/", views.OrgRoleDetailView.as_view(), name="role_detail"),
    path("roles/<int:pk>/edit/", views.OrgRoleFormView.as_view(), name="role_update"),
    path("roles/<int:pk>/delete/", views.OrgRoleDeleteView.as_view(), name="role_delete"),
    path("concerns/new/", views.ChannelFormView.as_view(), name="channel_create"),
    path("concerns/<int:pk>/", views.ChannelDetailView.as_view(), name="channel_detail"),
    path("concerns/<int:pk>/edit/", views.ChannelFormView.as_view(), name="channel_update"),
    path("concerns/<int:pk>/delete/", views.ChannelDeleteView.as_view(), name="channel_delete"),
    # Objectives (6.2)
    path("objectives/", views.ObjectiveListView.as_view(), name="objectives"),
    path("objectives/new/", views.ObjectiveFormView.as_view(), name="objective_create"),
    path("objectives/<int:pk>/", views.ObjectiveDetailView.as_view(), name="objective_detail"),
    path("objectives/<int:pk>/edit/", views.ObjectiveFormView.as_view(), name="objective_update"),
    path("objectives/<int:pk>/delete/", views.ObjectiveDeleteView.as_view(), name="objective_delete"),
    path("objectives/<int:pk>/progress/", views.ProgressAddView.as_view(), name="progress_add"),
    path(
        "objectives/<int:pk>/progress/<int:progress_pk>/delete/",
        views.ProgressDeleteView.as_view(),
        name="progress_delete",
    ),
    # Competence and awareness (7.2, 7.3)
    path("competence/", views.CompetenceOverviewView.as_view(), name="competence"),
    path("competence/records/", views.CompetenceListView.as_view(), name="competence_records"),
    path("competence/records/new/", views.CompetenceFormView.as_view(), name="competence_create"),
    path("competence/records/<int:pk>/", views.CompetenceDetailView.as_view(), name="competence_detail"),
    path("competence/records/<int:pk>/edit/", views.CompetenceFormView.as_view(), name="competence_update"),
    path("competence/records/<int:pk>/delete/", views.CompetenceDeleteView.as_view(), name="competence_delete"),
]
