"""Sign-in events from Django and allauth, written to the security log."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import password_changed, password_reset
from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_reset
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from aims.identity.middleware import activity_mark_tracked
from aims.security.models import SecurityEvent
from aims.security.services import security_event_record


@receiver(user_logged_in, dispatch_uid="security-login")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # allauth records the new session on sign-in: the next minute of requests need not.
    activity_mark_tracked(request)
    security_event_record(kind=SecurityEvent.Kind.LOGIN, request=request, user=user, actor=user)


@receiver(user_logged_out, dispatch_uid="security-logout")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        security_event_record(kind=SecurityEvent.Kind.LOGOUT, request=request, user=user, actor=user)


@receiver(user_login_failed, dispatch_uid="security-login-failed")
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    from aims.models import User

    email = str(credentials.get("email") or credentials.get("username") or "")
    user = User.objects.filter(email__iexact=email).first() if email else None
    security_event_record(kind=SecurityEvent.Kind.LOGIN_FAILED, request=request, user=user, email=email)


@receiver(password_changed, dispatch_uid="security-password-changed")
def _password_changed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    security_event_record(kind=SecurityEvent.Kind.PASSWORD_CHANGED, request=request, user=user)


@receiver(password_reset, dispatch_uid="security-password-reset")
def _password_reset(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    security_event_record(kind=SecurityEvent.Kind.PASSWORD_RESET, request=request, user=user, actor=user)


@receiver(authenticator_added, dispatch_uid="security-mfa-added")
def _mfa_added(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    security_event_record(kind=SecurityEvent.Kind.MFA_ADDED, request=request, user=user, method=authenticator.type)


@receiver(authenticator_removed, dispatch_uid="security-mfa-removed")
def _mfa_removed(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    security_event_record(kind=SecurityEvent.Kind.MFA_REMOVED, request=request, user=user, method=authenticator.type)


@receiver(authenticator_reset, dispatch_uid="security-mfa-reset")
def _mfa_reset(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    security_event_record(kind=SecurityEvent.Kind.RECOVERY_CODES, request=request, user=user)
