"""Template context for every page: the current organisation, role and the user's others."""

from __future__ import annotations

from functools import cache
from types import MappingProxyType

from aims.roles import Capability, role_can
from aims.tenancy import get_tenant


@cache
def _capabilities(role: str | None) -> MappingProxyType[str, bool]:
    """What ``role`` may do, as templates read it (``can.edit``): the same for every page, so built once."""
    return MappingProxyType({c.value: role_can(role, c) for c in Capability})


def tenant(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from aims.selectors import user_memberships

    current = get_tenant(request)
    return {
        "tenant": current,
        # Read with the tenant (aims.tenancy.resolve_tenant); a page without one never shows them.
        "my_memberships": current.memberships
        if current is not None and current.memberships
        else user_memberships(user),
        "can": _capabilities(current.role if current is not None else None),
    }


def notifications(request):
    """``unread_notifications``: the member's unread count, counted only if a template shows it."""
    from django.utils.functional import SimpleLazyObject

    user = getattr(request, "user", None)
    current = get_tenant(request) if user is not None and user.is_authenticated else None
    if current is None or current.user is None:
        return {}

    def count() -> int:
        from aims.collaboration.selectors import unread_count

        return unread_count(current)

    return {"unread_notifications": SimpleLazyObject(count)}


def portal(request):
    """Instance settings every page may need, signed in or not."""
    from django.conf import settings

    return {"signup_enabled": settings.SIGNUP_ENABLED}
