"""Base classes every tenant-owned API endpoint builds on."""

from __future__ import annotations

from rest_framework import viewsets

from aims.api.permissions import HasOrganizationRole
from aims.roles import Capability


class TenantScopedMixin:
    """Narrow ``queryset`` to the request's organisation; another tenant's rows answer 404."""

    permission_classes = [HasOrganizationRole]
    read_capability = Capability.VIEW
    write_capability = Capability.EDIT

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no tenant
            return super().get_queryset().none()
        return super().get_queryset().for_org(self.request.tenant.organization)


class TenantModelViewSet(TenantScopedMixin, viewsets.ModelViewSet):
    pass


class TenantReadOnlyViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass
