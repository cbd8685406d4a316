"""Pages of single sign-on: the settings page under Organisation settings, and allauth's
provider views (same paths, matched first) with identity-provider failures handled."""

from __future__ import annotations

from allauth.socialaccount import app_settings
from allauth.socialaccount.providers.openid_connect import views as oidc_views
from allauth.socialaccount.providers.saml import views as saml_views
from django.urls import path

from aims.sso import views

urlpatterns = [
    path("", views.SsoSettingsView.as_view(), name="sso_settings"),
]

OIDC = app_settings.OPENID_CONNECT_URL_PREFIX
# Mounted by aims.urls before allauth's own URLs; allauth's URL names keep reversing to these paths.
provider_urlpatterns = [
    path(f"accounts/{OIDC}/<str:provider_id>/login/", views.idp_errors_handled(oidc_views.login)),
    path(f"accounts/{OIDC}/<str:provider_id>/login/callback/", views.idp_errors_handled(oidc_views.callback)),
    path("accounts/saml/<str:organization_slug>/login/", views.idp_errors_handled(saml_views.login)),
    path("accounts/saml/<str:organization_slug>/acs/finish/", views.idp_errors_handled(saml_views.finish_acs)),
]
