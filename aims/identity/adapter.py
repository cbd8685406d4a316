"""allauth's account adapter: who may sign up, and lockouts told to the security log."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from aims.security.models import SecurityEvent
from aims.security.services import security_event_record


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": _(
            "Too many failed sign-in attempts. Sign-in is paused for this address; try again in 10 minutes "
            "or reset your password."
        ),
        "email_password_mismatch": _("The e-mail address or the password is not right."),
    }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(settings.SIGNUP_ENABLED)

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            security_event_record(
                kind=SecurityEvent.Kind.LOCKED_OUT, request=request, email=str(credentials.get("email") or "")
            )
            raise
