"""The organisation's single sign-on page (administrators only), and allauth's provider views
wrapped so that an identity provider that cannot be reached gets a clear page, not a 500."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.socialaccount.models import SocialApp
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from aims.access import TenantViewMixin
from aims.forms import apply_service_errors
from aims.identity.access import RecentAuthenticationRequiredMixin
from aims.identity.models import IdpGroupRole
from aims.roles import Capability
from aims.security.models import SecurityEvent
from aims.security.services import security_event_record
from aims.sso import services
from aims.sso.forms import SsoConnectionForm
from aims.sso.models import SsoConnection
from aims.sso.selectors import oidc_discovery_problem, sso_connection_get

IDP_UNREACHABLE = _(
    "%(organization)s's identity provider could not be reached or gave an answer the portal cannot read, "
    "so you are not signed in. Try again in a moment; if it keeps failing, tell your IT team."
)


def idp_errors_handled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap an allauth provider view: a network or protocol failure talking to the IdP (its
    discovery document, metadata, token or user info) is answered 502 with a clear page and
    recorded as ``SSO_REFUSED``, reason ``idp_unreachable``."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        # requests' errors (allauth's OIDC calls) are OSErrors, as are urllib's (SAML metadata).
        except (OSError, ValueError) as exc:
            slug = kwargs.get("provider_id") or kwargs.get("organization_slug") or ""
            app = (
                SocialApp.objects.filter(provider_id=slug).first()
                or SocialApp.objects.filter(provider="saml", client_id=slug).first()
            )
            connection = SsoConnection.objects.select_related("organization").filter(social_app=app).first()
            organization = connection.organization if connection is not None else None
            security_event_record(
                kind=SecurityEvent.Kind.SSO_REFUSED,
                request=request,
                organization=organization,
                reason="idp_unreachable",
                detail=f"{exc.__class__.__name__}: {exc}"[:500],
            )
            name = organization.name if organization is not None else gettext("Your organisation")
            message = IDP_UNREACHABLE % {"organization": name}
            return render(request, "aims/sso/refused.html", {"message": message}, status=502)

    return wrapped


class SsoSettingsView(TenantViewMixin, RecentAuthenticationRequiredMixin, View):
    # The client id, domains and break-glass administrator are for administrators' eyes only.
    capability = Capability.MANAGE_ORGANIZATION
    write_capability = Capability.MANAGE_ORGANIZATION

    def get(self, request, form=None):
        organization = self.tenant.organization
        connection = sso_connection_get(organization)
        mappings = [(row.group, row.role) for row in IdpGroupRole.objects.for_org(organization)]
        form = form or SsoConnectionForm(
            initial=SsoConnectionForm.initial_for(connection, mappings), tenant=self.tenant
        )
        slug = organization.slug
        service_provider = {
            "entity_id": request.build_absolute_uri(reverse("saml_metadata", args=[slug])),
            "acs_url": request.build_absolute_uri(reverse("saml_acs", args=[slug])),
            "metadata_url": request.build_absolute_uri(reverse("saml_metadata", args=[slug])),
            "oidc_redirect_uri": request.build_absolute_uri(
                reverse("openid_connect_callback", kwargs={"provider_id": services.provider_id_for(organization)})
            ),
        }
        has_secret = bool(connection and connection.social_app and connection.social_app.secret)
        context = {"form": form, "connection": connection, "sp": service_provider, "has_secret": has_secret}
        return render(request, "aims/sso/settings.html", context)

    def post(self, request):
        if "remove" in request.POST:
            try:
                services.sso_connection_delete(
                    organization=self.tenant.organization, acting_user=request.user, request=request
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, gettext("Single sign-on removed: everyone signs in with a password again."))
            return redirect("sso_settings")
        form = SsoConnectionForm(request.POST, tenant=self.tenant)
        if form.is_valid():
            try:
                connection = services.sso_connection_save(
                    organization=self.tenant.organization,
                    acting_user=request.user,
                    request=request,
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Single sign-on settings saved."))
                if connection.protocol == SsoConnection.Protocol.OIDC:
                    problem = oidc_discovery_problem(connection.oidc_issuer)
                    if problem:
                        messages.warning(
                            request,
                            gettext("Sign-in will fail until the issuer answers: %(problem)s") % {"problem": problem},
                        )
                return redirect("sso_settings")
        return self.get(request, form=form)
