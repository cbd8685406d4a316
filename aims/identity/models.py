"""What an organisation's identity provider says about its people, turned into roles."""

from __future__ import annotations

from django.db import models

from aims.roles import Role
from aims.tenancy import TenantModel


class IdpGroupRole(TenantModel):
    """A group name of the identity provider (an SSO claim or a SCIM group) and the portal role
    its members get. A person in several mapped groups gets the highest of their roles."""

    group = models.CharField("identity provider group", max_length=200)
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        ordering = ["group"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "group"], name="idp_group_role_unique_group"),
        ]

    def __str__(self) -> str:
        return f"{self.group} → {self.get_role_display()}"
