"""One row per security-relevant event; rows are only ever added, never changed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SecurityEvent(models.Model):
    """Something an administrator or an auditor of access may need to see later.

    ``organization`` is empty for events that belong to a person rather than to one
    organisation (a sign-in, a failed sign-in, an MFA change); those are shown to the
    administrators of every organisation the person belongs to.
    """

    class Kind(models.TextChoices):
        LOGIN = "login", _("Signed in")
        LOGIN_FAILED = "login_failed", _("Sign-in failed")
        LOCKED_OUT = "locked_out", _("Sign-in refused: too many failures")
        LOGOUT = "logout", _("Signed out")
        SESSIONS_ENDED = "sessions_ended", _("Signed out everywhere")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PASSWORD_RESET = "password_reset", _("Password reset")
        MFA_ADDED = "mfa_added", _("Second factor added")
        MFA_REMOVED = "mfa_removed", _("Second factor removed")
        RECOVERY_CODES = "recovery_codes", _("Recovery codes generated")
        SSO_LOGIN = "sso_login", _("Signed in with single sign-on")
        SSO_REFUSED = "sso_refused", _("Single sign-on refused")
        SSO_CHANGED = "sso_changed", _("Single sign-on settings changed")
        SECURITY_POLICY_CHANGED = "policy_changed", _("Security policy changed")
        TOKEN_CREATED = "token_created", _("API token created")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")
        SCIM_TOKEN_CHANGED = "scim_token", _("SCIM token changed")
        MEMBER_INVITED = "member_invited", _("Member invited")
        MEMBER_JOINED = "member_joined", _("Member joined")
        MEMBER_ROLE_CHANGED = "member_role", _("Member role changed")
        MEMBER_REMOVED = "member_removed", _("Member removed")
        MEMBER_PROVISIONED = "member_provisioned", _("Member provisioned by the identity provider")
        MEMBER_DEACTIVATED = "member_deactivated", _("Member deactivated by the identity provider")
        ORGANIZATION_CREATED = "org_created", _("Organisation created")

    kind = models.CharField(max_length=32, choices=Kind.choices)
    organization = models.ForeignKey(
        "aims.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The address typed at a failed sign-in, kept even when no account has it.
    email = models.CharField(max_length=254, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organization", "-created_at"]), models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.email or self.user_id}) at {self.created_at:%Y-%m-%d %H:%M}"
