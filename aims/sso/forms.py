"""The single sign-on settings form of an organisation."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aims.models import User
from aims.roles import Role, administrator_roles
from aims.sso.models import SsoConnection
from aims.sso.services import LOGGED_FIELDS
from aims.tenancy import Tenant

ROLE_BY_NAME = {**{value: value for value in Role.values}, **{label.casefold(): value for value, label in Role.choices}}


class SsoConnectionForm(forms.Form):
    protocol = forms.ChoiceField(label=_("Protocol"), choices=SsoConnection.Protocol.choices, widget=forms.RadioSelect)
    domains = forms.CharField(
        label=_("E-mail domains"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line, e.g. example.com. People with these addresses are sent to your identity provider."),
    )
    oidc_issuer = forms.URLField(
        label=_("Issuer URL"),
        required=False,
        assume_scheme="https",
        help_text=_("Its discovery document is read from it."),
    )
    oidc_client_id = forms.CharField(label=_("Client ID"), required=False, max_length=255)
    oidc_client_secret = forms.CharField(
        label=_("Client secret"),
        required=False,
        max_length=255,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
        help_text=_("Never shown again. Leave empty to keep the saved secret."),
    )
    saml_metadata_url = forms.URLField(label=_("IdP metadata URL"), required=False, assume_scheme="https")
    saml_metadata_xml = forms.CharField(
        label=_("IdP metadata XML"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Instead of the URL: paste the metadata your identity provider exports."),
    )
    saml_entity_id = forms.CharField(label=_("IdP entity ID"), required=False, max_length=500)
    saml_sso_url = forms.URLField(label=_("IdP single sign-on URL"), required=False, assume_scheme="https")
    saml_x509cert = forms.CharField(
        label=_("IdP signing certificate"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("PEM. Needed with the entity ID and URL; the metadata carries its own."),
    )
    default_role = forms.ChoiceField(label=_("Role of new members"), choices=Role.choices, initial=Role.VIEWER)
    groups_claim = forms.CharField(
        label=_("Groups claim or attribute"),
        required=False,
        max_length=200,
        initial="groups",
        help_text=_("The name under which your identity provider sends a person's groups."),
    )
    group_roles = forms.CharField(
        label=_("Group roles"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One “group = role” per line, e.g. “aims-admins = admin”. The highest mapped role wins."),
    )
    sso_required = forms.BooleanField(
        label=_("Require single sign-on (no password sign-in except the break-glass administrator)"), required=False
    )
    break_glass_admin = forms.ModelChoiceField(
        label=_("Break-glass administrator"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("An administrator who may still sign in with password and MFA if the identity provider fails."),
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["break_glass_admin"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            memberships__organization=tenant.organization, memberships__role__in=administrator_roles()
        ).order_by("email")

    @classmethod
    def initial_for(cls, connection: SsoConnection | None, group_roles: list[tuple[str, str]]) -> dict[str, Any]:
        mappings = "\n".join(f"{group} = {role}" for group, role in group_roles)
        if connection is None:
            return {"protocol": SsoConnection.Protocol.OIDC, "group_roles": mappings}
        initial = {name: getattr(connection, name) for name in LOGGED_FIELDS}
        # The log compares the member's id; the choice field takes the same id as its initial value.
        initial["break_glass_admin"] = initial.pop("break_glass_admin_id")
        initial["domains"] = "\n".join(row.domain for row in connection.domains.all())
        initial["group_roles"] = mappings
        return initial

    def clean_domains(self) -> list[str]:
        return [item for item in re.split(r"[\s,;]+", self.cleaned_data["domains"]) if item]

    def clean_group_roles(self) -> list[tuple[str, str]]:
        pairs = []
        for number, line in enumerate(self.cleaned_data["group_roles"].splitlines(), start=1):
            if not line.strip():
                continue
            group, sep, role = line.rpartition("=")
            role_value = ROLE_BY_NAME.get(role.strip().casefold())
            if not sep or not group.strip() or role_value is None:
                raise forms.ValidationError(
                    gettext("Line %(number)s (“%(line)s”): write “group = role”, the role one of %(roles)s.")
                    % {"number": number, "line": line.strip(), "roles": ", ".join(Role.values)}
                )
            pairs.append((group.strip(), role_value))
        return pairs
