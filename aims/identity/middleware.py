"""Session bookkeeping that costs ordinary requests no query."""

from __future__ import annotations

import time

from allauth.usersessions.models import UserSession
from django.http import HttpRequest, HttpResponse

# Paths a load balancer or the container polls; they never touch the database.
UNTRACKED_PATHS = ("/healthz", "/readyz", "/static/", "/favicon.ico")
# The "Sessions" page shows when each session was last used to within this many seconds.
ACTIVITY_RESOLUTION_SECONDS = 60
ACTIVITY_SESSION_KEY = "_aims_activity_tracked_at"


def activity_mark_tracked(request: HttpRequest) -> None:
    """Note in the session that its activity was just recorded (sign-in records it)."""
    if hasattr(request, "session"):
        request.session[ACTIVITY_SESSION_KEY] = int(time.time())


class SessionActivityMiddleware:
    """allauth's session tracking (IP, browser, last seen), at most once a minute per session.

    allauth's own middleware writes on every request; a page would pay two queries for it.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            not request.path.startswith(UNTRACKED_PATHS)
            and hasattr(request, "session")
            and request.session.session_key
            and request.user.is_authenticated
            and int(time.time()) - int(request.session.get(ACTIVITY_SESSION_KEY, 0)) >= ACTIVITY_RESOLUTION_SECONDS
        ):
            UserSession.objects.create_from_request(request)
            activity_mark_tracked(request)
        return self.get_response(request)
