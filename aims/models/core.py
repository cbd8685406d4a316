"""Users, organisations (the tenants), memberships, invitations and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from aims.roles import Role, administrator_roles, role_lower
from aims.tenancy import OrganizationHistoricalRecords, TenantModel, TenantQuerySet


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        # Accounts made here (shell, admin, tests) are trusted: their address counts as verified.
        from aims.identity.services import email_mark_verified

        email_mark_verified(user)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractUser):
    """A person who signs in with an e-mail address; may belong to several organisations."""

    # Removed fields (Django's documented way to drop a field of AbstractUser); the stubs type them as str.
    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    language = models.CharField(
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("The portal's language for this person; empty: their organisation's default."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # The e-mail based manager replaces AbstractUser's username one.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class Organization(models.Model):
    """The tenant: every AIMS record belongs to exactly one organisation."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    language = models.CharField(
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The portal's language for members who have not chosen one."),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = OrganizationHistoricalRecords(scope="id")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(TenantQuerySet):
    def admins(self) -> MembershipQuerySet:
        return self.filter(role__in=administrator_roles())


class Membership(TenantModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = MembershipQuerySet.as_manager()  # type: ignore[misc]  # narrows TenantModel's manager

    class Meta:
        ordering = ["user__email"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.organization}"


class Invitation(TenantModel):
    """An invitation e-mailed to someone who has no account yet.

    The link carries a signed invitation id, so no secret is stored here or sent
    through the task queue.
    """

    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class ApiTokenQuerySet(TenantQuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())

    def with_creator_role(self):
        """Annotate ``creator_role``: the creator's current role in the token's organisation, or
        None once they are no longer a member; read in the same query as the token."""
        return self.annotate(
            creator_role=models.Subquery(
                Membership.objects.filter(
                    organization=models.OuterRef("organization"), user=models.OuterRef("created_by")
                ).values("role")[:1]
            )
        )


class ApiToken(TenantModel):
    """A credential for integrators: one organisation, one role, stored only as a hash."""

    PREFIX = "aims_"

    name = models.CharField(max_length=100)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    key_prefix = models.CharField(max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()  # type: ignore[misc]  # narrows TenantModel's manager

    class Meta:
        verbose_name = _("API token")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def hash_key(raw_key: str) -> str:
        # Tokens are 256-bit random values, so a fast hash is enough: there is nothing to brute-force.
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @classmethod
    def generate_key(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def effective_role(self) -> str | None:
        """What the token may do now: the lower of its own role and its creator's current role
        (None when the creator has left). Needs ``with_creator_role()``."""
        creator_role = self.creator_role  # type: ignore[attr-defined]
        return None if creator_role is None else role_lower(self.role, creator_role)

    @property
    def is_narrowed(self) -> bool:
        """True when the creator's role is now below the token's own: the token acts as that role."""
        return self.effective_role is not None and self.effective_role != self.role

    def get_effective_role_display(self) -> str:
        return (
            str(Role(self.effective_role).label) if self.effective_role else gettext("Nothing (its creator has left)")
        )

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "active"


INVITATION_SALT = "aims.invitation"


def invitation_token(invitation: Invitation) -> str:
    from django.core import signing

    return signing.dumps(invitation.pk, salt=INVITATION_SALT)


def invitation_from_token(token: str) -> Invitation | None:
    """The invitation a link points to, or None when the link is forged or too old."""
    from django.conf import settings
    from django.core import signing

    try:
        pk = signing.loads(token, salt=INVITATION_SALT, max_age=settings.INVITATION_MAX_AGE_DAYS * 86400)
    except signing.BadSignature:
        return None
    return Invitation.objects.select_related("organization", "invited_by").filter(pk=pk).first()
