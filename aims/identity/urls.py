"""Account security pages, mounted before allauth's so that its sessions page is this one."""

from __future__ import annotations

from django.urls import path

from aims.identity import views

account_urlpatterns = [
    path("security/", views.AccountSecurityView.as_view(), name="account_security"),
    path("sessions/", views.SessionListView.as_view(), name="usersessions_list"),
]

organization_urlpatterns = [
    path("security/", views.SecurityPolicyView.as_view(), name="security_policy"),
]
