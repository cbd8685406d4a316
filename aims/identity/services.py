"""Writes for sign-in identities."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.usersessions.internal.flows.sessions import end_sessions
from allauth.usersessions.models import UserSession
from django.db import transaction
from django.http import HttpRequest

from aims.identity.models import SecurityPolicy
from aims.records import record_save
from aims.security.models import SecurityEvent
from aims.security.services import security_event_record


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


def _policy_facts(policy: SecurityPolicy) -> dict[str, Any]:
    return {
        "mfa_required": policy.mfa_required,
        "sso_counts_as_mfa": policy.sso_counts_as_mfa,
        "idle_timeout_minutes": policy.idle_timeout_minutes,
    }


@transaction.atomic
def security_policy_update(
    *,
    organization: Any,
    mfa_required: str,
    idle_timeout_minutes: int | None,
    acting_user: Any,
    sso_counts_as_mfa: bool = False,
    request: HttpRequest | None = None,
) -> SecurityPolicy:
    """Set ``organization``'s security policy (its history keeps each version) and log the change.

    Members' sessions apply it within a minute (see :mod:`aims.identity.policy`).
    """
    policy = SecurityPolicy.objects.select_for_update().filter(organization=organization).first()
    if policy is None:
        policy = SecurityPolicy(organization=organization)
    previous = _policy_facts(policy)
    policy.mfa_required = mfa_required
    policy.idle_timeout_minutes = idle_timeout_minutes
    policy.sso_counts_as_mfa = bool(sso_counts_as_mfa)
    record_save(policy, acting_user=acting_user)
    current = _policy_facts(policy)
    if current != previous:
        security_event_record(
            kind=SecurityEvent.Kind.SECURITY_POLICY_CHANGED,
            request=request,
            organization=organization,
            actor=acting_user,
            previous=previous,
            current=current,
        )
    return policy


def sessions_end_others(*, request: HttpRequest, user: Any) -> int:
    """Sign ``user`` out of every session but the one of ``request``; return how many ended."""
    current = request.session.session_key
    others = [session for session in UserSession.objects.filter(user_id=user.pk) if session.session_key != current]
    end_sessions(request, others)
    security_event_record(kind=SecurityEvent.Kind.SESSIONS_ENDED, request=request, user=user, ended=len(others))
    return len(others)
