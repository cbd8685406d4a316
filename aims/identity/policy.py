"""What the organisations' security policies ask of one signed-in person, kept in their session.

Pages must not pay a query to know whether their user needs a second factor or has been idle
too long, so the answer is computed at sign-in, again at most once a minute (with the session
activity of :mod:`aims.identity.middleware`), and whenever the person adds or removes an
authenticator, and read from the session on every other request.
"""

from __future__ import annotations

from typing import Any, TypedDict

from allauth.account.authentication import get_authentication_records
from allauth.mfa.utils import is_mfa_enabled
from django.http import HttpRequest

from aims.identity.models import SecurityPolicy

POLICY_SESSION_KEY = "_aims_security_policy"


class PolicySnapshot(TypedDict):
    # Organisations whose policy requires a second factor for the person's role there.
    mfa_orgs: list[int]
    # The organisation a session without a chosen one works in (the first by name).
    default_org: int | None
    # The strictest idle timeout of the person's organisations, in minutes; None for none.
    idle_minutes: int | None
    has_mfa: bool
    # Organisations (id as text, as session JSON keys are) whose identity provider's sign-in
    # stands for the second factor, with the allauth provider id of their connection.
    sso_trusted: dict[str, str]


def policy_snapshot_build(user: Any) -> PolicySnapshot:
    """Read the policies of ``user``'s organisations (two queries)."""
    from aims.models import Membership

    memberships = list(
        Membership.objects.filter(user=user)
        .select_related("organization__security_policy")
        .order_by("organization__name")
    )
    from aims.sso.services import provider_id_for

    mfa_orgs: list[int] = []
    timeouts: list[int] = []
    sso_trusted: dict[str, str] = {}
    for membership in memberships:
        try:
            policy = membership.organization.security_policy
        except SecurityPolicy.DoesNotExist:
            continue
        if policy.requires_mfa_for(membership.role):
            mfa_orgs.append(membership.organization_id)
            if policy.sso_counts_as_mfa:
                sso_trusted[str(membership.organization_id)] = provider_id_for(membership.organization)
        if policy.idle_timeout_minutes:
            timeouts.append(policy.idle_timeout_minutes)
    return PolicySnapshot(
        mfa_orgs=mfa_orgs,
        default_org=memberships[0].organization_id if memberships else None,
        idle_minutes=min(timeouts) if timeouts else None,
        has_mfa=bool(is_mfa_enabled(user)),
        sso_trusted=sso_trusted,
    )


def policy_snapshot_refresh(request: HttpRequest, user: Any = None) -> PolicySnapshot | None:
    """Store a fresh snapshot in ``request``'s session (``user`` defaults to the request's)."""
    user = user if user is not None else getattr(request, "user", None)
    if not hasattr(request, "session") or user is None or not user.is_authenticated:
        return None
    snapshot = policy_snapshot_build(user)
    request.session[POLICY_SESSION_KEY] = snapshot
    return snapshot


def policy_snapshot(request: HttpRequest) -> PolicySnapshot | None:
    """The session's snapshot, without a query; None before the first one is taken."""
    return request.session.get(POLICY_SESSION_KEY)


def mfa_setup_required(request: HttpRequest, snapshot: PolicySnapshot) -> bool:
    """True when the current organisation requires a second factor this person has not set up."""
    from aims.tenancy import SESSION_KEY

    if snapshot["has_mfa"] or not snapshot["mfa_orgs"]:
        return False
    # Without a chosen organisation the session works in the first one by name (resolve_tenant).
    current = request.session.get(SESSION_KEY)
    current = current if current is not None else snapshot["default_org"]
    if current not in snapshot["mfa_orgs"]:
        return False
    return not signed_in_through_trusted_sso(request, snapshot.get("sso_trusted", {}).get(str(current)))


def signed_in_through_trusted_sso(request: HttpRequest, provider_id: str | None) -> bool:
    """True when this session signed in through ``provider_id``, the organisation's own
    identity provider, which the organisation trusts to have asked for a second factor."""
    if provider_id is None:
        return False
    return any(
        record.get("method") == "socialaccount" and record.get("provider") == provider_id
        for record in get_authentication_records(request, request.user)
    )
