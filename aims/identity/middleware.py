"""Session bookkeeping and the organisations' security policies, at no query for ordinary requests."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from urllib.parse import urlencode

from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext

from aims.identity.policy import mfa_setup_required, policy_snapshot, policy_snapshot_refresh

# Paths a load balancer or the container polls; they never touch the database.
UNTRACKED_PATHS = ("/healthz", "/readyz", "/static/", "/favicon.ico")
# The "Sessions" page shows when each session was last used to within this many seconds; the
# idle timeout is measured from the same mark, so it too is exact to about a minute.
ACTIVITY_RESOLUTION_SECONDS = 60
ACTIVITY_SESSION_KEY = "_aims_activity_tracked_at"
API_PREFIX = "/api/"
MFA_SETUP_REFUSAL = (
    "Your organisation requires two-factor authentication for your role. "
    "Set up an authenticator app or a security key under Account security before continuing."
)


def activity_mark_tracked(request: HttpRequest) -> None:
    """Note in the session that its activity was just recorded (sign-in records it)."""
    if hasattr(request, "session"):
        request.session[ACTIVITY_SESSION_KEY] = int(time.time())


@cache
def _mfa_setup_paths() -> tuple[str, ...]:
    """Where a person who must set up a second factor may still go: the two-factor pages
    (setup, sign-in step, re-authentication), the password re-authentication, sign-out, and
    the organisation switcher (another of their organisations may not require it)."""
    return (
        reverse("mfa_index"),
        reverse("account_reauthenticate"),
        reverse("account_logout"),
        reverse("organization_switch"),
    )


class SessionActivityMiddleware:
    """allauth's session tracking (IP, browser, last seen) at most once a minute per session,
    the idle timeout, and the requirement to set up a second factor.

    allauth's own tracking writes on every request; a page would pay two queries for it. The
    policies are read from the session snapshot of :mod:`aims.identity.policy`, refreshed with
    the activity mark.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.path.startswith(UNTRACKED_PATHS)
            or not hasattr(request, "session")
            or not request.session.session_key
            or not request.user.is_authenticated
        ):
            return self.get_response(request)
        now = int(time.time())
        tracked_at = int(request.session.get(ACTIVITY_SESSION_KEY, 0))
        snapshot = policy_snapshot(request)
        idle_minutes = snapshot["idle_minutes"] if snapshot else None
        if idle_minutes and tracked_at and now - tracked_at > idle_minutes * 60:
            return self._sign_out_idle(request, idle_minutes)
        if snapshot is None or now - tracked_at >= ACTIVITY_RESOLUTION_SECONDS:
            UserSession.objects.create_from_request(request)
            activity_mark_tracked(request)
            snapshot = policy_snapshot_refresh(request)
        if snapshot is not None and mfa_setup_required(request, snapshot):
            # Shown as a banner by base.html on the pages that stay open.
            request.mfa_setup_required = True  # type: ignore[attr-defined]
            if not request.path.startswith(_mfa_setup_paths()):
                return self._refuse_until_mfa(request)
        return self.get_response(request)

    def _sign_out_idle(self, request: HttpRequest, idle_minutes: int) -> HttpResponse:
        logout(request)
        if request.path.startswith(API_PREFIX):
            # The API answers as to anyone signed out (403), not with a page to go to.
            return self.get_response(request)
        messages.info(
            request,
            gettext("You were signed out after %(minutes)s minutes without activity. Sign in again to continue.")
            % {"minutes": idle_minutes},
        )
        return redirect(f"{reverse('account_login')}?{urlencode({'next': request.get_full_path()})}")

    def _refuse_until_mfa(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            if request.headers.get("authorization", "").lower().startswith("bearer "):
                # A token acts as itself; the requirement is for people signing in to the pages.
                return self.get_response(request)
            return JsonResponse({"detail": MFA_SETUP_REFUSAL}, status=403)
        return redirect("mfa_index")
