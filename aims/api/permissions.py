"""The API's single permission check: current organisation plus role capability."""

from __future__ import annotations

from rest_framework import exceptions, permissions

from aims.roles import Capability
from aims.tenancy import resolve_tenant


class HasOrganizationRole(permissions.BasePermission):
    """Resolve the tenant once per request and check the view's capability for the method.

    Views declare ``read_capability`` (default: view) and ``write_capability``
    (default: edit). The resolved tenant is kept on ``request.tenant``.
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
        return True
