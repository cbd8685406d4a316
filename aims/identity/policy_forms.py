"""The organisation's security policy form (the sign-in forms are in :mod:`aims.identity.forms`)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from aims.identity.models import SecurityPolicy


class SecurityPolicyForm(forms.ModelForm):
    class Meta:
        model = SecurityPolicy
        fields = ["mfa_required", "sso_counts_as_mfa", "idle_timeout_minutes"]
        widgets = {"mfa_required": forms.RadioSelect}
        help_texts = {
            "mfa_required": _(
                "Members it applies to who have no authenticator can only set one up until they do. "
                "Members who have one are always asked for it at sign-in."
            ),
        }
