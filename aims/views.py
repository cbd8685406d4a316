"""Core pages: dashboard, organisation switcher, members, invitations, API tokens, activity."""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from aims import services
from aims.access import TenantViewMixin, get_for_tenant_or_404
from aims.content_cache import CachedContentMixin
from aims.dashboard import panels_for, tiles_for
from aims.forms import (
    ApiTokenForm,
    MemberAddForm,
    OrganizationForm,
    OrganizationSettingsForm,
    RegistrationForm,
    RoleForm,
    apply_service_errors,
)
from aims.history import ACTIVITY_SCOPE, organization_activity
from aims.identity.access import RecentAuthenticationRequiredMixin
from aims.models import ApiToken, Invitation, Membership, User, invitation_from_token
from aims.roles import Capability, Role
from aims.selectors import api_token_list, invitation_pending_list, membership_list, user_memberships
from aims.setup import setup_progress
from aims.site_search import MIN_QUERY_LENGTH, search_everywhere
from aims.summaries import MEASUREMENTS, cached_summary
from aims.tenancy import SESSION_KEY
from aims.work import work_count, work_for


class DashboardView(TenantViewMixin, CachedContentMixin, TemplateView):
    template_name = "aims/dashboard.html"
    # Some tiles follow the clock (invitations expiring, metrics turning stale) or measurements.
    content_cache_scopes = (MEASUREMENTS,)
    content_cache_slot_seconds = 5 * 60

    def get_context_data(self, **kwargs):
        organization = self.tenant.organization
        tiles = tiles_for(organization)
        return super().get_context_data(
            tiles=tiles,
            attention=[tile for tile in tiles if tile.attention],
            other_tiles=[tile for tile in tiles if not tile.attention],
            panels=panels_for(organization),
            setup=setup_progress(organization),
            **kwargs,
        )


class MyWorkView(TenantViewMixin, CachedContentMixin, TemplateView):
    """Everything across the modules that waits for the signed-in member, by due date."""

    template_name = "aims/my_work.html"
    page_size = 50

    def get_context_data(self, **kwargs):
        items = work_for(self.tenant)
        module, due = self.request.GET.get("module", ""), self.request.GET.get("due", "")
        shown = [item for item in items if not module or item.module == module]
        if due == "overdue":
            shown = [item for item in shown if item.overdue]
        page = Paginator(shown, self.page_size).get_page(self.request.GET.get("page"))
        params = self.request.GET.copy()
        params.pop("page", None)
        return super().get_context_data(
            items=page.object_list,
            matching=len(shown),
            page_obj=page,
            querystring=params.urlencode(),
            total=len(items),
            modules=sorted({item.module for item in items}),
            module=module,
            due=due,
            **kwargs,
        )


class SiteSearchView(TenantViewMixin, TemplateView):
    """``/search/?q=``: the header's search over systems, risks, controls, policies and evidence."""

    template_name = "aims/search.html"

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "").strip()
        return super().get_context_data(
            query=query,
            groups=search_everywhere(self.tenant, query),
            too_short=0 < len(query) < MIN_QUERY_LENGTH,
            **kwargs,
        )


class MyWorkCountView(TenantViewMixin, View):
    """The header's count of My work, asked for by the page once it is shown (htmx)."""

    http_method_names = ["get"]

    def get(self, request):
        return render(request, "aims/_my_work_count.html", {"waiting": work_count(self.tenant)})


class SetupView(TenantViewMixin, CachedContentMixin, TemplateView):
    """First-run setup: the steps that make an AIMS, each done when its records exist."""

    template_name = "aims/setup.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(setup=setup_progress(self.tenant.organization), **kwargs)


@login_required
@require_POST
def organization_switch(request):
    """Make another of the user's organisations the current one; unknown ids are 404."""
    membership = user_memberships(request.user).filter(organization_id=request.POST.get("organization")).first()
    if membership is None:
        raise Http404(gettext("No such organisation."))
    request.session[SESSION_KEY] = membership.organization_id
    messages.success(
        request, gettext("You are now working in %(organization)s.") % {"organization": membership.organization.name}
    )
    target = request.POST.get("next") or reverse("dashboard")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("dashboard")
    return redirect(target)


@login_required
def no_organization(request):
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_create(name=form.cleaned_data["name"], acting_user=request.user)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            request.session[SESSION_KEY] = org.pk
            messages.success(
                request,
                gettext("%(organization)s is ready. Invite your colleagues from Members.") % {"organization": org.name},
            )
            return redirect("dashboard")
    return render(request, "aims/no_organization.html", {"form": form})


class OrganizationSettingsView(TenantViewMixin, View):
    write_capability = Capability.MANAGE_ORGANIZATION

    def get(self, request, form=None):
        organization = self.tenant.organization
        form = form or OrganizationSettingsForm(initial={"name": organization.name, "language": organization.language})
        return render(
            request, "aims/settings.html", {"form": form, "can_manage": self.tenant.can(self.write_capability)}
        )

    def post(self, request):
        form = OrganizationSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.organization_update(
                    organization=self.tenant.organization,
                    name=form.cleaned_data["name"],
                    language=form.cleaned_data["language"] or None,
                    acting_user=request.user,
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Organisation settings saved."))
                return redirect("organization_settings")
        return self.get(request, form=form)


class MemberListView(TenantViewMixin, RecentAuthenticationRequiredMixin, View):
    write_capability = Capability.MANAGE_MEMBERS

    def get(self, request, form=None):
        can_manage = self.tenant.can(Capability.MANAGE_MEMBERS)
        return render(
            request,
            "aims/members.html",
            {
                "memberships": membership_list(self.tenant.organization),
                "invitations": invitation_pending_list(self.tenant.organization) if can_manage else [],
                "form": form or MemberAddForm(),
                "roles": Role.choices,
                "can_manage": can_manage,
            },
        )

    def post(self, request):
        form = MemberAddForm(request.POST)
        if form.is_valid():
            try:
                invitation = services.member_add(
                    organization=self.tenant.organization,
                    acting_user=request.user,
                    acting_role=self.tenant.role,
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    gettext("An invitation was sent to %(email)s; they join as %(role)s once they accept it.")
                    % {"email": invitation.email, "role": invitation.get_role_display()},
                )
                return redirect("members")
        return self.get(request, form=form)


class MembersActionView(TenantViewMixin, RecentAuthenticationRequiredMixin, View):
    """One step on a member or an invitation (POST only): the service's refusal or success is
    shown on the members page."""

    write_capability = Capability.MANAGE_MEMBERS
    http_method_names = ["post"]
    model: type[Membership] | type[Invitation]

    def post(self, request, pk):
        obj = get_for_tenant_or_404(self.tenant, self.model, pk=pk)
        try:
            done = self.perform(obj, request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, done)
        return redirect("members")

    def perform(self, obj, acting_user) -> str:
        """Call the service for ``acting_user``; return the success message."""
        raise NotImplementedError


class MemberRoleView(MembersActionView):
    model = Membership

    def perform(self, membership, acting_user) -> str:
        form = RoleForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError(form.errors.get("role", [gettext("Choose a role.")])[0])
        services.membership_change_role(
            membership=membership,
            role=form.cleaned_data["role"],
            acting_user=acting_user,
            acting_role=self.tenant.role,
        )
        done = gettext("%(email)s is now %(role)s.") % {
            "email": membership.user.email,
            "role": membership.get_role_display(),
        }
        tokens = api_token_list(self.tenant.organization).filter(created_by=membership.user)
        narrowed = sum(1 for token in tokens if token.is_active and token.is_narrowed)
        if narrowed:
            done += " " + gettext("%(count)s of their API tokens now act as %(role)s, as they do.") % {
                "count": narrowed,
                "role": membership.get_role_display(),
            }
        return done


class MemberRemoveView(MembersActionView):
    model = Membership

    def post(self, request, pk):
        # Leaving is a second step: the first POST shows what it means and asks again.
        membership = get_for_tenant_or_404(self.tenant, Membership, pk=pk)
        if membership.user_id == request.user.pk and request.POST.get("confirm") != "yes":
            return render(request, "aims/member_remove_confirm.html", {"membership": membership})
        response = super().post(request, pk)
        if membership.user_id == request.user.pk and not Membership.objects.filter(pk=pk).exists():
            return redirect("dashboard")
        return response

    def perform(self, membership, acting_user) -> str:
        services.membership_remove(membership=membership, acting_user=acting_user)
        if membership.user_id == acting_user.pk:
            return gettext("You left %(organization)s; your API tokens for it were revoked.") % {
                "organization": self.tenant.organization
            }
        return gettext("%(email)s no longer has access to %(organization)s.") % {
            "email": membership.user.email,
            "organization": self.tenant.organization,
        }


class InvitationRevokeView(MembersActionView):
    model = Invitation

    def perform(self, invitation, acting_user) -> str:
        services.invitation_revoke(invitation=invitation, acting_user=acting_user)
        return gettext("The invitation for %(email)s was revoked.") % {"email": invitation.email}


def invitation_accept(request, token):
    """Public page behind the e-mailed link: sign up, or accept with the matching account."""
    invitation = invitation_from_token(token)
    if invitation is None or not invitation.is_pending:
        return render(request, "aims/invitation_invalid.html", {"invitation": invitation}, status=404)
    existing = User.objects.filter(email__iexact=invitation.email).first()
    form = RegistrationForm(request.POST or None, email=invitation.email) if existing is None else None
    if request.method == "POST":
        if existing is not None and request.user != existing:
            return redirect(f"{reverse('account_login')}?next={request.path}")
        if form is None or form.is_valid():
            try:
                membership = _accept(request, invitation, form)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                request.session[SESSION_KEY] = membership.organization_id
                messages.success(
                    request, gettext("Welcome to %(organization)s.") % {"organization": membership.organization.name}
                )
                return redirect("dashboard")
    context = {"invitation": invitation, "form": form, "existing": existing}
    return render(request, "aims/invitation_accept.html", context)


@transaction.atomic
def _accept(request, invitation, form):
    if form is not None:
        user = services.user_register(
            email=invitation.email, full_name=form.cleaned_data["full_name"], password=form.cleaned_data["password1"]
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return services.invitation_accept(invitation=invitation, user=request.user)


class ApiTokenListView(TenantViewMixin, RecentAuthenticationRequiredMixin, View):
    capability = Capability.MANAGE_TOKENS
    write_capability = Capability.MANAGE_TOKENS

    def get(self, request, form=None, new_key=None):
        return render(
            request,
            "aims/api_tokens.html",
            {"tokens": api_token_list(self.tenant.organization), "form": form or ApiTokenForm(), "new_key": new_key},
        )

    def post(self, request):
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                token, raw_key = services.api_token_create(
                    organization=self.tenant.organization,
                    acting_user=request.user,
                    acting_role=self.tenant.role,
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    gettext("Token “%(name)s” created. Copy it now: it is not shown again.") % {"name": token.name},
                )
                # Rendered, not redirected: the key exists only in this response.
                return self.get(request, form=ApiTokenForm(), new_key=raw_key)
        return self.get(request, form=form)


class ApiTokenRevokeView(TenantViewMixin, View):
    capability = Capability.MANAGE_TOKENS
    write_capability = Capability.MANAGE_TOKENS
    http_method_names = ["post"]

    def post(self, request, pk):
        token = get_for_tenant_or_404(self.tenant, ApiToken, pk=pk)
        services.api_token_revoke(token=token, acting_user=request.user)
        messages.success(
            request, gettext("Token “%(name)s” revoked; calls using it are now refused.") % {"name": token.name}
        )
        return redirect("api_tokens")


class ActivityView(TenantViewMixin, TemplateView):
    """Who changed what in the organisation's settings, members and tokens."""

    template_name = "aims/activity.html"

    def get_context_data(self, **kwargs):
        organization = self.tenant.organization
        older, newer = self.request.GET.get("older", ""), self.request.GET.get("newer", "")

        def render_feed() -> dict[str, str]:
            page = organization_activity(organization, older_than=older or None, newer_than=newer or None)
            html = render_to_string("aims/_activity_feed.html", {"activity": page, "entries": page.entries})
            return {"html": html, "newer": str(page.newer or ""), "older": str(page.older or "")}

        # The same for every member who may read it (no form, nothing of the reader), and stale
        # on the next history row of the organisation: reading 50 entries and their predecessors
        # across the history tables costs more than the rest of the page. One entry serves every
        # reader, where aims.content_cache keeps a page per reader (its forms carry their token).
        cursors = hashlib.sha256(f"{older}\n{newer}".encode()).hexdigest()[:32]
        feed = cached_summary(
            organization.pk, f"activity.{get_language()}.{cursors}", render_feed, scope=ACTIVITY_SCOPE
        )
        return super().get_context_data(
            feed_html=mark_safe(feed["html"]),  # noqa: S308  # an escaping template's output
            activity_newer=feed["newer"],
            activity_older=feed["older"],
            **kwargs,
        )
