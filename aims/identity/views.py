"""Account security pages (the hub, sessions) and the organisation's security policy page."""

from __future__ import annotations

from allauth.usersessions.views import ListUserSessionsView
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.views import View
from django.views.generic import TemplateView

from aims import services as aims_services
from aims.access import TenantViewMixin
from aims.forms import LanguageForm, apply_service_errors
from aims.i18n import remember_choice
from aims.identity import selectors, services
from aims.identity.access import RecentAuthenticationRequiredMixin
from aims.identity.policy import policy_snapshot_refresh
from aims.identity.policy_forms import SecurityPolicyForm
from aims.roles import Capability


class AccountSecurityView(LoginRequiredMixin, TemplateView):
    """One page for the person's password, second factors and sessions."""

    template_name = "aims/security/account.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        sessions = selectors.session_list(user, current_key=self.request.session.session_key)
        kwargs.setdefault("language_form", LanguageForm(initial={"language": user.language}))
        return super().get_context_data(mfa=selectors.mfa_overview(user), session_count=len(sessions), **kwargs)

    def post(self, request):
        """The member's language (the page's one form that is not a security step)."""
        form = LanguageForm(request.POST)
        if form.is_valid():
            language = form.cleaned_data["language"]
            aims_services.user_language_set(user=request.user, language=language)
            messages.success(request, gettext("Language saved."))
            response = redirect("account_security")
            remember_choice(response, language)
            return response
        return self.render_to_response(self.get_context_data(language_form=form), status=400)


class SessionListView(ListUserSessionsView):
    """allauth's sessions page with browser names; "sign out everywhere else" is logged."""

    template_name = "usersessions/usersession_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = selectors.session_list(self.request.user, current_key=self.request.session.session_key)
        return context

    def form_valid(self, form):
        ended = services.sessions_end_others(request=self.request, user=self.request.user)
        messages.success(
            self.request,
            ngettext("Signed out of %(count)s other session.", "Signed out of %(count)s other sessions.", ended)
            % {"count": ended}
            if ended
            else gettext("No other session was open."),
        )
        return redirect("usersessions_list")


class SecurityPolicyView(TenantViewMixin, RecentAuthenticationRequiredMixin, View):
    """Every member may read the policy; administrators change it."""

    write_capability = Capability.MANAGE_ORGANIZATION

    def get(self, request, form=None):
        policy = selectors.security_policy_get(self.tenant.organization)
        can_manage = self.tenant.can(self.write_capability)
        return render(
            request,
            "aims/security/policy.html",
            {"policy": policy, "form": form or SecurityPolicyForm(instance=policy), "can_manage": can_manage},
        )

    def post(self, request):
        form = SecurityPolicyForm(request.POST, instance=selectors.security_policy_get(self.tenant.organization))
        if form.is_valid():
            try:
                services.security_policy_update(
                    organization=self.tenant.organization,
                    acting_user=request.user,
                    request=request,
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                # The administrator's own session follows the new policy at once; others within a minute.
                policy_snapshot_refresh(request)
                messages.success(
                    request, gettext("Security policy saved. Members' sessions follow it within a minute.")
                )
                return redirect("security_policy")
        return self.get(request, form=form)
