"""The API's single permission check: current organisation plus role capability."""

from __future__ import annotations

from rest_framework import exceptions, permissions

from aims.identity.access import REAUTHENTICATION_REFUSAL, recently_authenticated
from aims.roles import Capability
from aims.tenancy import resolve_tenant


class HasOrganizationRole(permissions.BasePermission):
    """Resolve the tenant once per request and check the view's capability for the method.

    Views declare ``read_capability`` (default: view) and ``write_capability``
    (default: edit); ``requires_recent_authentication`` makes a signed-in session's writes
    need a recent sign-in, as the same steps in the pages do. The resolved tenant is kept on
    ``request.tenant``.
    """

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        tenant = resolve_tenant(request._request, user=request.user, auth=request.auth)
        if tenant is None:
            raise exceptions.PermissionDenied("You are not a member of any organisation.")
        request.tenant = tenant
        request._request.tenant = tenant
        if request.method in permissions.SAFE_METHODS:
            needed = getattr(view, "read_capability", Capability.VIEW)
        else:
            needed = getattr(view, "write_capability", Capability.EDIT)
        if needed is None or not tenant.can(needed):
            raise exceptions.PermissionDenied("Your role in this organisation does not allow this.")
        # A step on one object is asked after its lookup (has_object_permission), so that
        # another organisation's object is still 404.
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
        if lookup not in getattr(view, "kwargs", {}):
            _check_recent_authentication(request, view)
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        _check_recent_authentication(request, view)
        return True


def _check_recent_authentication(request, view) -> None:
    if (
        getattr(view, "requires_recent_authentication", False)
        and request.method not in permissions.SAFE_METHODS
        and request.auth is None  # the browser's session; a token acts as itself
        and not recently_authenticated(request._request)
    ):
        raise exceptions.PermissionDenied(REAUTHENTICATION_REFUSAL)
