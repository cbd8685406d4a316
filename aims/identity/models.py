"""What an organisation's identity provider says about its people, turned into roles."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from aims.roles import Role
from aims.tenancy import TenantModel


class IdpGroupRole(TenantModel):
    """A group name of the identity provider (an SSO claim or a SCIM group) and the portal role
    its members get. A person in several mapped groups gets the highest of their roles."""

    group = models.CharField(_("identity provider group"), max_length=200)
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        ordering = ["group"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "group"], name="idp_group_role_unique_group"),
        ]

    def __str__(self) -> str:
        return f"{self.group} → {self.get_role_display()}"


# The idle timeout an administrator may choose: long enough to read a report, at most a day.
IDLE_TIMEOUT_MIN_MINUTES = 5
IDLE_TIMEOUT_MAX_MINUTES = 1440


def _idle_timeout_text() -> str:
    return gettext(
        "Sign members out after this many minutes without activity (from %(min)s to %(max)s). "
        "Leave empty for no timeout."
    ) % {"min": IDLE_TIMEOUT_MIN_MINUTES, "max": IDLE_TIMEOUT_MAX_MINUTES}


# Read in the language of each page that shows it, like a gettext_lazy text.
_idle_timeout_help = lazy(_idle_timeout_text, str)


class SecurityPolicy(models.Model):
    """How an organisation wants its members to sign in: who needs a second factor, and how
    long a session may sit unused. Organisations without a row have the defaults (nobody, none)."""

    class MfaRequirement(models.TextChoices):
        NOBODY = "nobody", _("Nobody")
        PRIVILEGED = "privileged", _("Administrators and compliance officers")
        EVERYONE = "everyone", _("All members")

    organization = models.OneToOneField("aims.Organization", on_delete=models.CASCADE, related_name="security_policy")
    mfa_required = models.CharField(
        _("two-factor authentication required for"),
        max_length=16,
        choices=MfaRequirement.choices,
        default=MfaRequirement.NOBODY,
    )
    idle_timeout_minutes = models.PositiveSmallIntegerField(
        _("idle timeout (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(IDLE_TIMEOUT_MIN_MINUTES), MaxValueValidator(IDLE_TIMEOUT_MAX_MINUTES)],
        help_text=_idle_timeout_help(),
    )
    sso_counts_as_mfa = models.BooleanField(
        _("a sign-in through our identity provider counts as two-factor"),
        default=False,
        help_text=_(
            "Tick it when the identity provider of the organisation's single sign-on asks for a second factor "
            "itself; its members are then not asked to set one up here."
        ),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = _("security policies")

    def __str__(self) -> str:
        return f"Security policy of {self.organization}"

    def requires_mfa_for(self, role: str) -> bool:
        if self.mfa_required == self.MfaRequirement.EVERYONE:
            return True
        return self.mfa_required == self.MfaRequirement.PRIVILEGED and role in PRIVILEGED_ROLES


PRIVILEGED_ROLES = frozenset({Role.ADMIN, Role.OFFICER})
