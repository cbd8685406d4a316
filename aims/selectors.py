"""Reads for the core pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from aims.models import ApiToken, Invitation, Membership, Organization, User
from aims.roles import Capability, administrator_roles, roles_with


def first_rows(rows: QuerySet[Any] | Sequence[Any], limit: int) -> tuple[list[Any], bool]:
    """The first ``limit`` of ``rows`` and whether there are more: one row more is read, never a count."""
    found = list(rows[: limit + 1])
    return found[:limit], len(found) > limit


def membership_list(organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.for_org(organization).select_related("user")


def user_memberships(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization").order_by("organization__name")


def invitation_pending_list(organization: Organization) -> QuerySet[Invitation]:
    return (
        Invitation.objects.for_org(organization)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("invited_by")
    )


def api_token_list(organization: Organization) -> QuerySet[ApiToken]:
    """The organisation's tokens, newest first, each with its creator's current role
    (``creator_role``) so ``effective_role`` costs no further query."""
    tokens: QuerySet[ApiToken] = ApiToken.objects.for_org(organization).select_related("created_by").with_creator_role()
    return tokens


def member_counts(organization: Organization) -> dict[str, int]:
    counts = Membership.objects.for_org(organization).aggregate(
        members=Count("id"),
        admins=Count("id", filter=Q(role__in=administrator_roles())),
        auditors=Count("id", filter=Q(role__in=roles_with(Capability.RECORD_FINDINGS, without=Capability.EDIT))),
    )
    counts["pending_invitations"] = invitation_pending_list(organization).count()
    counts["active_tokens"] = ApiToken.objects.for_org(organization).active().count()
    return counts


def reminder_recipients(organization_ids: set[int]) -> dict[int, tuple[dict[int, str], list[str]]]:
    """Per organisation: its members' e-mail by user id, and the admins' and officers' e-mails.

    Reminders go to a record's owner while they are a member, otherwise to the people who run the
    AIMS; one query for every organisation concerned.
    """
    result: dict[int, tuple[dict[int, str], list[str]]] = {pk: ({}, []) for pk in organization_ids}
    rows = Membership.objects.filter(organization_id__in=organization_ids).values_list(
        "organization_id", "user_id", "user__email", "role"
    )
    approvers = set(roles_with(Capability.APPROVE))
    for organization_id, user_id, email, role in rows.order_by("user__email"):
        members, fallback = result[organization_id]
        members[user_id] = email
        if role in approvers:
            fallback.append(email)
    return result
