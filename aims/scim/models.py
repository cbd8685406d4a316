"""SCIM provisioning of an organisation: its token and default role, and the users and groups its
identity provider manages (RFC 7643)."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aims.roles import Role
from aims.tenancy import TenantModel


class ScimProvisioning(TenantModel):
    """One per organisation: the SCIM bearer token (only its hash) and the role new members get.

    A revoked or rotated token is forgotten (its hash cleared or replaced), so it no longer
    matches any request.
    """

    PREFIX = "aims_scim_"

    default_role = models.CharField(
        max_length=16,
        choices=Role.choices,
        default=Role.VIEWER,
        help_text=_("Role of a provisioned member who is in no group mapped to a role."),
    )
    token_prefix = models.CharField(max_length=24, blank=True, editable=False)
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    token_created_at = models.DateTimeField(null=True, blank=True)
    token_created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("SCIM provisioning")
        constraints = [models.UniqueConstraint(fields=["organization"], name="scim_provisioning_one_per_org")]

    def __str__(self) -> str:
        return f"SCIM provisioning of {self.organization}"

    @staticmethod
    def hash_token(raw_token: str) -> str:
        # A 256-bit random value: a fast hash is enough, there is nothing to brute-force.
        return hashlib.sha256(raw_token.encode()).hexdigest()

    @classmethod
    def generate_token(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def has_token(self) -> bool:
        return bool(self.token_hash)


class ScimUser(TenantModel):
    """A SCIM User: one person's membership of the organisation as the identity provider sees it.

    Kept while the person is deactivated (``active`` false, no membership), so the identity
    provider can turn them on again under the same id.
    """

    scim_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    user_name = models.CharField(max_length=254)
    external_id = models.CharField(max_length=200, blank=True)
    given_name = models.CharField(max_length=150, blank=True)
    family_name = models.CharField(max_length=150, blank=True)
    formatted_name = models.CharField(max_length=300, blank=True)
    display_name = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)
    # True when provisioning made the account: only then may the identity provider rename it.
    account_created = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("SCIM user")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="scim_user_one_per_person"),
            models.UniqueConstraint(Lower("user_name"), "organization", name="scim_user_unique_user_name"),
        ]

    def __str__(self) -> str:
        return self.user_name


class ScimGroup(TenantModel):
    """A SCIM Group. Its display name is looked up in the organisation's identity-provider group
    roles (:class:`aims.identity.models.IdpGroupRole`) to give its members a role."""

    scim_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(max_length=200)
    external_id = models.CharField(max_length=200, blank=True)
    members = models.ManyToManyField(ScimUser, blank=True, related_name="groups")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("SCIM group")
        ordering = ["display_name", "pk"]
        constraints = [
            models.UniqueConstraint(Lower("display_name"), "organization", name="scim_group_unique_display_name"),
        ]

    def __str__(self) -> str:
        return self.display_name
