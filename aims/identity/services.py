"""Writes for sign-in identities."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress


def email_mark_verified(user: Any) -> None:
    """Record ``user``'s address as verified and primary.

    For accounts made through a route that already proved the address (an accepted
    invitation, an identity provider, an instance administrator's shell), so that
    allauth's mandatory verification does not ask them again.
    """
    EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).update(primary=False)
    EmailAddress.objects.update_or_create(
        user=user, email__iexact=user.email, defaults={"email": user.email, "verified": True, "primary": True}
    )
