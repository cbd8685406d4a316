"""The sign-in form, worded as the rest of the portal, and e-mail first.

The address decides the way in: an address of a domain with a single sign-on connection
and no password is sent on to the organisation's identity provider; any other address
signs in with its password, as before. Only the domain decides, never whether an account
exists, so an unknown address is answered like a known one without single sign-on. When
the organisation requires single sign-on, a password sign-in of its members is refused
(after the password was checked, so the answer tells nothing to someone without it),
except for the organisation's break-glass administrator while they are one of its
administrators; accounts of the domain that belong to other organisations keep their password.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aims.security.models import SecurityEvent
from aims.security.services import security_event_record
from aims.sso.models import SsoConnection
from aims.sso.selectors import sso_connection_for_email, sso_password_allowed

SSO_REQUIRED_MESSAGE = _(
    "%(organization)s signs in with single sign-on only. Leave the password empty and choose "
    "“Sign in”, to continue with your organisation's identity provider."
)


class LoginForm(AllauthLoginForm):
    sso_connection: SsoConnection | None = None
    user: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("E-mail address")
        self.fields["login"].widget.attrs.update({"autocomplete": "email", "autofocus": True})
        self.fields["login"].widget.attrs.pop("placeholder", None)
        self.fields["password"].widget.attrs.pop("placeholder", None)
        # Empty is allowed for an address of a single sign-on domain; clean() asks for it otherwise.
        self.fields["password"].required = False
        self.fields["password"].help_text = _("Leave empty if your organisation signs in with single sign-on.")
        self.fields.pop("remember", None)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = forms.Form.clean(self) or {}
        if self._errors:
            return cleaned
        self.sso_connection = sso_connection_for_email(cleaned.get("login", ""))
        if not cleaned.get("password"):
            if self.sso_connection is None:
                self.add_error("password", gettext("Enter your password."))
            return cleaned
        cleaned = super().clean() or {}
        connection = self.sso_connection
        if self.user is not None and connection is not None and not sso_password_allowed(connection, self.user):
            security_event_record(
                kind=SecurityEvent.Kind.SSO_REFUSED,
                request=self.request,
                user=self.user,
                organization=connection.organization,
                reason="password_sign_in_while_sso_required",
            )
            self.user = None
            raise forms.ValidationError(SSO_REQUIRED_MESSAGE % {"organization": connection.organization.name})
        return cleaned

    def login(self, request: HttpRequest, redirect_url: str | None = None) -> HttpResponse:
        connection = self.sso_connection
        if connection is not None and not self.cleaned_data.get("password"):
            provider = connection.social_app.get_provider(request)  # type: ignore[union-attr]
            hint = {}
            if connection.protocol == SsoConnection.Protocol.OIDC:
                # The provider's own sign-in page starts with the address already typed.
                hint = {"auth_params": urlencode({"login_hint": self.cleaned_data["login"]})}
            return render(
                request,
                "aims/sso/continue.html",
                {
                    "connection": connection,
                    "provider_login_url": provider.get_login_url(request, **hint),
                    "redirect_url": redirect_url or "",
                    "email": self.cleaned_data["login"],
                },
            )
        return super().login(request, redirect_url=redirect_url)
