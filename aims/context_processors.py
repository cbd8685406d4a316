"""Template context for every page: the current organisation, role and the user's others."""

from __future__ import annotations

from aims.roles import Capability
from aims.tenancy import get_tenant


def tenant(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from aims.selectors import user_memberships

    current = get_tenant(request)
    return {
        "tenant": current,
        "my_memberships": user_memberships(user),
        "can": {c.value: bool(current and current.can(c)) for c in Capability},
    }


def portal(request):
    """Instance settings every page may need, signed in or not."""
    from django.conf import settings

    return {"signup_enabled": settings.SIGNUP_ENABLED}
