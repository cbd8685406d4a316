"""Keep the session's view of the security policies current when the person's factors change."""

from __future__ import annotations

from typing import Any

from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from aims.identity.policy import policy_snapshot_refresh


@receiver(user_logged_in, dispatch_uid="identity-policy-login")
@receiver(authenticator_added, dispatch_uid="identity-policy-mfa-added")
@receiver(authenticator_removed, dispatch_uid="identity-policy-mfa-removed")
def _refresh_policy(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None:
        policy_snapshot_refresh(request, user)
