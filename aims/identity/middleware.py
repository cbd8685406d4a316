"""Session bookkeeping that must not cost health probes a query."""

from __future__ import annotations

from allauth.usersessions.middleware import UserSessionsMiddleware
from django.http import HttpRequest, HttpResponse

# Paths a load balancer or the container polls; they never touch the database.
UNTRACKED_PATHS = ("/healthz", "/readyz", "/static/", "/favicon.ico")


class SessionActivityMiddleware(UserSessionsMiddleware):
    """allauth's session tracking (the "Sessions" page lists what it records), skipped for probes."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(UNTRACKED_PATHS):
            return self.get_response(request)
        return super().__call__(request)
