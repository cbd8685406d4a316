"""The Provisioning page's forms."""

from __future__ import annotations

from django import forms

from aims.roles import Role, role_is_administrator


class ScimDefaultRoleForm(forms.Form):
    default_role = forms.ChoiceField(
        label="Default role",
        choices=[(value, label) for value, label in Role.choices if not role_is_administrator(value)],
        help_text="Given to provisioned members who are in no group mapped to a role.",
    )
