"""SCIM 2.0 endpoints (mounted at ``/scim/v2/``) and the organisation's Provisioning page.

Paths have no trailing slash, as SCIM clients send them (``/Users?filter=…``); one is tolerated.
"""

from __future__ import annotations

from django.urls import path, re_path

from aims.scim import api, views

urlpatterns = [
    re_path(r"^ServiceProviderConfig/?$", api.ServiceProviderConfigView.as_view(), name="scim_config"),
    re_path(r"^ResourceTypes/?$", api.ResourceTypesView.as_view(), name="scim_resource_types"),
    re_path(r"^ResourceTypes/(?P<name>[^/]+)/?$", api.ResourceTypesView.as_view(), name="scim_resource_type"),
    re_path(r"^Schemas/?$", api.SchemasView.as_view(), name="scim_schemas"),
    re_path(r"^Schemas/(?P<name>[^/]+)/?$", api.SchemasView.as_view(), name="scim_schema"),
    re_path(r"^Users/?$", api.UsersView.as_view(), name="scim_users"),
    re_path(r"^Users/(?P<scim_id>[^/]+)/?$", api.UserView.as_view(), name="scim_user"),
    re_path(r"^Groups/?$", api.GroupsView.as_view(), name="scim_groups"),
    re_path(r"^Groups/(?P<scim_id>[^/]+)/?$", api.GroupView.as_view(), name="scim_group"),
    path("", api.RootView.as_view(), name="scim_root"),
    re_path(r"^.*$", api.RootView.as_view(), name="scim_unknown"),
]

# Mounted under /organisation/ by aims.urls.
page_urlpatterns = [
    path("provisioning/", views.ScimSettingsView.as_view(), name="scim_settings"),
    path("provisioning/revoke/", views.ScimTokenRevokeView.as_view(), name="scim_token_revoke"),
    path("provisioning/default-role/", views.ScimDefaultRoleView.as_view(), name="scim_default_role"),
]
