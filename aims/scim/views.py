"""The Provisioning (SCIM) page of Organisation settings: the SCIM token and the default role.

Members are what the token provisions, so managing members is the capability every step asks.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views import View

from aims.access import TenantViewMixin
from aims.forms import apply_service_errors
from aims.identity.access import RecentAuthenticationRequiredMixin
from aims.roles import Capability, Role
from aims.scim import services
from aims.scim.forms import ScimDefaultRoleForm
from aims.scim.selectors import scim_group_roles, scim_provisioning_get, scim_user_list


def _with_role_labels(users):
    """The provisioned members, each with the name of their current role in the page's language."""
    rows = list(users)
    for row in rows:
        row.member_role_label = Role(row.member_role).label if row.member_role else ""
    return rows


class ScimPageMixin(TenantViewMixin, RecentAuthenticationRequiredMixin):
    """Every step here hands out or withdraws the power to create members: a recent sign-in first."""

    capability = Capability.MANAGE_MEMBERS
    write_capability = Capability.MANAGE_MEMBERS

    def render_page(self, request, form=None, new_token=None):
        organization = self.tenant.organization
        provisioning = scim_provisioning_get(organization)
        default_role = provisioning.default_role if provisioning else Role.VIEWER
        context = {
            "provisioning": provisioning,
            "form": form or ScimDefaultRoleForm(initial={"default_role": default_role}),
            "new_token": new_token,
            "base_url": request.build_absolute_uri(reverse("scim_root")),
            "users": _with_role_labels(scim_user_list(organization)),
            "groups": scim_group_roles(organization),
        }
        return render(request, "aims/scim/settings.html", context)


class ScimSettingsView(ScimPageMixin, View):
    """The page; POST creates the token, or rotates it (the old one stops working at once)."""

    def get(self, request):
        return self.render_page(request)

    def post(self, request):
        _, raw_token = services.scim_token_issue(
            organization=self.tenant.organization, acting_user=request.user, request=request
        )
        messages.success(request, gettext("SCIM token ready. Copy it now: it is not shown again."))
        # Rendered, not redirected: the token exists only in this response.
        return self.render_page(request, new_token=raw_token)


class ScimTokenRevokeView(ScimPageMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        try:
            services.scim_token_revoke(organization=self.tenant.organization, acting_user=request.user, request=request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, gettext("SCIM token revoked: the identity provider can no longer provision."))
        return redirect("scim_settings")


class ScimDefaultRoleView(ScimPageMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        form = ScimDefaultRoleForm(request.POST)
        if form.is_valid():
            try:
                services.scim_default_role_set(
                    organization=self.tenant.organization,
                    role=form.cleaned_data["default_role"],
                    acting_user=request.user,
                    acting_role=self.tenant.role,
                    request=request,
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Provisioned members now start with this role."))
                return redirect("scim_settings")
        return self.render_page(request, form=form)
