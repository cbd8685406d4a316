"""Reads for the core pages."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from aims.models import ApiToken, Invitation, Membership, Organization, User
from aims.roles import Role


def membership_list(organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.for_org(organization).select_related("user")


def user_memberships(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization").order_by("organization__name")


def invitation_pending_list(organization: Organization) -> QuerySet[Invitation]:
    from django.utils import timezone

    return (
        Invitation.objects.for_org(organization)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("invited_by")
    )


def api_token_list(organization: Organization) -> QuerySet[ApiToken]:
    return ApiToken.objects.for_org(organization).select_related("created_by")


def member_counts(organization: Organization) -> dict[str, int]:
    counts = Membership.objects.for_org(organization).aggregate(
        members=Count("id"),
        admins=Count("id", filter=Q(role=Role.ADMIN)),
        auditors=Count("id", filter=Q(role=Role.AUDITOR)),
    )
    counts["pending_invitations"] = invitation_pending_list(organization).count()
    counts["active_tokens"] = ApiToken.objects.for_org(organization).active().count()
    return counts
