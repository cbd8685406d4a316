"""Writing the security log. Callers say what happened; the request supplies IP and browser."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from aims.security.models import SecurityEvent


def client_ip(request: HttpRequest | None) -> str | None:
    """The caller's address as the web server saw it (a proxy's header is trusted only via
    ``SECURE_PROXY_SSL_HEADER``-style configuration upstream, not here)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def security_event_record(
    *,
    kind: str,
    request: HttpRequest | None = None,
    user: Any = None,
    organization: Any = None,
    actor: Any = None,
    email: str = "",
    **details: Any,
) -> SecurityEvent:
    """Add one event. ``actor`` defaults to the signed-in user of ``request``."""
    if actor is None and request is not None:
        request_user = getattr(request, "user", None)
        if request_user is not None and request_user.is_authenticated:
            actor = request_user
    if not email and user is not None:
        email = getattr(user, "email", "") or ""
    return SecurityEvent.objects.create(
        kind=kind,
        organization=organization,
        user=user if user is not None and getattr(user, "pk", None) else None,
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        email=(email or "")[:254],
        ip_address=client_ip(request),
        user_agent=(request.headers.get("user-agent", "") if request is not None else "")[:300],
        details={key: value for key, value in details.items() if value is not None},
    )
