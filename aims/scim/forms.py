"""The Provisioning page's forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from aims.roles import Role, role_is_administrator


class ScimDefaultRoleForm(forms.Form):
    default_role = forms.ChoiceField(
        label=_("Default role"),
        choices=[(value, label) for value, label in Role.choices if not role_is_administrator(value)],
        help_text=_("Given to provisioned members who are in no group mapped to a role."),
    )
