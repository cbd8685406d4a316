"""Writes for organisations, members, invitations and API tokens.

Every function is keyword-only, atomic, takes the acting user for the history
record, and raises ``django.core.exceptions.ValidationError`` with field messages
for bad input, which pages show as form errors and the API as HTTP 400.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from aims.identity.services import email_mark_verified
from aims.models import ApiToken, Invitation, Membership, Organization, User
from aims.outbox.services import outbox_enqueue
from aims.records import record_delete, record_save
from aims.roles import Role, role_at_most, role_is_administrator
from aims.security.models import SecurityEvent
from aims.security.services import security_event_record

Kind = SecurityEvent.Kind


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "organisation"
    slug, n = base, 2
    while Organization.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _organization_new(name: str, acting_user: User | None, admin_email: str | None = None) -> Organization:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the organisation a name."})
    organization = Organization(name=name, slug=_unique_slug(name))
    record_save(organization, acting_user=acting_user)
    security_event_record(
        kind=Kind.ORGANIZATION_CREATED, organization=organization, actor=acting_user, name=name, admin_email=admin_email
    )
    return organization


@transaction.atomic
def organization_create(*, name: str, acting_user: User) -> Organization:
    """Create an organisation with ``acting_user`` as its first administrator."""
    organization = _organization_new(name, acting_user)
    record_save(Membership(organization=organization, user=acting_user, role=Role.ADMIN), acting_user=acting_user)
    return organization


@transaction.atomic
def organization_provision(*, name: str, admin_email: str, acting_user: User) -> tuple[Organization, Invitation]:
    """An instance administrator creates an organisation for someone else: its first
    administrator is invited (whether or not the address has an account) and joins on accepting."""
    if not (admin_email or "").strip():
        raise ValidationError({"admin_email": "Enter the e-mail address of the first administrator."})
    organization = _organization_new(name, acting_user, admin_email=admin_email.strip().lower())
    invitation = _invite(organization=organization, email=admin_email, role=Role.ADMIN, acting_user=acting_user)
    return organization, invitation


@transaction.atomic
def organization_update(
    *, organization: Organization, name: str, acting_user: User, language: str | None = None
) -> Organization:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the organisation a name."})
    organization.name = name
    if language is not None:
        if language not in dict(settings.LANGUAGES):
            raise ValidationError({"language": "Choose one of the portal's languages."})
        organization.language = language
    record_save(organization, acting_user=acting_user)
    return organization


def user_language_set(*, user: User, language: str) -> User:
    """A member's own choice of language; empty follows their organisation's default."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": "Choose one of the portal's languages."})
    user.language = language
    user.save(update_fields=["language"])
    return user


def _ensure_role(role: str, acting_role: str | None) -> None:
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.values)}."})
    if acting_role is not None and not role_at_most(role, acting_role):
        raise ValidationError({"role": "You cannot grant a role above your own."})


def _invite(*, organization: Organization, email: str, role: str, acting_user: User | None) -> Invitation:
    invitation = Invitation(
        organization=organization,
        email=email.strip().lower(),
        role=role,
        invited_by=acting_user,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
    )
    record_save(invitation, acting_user=acting_user)
    security_event_record(
        kind=Kind.MEMBER_INVITED, organization=organization, actor=acting_user, email=invitation.email, role=role
    )
    # Through the outbox: the invitation is kept even while the broker is down, and sent later.
    outbox_enqueue(task="aims.tasks.send_invitation_email", args=[invitation.pk], kwargs={"once": True})
    return invitation


@transaction.atomic
def member_add(
    *, organization: Organization, email: str, role: str, acting_user: User, acting_role: str | None = None
) -> Invitation:
    """Invite an address to the organisation; the person joins when they accept.

    An address with an account is invited exactly like one without (nobody joins an
    organisation without consenting), so the answer never tells whether an account exists.
    The two refusals speak only of this organisation, which the admin sees anyway: the address
    is already one of its members, or already has a pending invitation. The e-mail is sent by a
    Celery task once the transaction has committed.
    """
    email = (email or "").strip().lower()
    if not email:
        raise ValidationError({"email": "Enter an e-mail address."})
    _ensure_role(role, acting_role)
    if Membership.objects.for_org(organization).filter(user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {organization}."})
    if (
        Invitation.objects.for_org(organization)
        .filter(email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .exists()
    ):
        raise ValidationError({"email": f"{email} already has a pending invitation."})
    return _invite(organization=organization, email=email, role=role, acting_user=acting_user)


LAST_ADMIN = "{email} is the last administrator of {organization}: make someone else an administrator first."


def _ensure_admin_remains(membership: Membership, *, field: str) -> None:
    """Refuse to leave the organisation without an administrator.

    The organisation's administrator rows are locked (``select_for_update``) until the
    transaction ends, so two admins demoting or removing each other at the same moment cannot
    both succeed: the second waits, then sees the first's change.
    """
    admins = list(
        Membership.objects.for_org(membership.organization).admins().select_for_update().values_list("pk", flat=True)
    )
    if membership.pk in admins and len(admins) == 1:
        message = LAST_ADMIN.format(email=membership.user.email, organization=membership.organization)
        raise ValidationError({field: message})


@transaction.atomic
def membership_change_role(
    *,
    membership: Membership,
    role: str,
    acting_user: User | None,
    acting_role: str | None = None,
    event_details: dict[str, Any] | None = None,
) -> Membership:
    """Change a member's role; the last administrator cannot be demoted. Their API tokens
    follow: a token above the new role acts with the new role from the next call."""
    _ensure_role(role, acting_role)
    if not role_is_administrator(role):
        _ensure_admin_remains(membership, field="role")
    previous = Membership.objects.filter(pk=membership.pk).values_list("role", flat=True).first()
    membership.role = role
    record_save(membership, acting_user=acting_user)
    if previous != role:
        security_event_record(
            kind=Kind.MEMBER_ROLE_CHANGED,
            organization=membership.organization,
            user=membership.user,
            actor=acting_user,
            previous_role=previous,
            role=role,
            **(event_details or {}),
        )
    return membership


@transaction.atomic
def membership_remove(
    *, membership: Membership, acting_user: User | None, event_details: dict[str, Any] | None = None
) -> None:
    """Remove a member and revoke the API tokens they created for this organisation; the last
    administrator cannot be removed. ``event_details`` say, in the security log, what removed
    them when no person did (SCIM provisioning)."""
    _ensure_admin_remains(membership, field="membership")
    for token in ApiToken.objects.for_org(membership.organization).active().filter(created_by=membership.user):
        api_token_revoke(token=token, acting_user=acting_user)
    record_delete(membership, acting_user=acting_user)
    security_event_record(
        kind=Kind.MEMBER_REMOVED,
        organization=membership.organization,
        user=membership.user,
        actor=acting_user,
        role=membership.role,
        # Said only when the person removed themselves; an identity provider's removal has no actor.
        left=(acting_user is not None and membership.user_id == acting_user.pk) or None,
        **(event_details or {}),
    )


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, acting_user: User) -> Invitation:
    if not invitation.is_pending:
        raise ValidationError(f"This invitation is already {invitation.status}.")
    invitation.revoked_at = timezone.now()
    record_save(invitation, acting_user=acting_user)
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Turn a pending invitation into a membership for ``user`` (whose e-mail must match)."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise ValidationError(f"This invitation is {invitation.status}.")
    if user.email.lower() != invitation.email.lower():
        raise ValidationError(f"This invitation was sent to {invitation.email}; sign in with that address.")
    membership = Membership.objects.filter(organization=invitation.organization, user=user).first()
    if membership is None:
        membership = Membership(organization=invitation.organization, user=user, role=invitation.role)
        record_save(membership, acting_user=user)
        security_event_record(
            kind=Kind.MEMBER_JOINED, organization=invitation.organization, user=user, actor=user, role=invitation.role
        )
    invitation.accepted_at = timezone.now()
    record_save(invitation, acting_user=user)
    return membership


@transaction.atomic
def user_register(*, email: str, full_name: str, password: str) -> User:
    user = User(email=email.strip().lower(), full_name=full_name.strip())
    user.set_password(password)
    record_save(user, acting_user=None)
    # Registration happens behind an e-mailed invitation link: the address is proven.
    email_mark_verified(user)
    return user


@transaction.atomic
def api_token_create(
    *,
    organization: Organization,
    name: str,
    role: str,
    expires_in_days: int,
    acting_user: User,
    acting_role: str | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw key, which is shown once and never stored."""
    errors = {}
    if not (name or "").strip():
        errors["name"] = "Name the token after the integration that uses it."
    if not 1 <= int(expires_in_days) <= settings.API_TOKEN_MAX_DAYS:
        errors["expires_in_days"] = f"Choose between 1 and {settings.API_TOKEN_MAX_DAYS} days."
    if errors:
        raise ValidationError(errors)
    _ensure_role(role, acting_role)
    raw_key = ApiToken.generate_key()
    token = ApiToken(
        organization=organization,
        name=name.strip(),
        role=role,
        key_prefix=raw_key[: len(ApiToken.PREFIX) + 6],
        key_hash=ApiToken.hash_key(raw_key),
        created_by=acting_user,
        expires_at=timezone.now() + timedelta(days=int(expires_in_days)),
    )
    record_save(token, acting_user=acting_user)
    security_event_record(
        kind=Kind.TOKEN_CREATED,
        organization=organization,
        actor=acting_user,
        token=token.key_prefix,
        name=token.name,
        role=role,
        expires_at=token.expires_at.isoformat(),
    )
    return token, raw_key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, acting_user: User | None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        record_save(token, acting_user=acting_user)
        security_event_record(
            kind=Kind.TOKEN_REVOKED,
            organization=token.organization,
            user=token.created_by,
            actor=acting_user,
            token=token.key_prefix,
            name=token.name,
        )
    return token
