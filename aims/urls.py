"""The project's URLs: pages of every app, the API router with every app's endpoints, health probes."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter
from rest_framework.viewsets import ViewSetMixin

from aims import views
from aims.api.members import InvitationViewSet, MeApi, MembershipViewSet
from aims.api.organizations import OrganizationCreateApi
from aims.api.tokens import ApiTokenViewSet
from aims.autocomplete import SuggestionsView
from aims.csp import ApiDocsView, ApiRedocView
from aims.governance.api import ROUTES as GOVERNANCE_ROUTES
from aims.health import healthz, readyz
from aims.identity import urls as identity_urls
from aims.scim.urls import page_urlpatterns as scim_page_patterns
from aims.security.api import SecurityEventViewSet
from aims.sso import urls as sso_urls
from audits.improvement.api import ROUTES as IMPROVEMENT_ROUTES
from audits.oscal.api import AssessmentResultsApi
from audits.packs.api import ROUTES as AUDITS_ROUTES
from controls.catalogue.api import FrameworkViewSet, RequirementViewSet
from controls.catalogue.urls import module_urlpatterns
from controls.evidence.api import ROUTES as EVIDENCE_ROUTES
from controls.oscal.api import ROUTES as OSCAL_ROUTES
from controls.oscal.api import api_urlpatterns as oscal_api_patterns
from controls.soa.api import ROUTES as SOA_ROUTES
from registry.api import ROUTES as REGISTRY_ROUTES
from registry.monitoring.api import ROUTES as MONITORING_ROUTES
from risk.api import ROUTES as RISK_ROUTES
from risk.impact.api import ROUTES as IMPACT_ROUTES

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
# No ".json" twins of every route: the API speaks JSON only, the schema never listed them, and
# custom actions did not accept the suffix's ``format`` argument (500).
router.include_format_suffixes = False
router.register("members", MembershipViewSet, basename="member")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("api-tokens", ApiTokenViewSet, basename="apitoken")
router.register("security-events", SecurityEventViewSet, basename="securityevent")
router.register("catalogue/frameworks", FrameworkViewSet, basename="framework")
router.register("catalogue/requirements", RequirementViewSet, basename="requirement")
API_ROUTES: list[tuple[str, type[ViewSetMixin], str]] = [
    *GOVERNANCE_ROUTES,
    *REGISTRY_ROUTES,
    *MONITORING_ROUTES,
    *RISK_ROUTES,
    *IMPACT_ROUTES,
    *EVIDENCE_ROUTES,
    *SOA_ROUTES,
    *OSCAL_ROUTES,
    *AUDITS_ROUTES,
    *IMPROVEMENT_ROUTES,
]
for prefix, viewset, basename in API_ROUTES:
    router.register(prefix, viewset, basename=basename)

api_patterns = [
    path("me/", MeApi.as_view(), name="api-me"),
    path("organizations/", OrganizationCreateApi.as_view(), name="api-organization-create"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", ApiRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    *oscal_api_patterns,
    path("oscal/assessment-results/<int:audit_id>/", AssessmentResultsApi.as_view(), name="oscal-assessment-results"),
    *router.urls,
]


urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("setup/", views.SetupView.as_view(), name="setup"),
    path("my-work/", views.MyWorkView.as_view(), name="my_work"),
    path("search/", views.SiteSearchView.as_view(), name="site_search"),
    path("my-work/count/", views.MyWorkCountView.as_view(), name="my_work_count"),
    path("accounts/", include(identity_urls.account_urlpatterns)),
    *sso_urls.provider_urlpatterns,
    path("accounts/", include("allauth.urls")),
    path("organisation/switch/", views.organization_switch, name="organization_switch"),
    path("organisation/new/", views.no_organization, name="no_organization"),
    path("organisation/settings/", views.OrganizationSettingsView.as_view(), name="organization_settings"),
    path("organisation/members/", views.MemberListView.as_view(), name="members"),
    path("organisation/members/<int:pk>/role/", views.MemberRoleView.as_view(), name="member_role"),
    path("organisation/members/<int:pk>/remove/", views.MemberRemoveView.as_view(), name="member_remove"),
    path("organisation/invitations/<int:pk>/revoke/", views.InvitationRevokeView.as_view(), name="invitation_revoke"),
    path("organisation/api-tokens/", views.ApiTokenListView.as_view(), name="api_tokens"),
    path("organisation/api-tokens/<int:pk>/revoke/", views.ApiTokenRevokeView.as_view(), name="api_token_revoke"),
    path("organisation/activity/", views.ActivityView.as_view(), name="activity"),
    path("suggestions/<slug:kind>/", SuggestionsView.as_view(), name="autocomplete"),
    path("organisation/security-log/", include("aims.security.urls")),
    path("organisation/", include(identity_urls.organization_urlpatterns)),
    path("organisation/", include(scim_page_patterns)),
    path("organisation/sso/", include("aims.sso.urls")),
    path("organisation/webhooks/", include("aims.webhooks.urls")),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("aims/", include("aims.governance.urls")),
    path("", include("aims.collaboration.urls")),
    path("inventory/", include("registry.urls")),
    path("inventory/", include("registry.imports.urls")),
    path("inventory/", include("registry.monitoring.urls")),
    path("risks/", include("risk.urls")),
    path("impact-assessments/", include("risk.impact.urls")),
    path("controls/", include("controls.soa.urls")),
    path("controls/", include("controls.catalogue.urls")),
    path("controls/", include("controls.oscal.urls")),
    path("evidence/", include("controls.evidence.urls")),
    path("evidence-packs/", include("audits.packs.urls")),
    path("audits/", include("audits.oscal.urls")),
    path("audits/", include("audits.improvement.urls")),
    *module_urlpatterns,
    path("api/v1/", include(api_patterns)),
    path("scim/v2/", include("aims.scim.urls")),
    path("api/", RedirectView.as_view(url="/api/v1/docs/", permanent=False)),
    path("api/v1/", RedirectView.as_view(url="/api/v1/docs/", permanent=False)),
    path("admin/", admin.site.urls),
    path("favicon.ico", RedirectView.as_view(url="/static/img/favicon.svg", permanent=True)),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]

# API failures answer JSON in the API's error shape; pages keep the HTML error pages.
handler404 = "aims.api.errors.page_not_found"
handler500 = "aims.api.errors.server_error"
