"""Writes for SCIM provisioning: the organisation's token, and the users and groups its identity
provider creates, changes and removes.

A SCIM User is one person's membership of the organisation. Creating one makes the account when
nobody has the address yet (verified, since the identity provider vouches for it) and links an
existing account otherwise, without touching its name or password. Deactivating removes the
membership the way :func:`aims.services.membership_remove` does (their API tokens for the
organisation are revoked) and keeps the SCIM identity for a later reactivation. A member's role is
the highest role mapped to their groups' names (:func:`aims.identity.selectors.role_for_groups`),
else the organisation's default role; the last administrator is never removed or demoted.

The identity provider acts as no person: history rows carry no user and name the token in their
change reason; security events name the token in their details.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext

from aims import services as core_services
from aims.identity.selectors import role_for_groups
from aims.identity.services import email_mark_verified
from aims.models import Membership, Organization, User
from aims.records import record_delete, record_save
from aims.roles import Role, role_at_most, role_is_administrator
from aims.scim.models import ScimGroup, ScimProvisioning, ScimUser
from aims.scim.selectors import scim_users_by_ids
from aims.security.models import SecurityEvent
from aims.security.services import security_event_record

Kind = SecurityEvent.Kind
# The fields of a SCIM User the portal keeps as they were sent.
_STORED = ("user_name", "external_id", "given_name", "family_name", "formatted_name", "display_name")


# --- The token ---------------------------------------------------------------------------------


def _provisioning(organization: Organization) -> ScimProvisioning:
    provisioning = ScimProvisioning.objects.select_for_update().filter(organization=organization).first()
    return provisioning or ScimProvisioning(organization=organization)


@transaction.atomic
def scim_token_issue(
    *, organization: Organization, acting_user: User, request: HttpRequest | None = None
) -> tuple[ScimProvisioning, str]:
    """Create the organisation's SCIM token, or rotate it (the old one stops working at once).

    Returns the provisioning and the raw token, which is shown once and never stored.
    """
    provisioning = _provisioning(organization)
    action = "rotated" if provisioning.has_token else "created"
    raw_token = ScimProvisioning.generate_token()
    provisioning.token_hash = ScimProvisioning.hash_token(raw_token)
    provisioning.token_prefix = raw_token[: len(ScimProvisioning.PREFIX) + 6]
    provisioning.token_created_at = timezone.now()
    provisioning.token_created_by = acting_user
    provisioning.token_last_used_at = None
    record_save(provisioning, acting_user=acting_user)
    security_event_record(
        kind=Kind.SCIM_TOKEN_CHANGED,
        request=request,
        organization=organization,
        actor=acting_user,
        action=action,
        token=provisioning.token_prefix,
    )
    return provisioning, raw_token


@transaction.atomic
def scim_token_revoke(
    *, organization: Organization, acting_user: User, request: HttpRequest | None = None
) -> ScimProvisioning:
    """Forget the token's hash: every request with it is refused from now on."""
    provisioning = _provisioning(organization)
    if not provisioning.has_token:
        raise ValidationError(gettext("There is no SCIM token to revoke."))
    prefix = provisioning.token_prefix
    provisioning.token_hash = None
    provisioning.token_prefix = ""
    record_save(provisioning, acting_user=acting_user)
    security_event_record(
        kind=Kind.SCIM_TOKEN_CHANGED,
        request=request,
        organization=organization,
        actor=acting_user,
        action="revoked",
        token=prefix,
    )
    return provisioning


@transaction.atomic
def scim_default_role_set(
    *,
    organization: Organization,
    role: str,
    acting_user: User,
    acting_role: str | None = None,
    request: HttpRequest | None = None,
) -> ScimProvisioning:
    """Set the role of provisioned members who are in no mapped group (never administrator)."""
    if role not in Role.values or role_is_administrator(role):
        raise ValidationError({"default_role": gettext("Choose a role below administrator.")})
    if acting_role is not None and not role_at_most(role, acting_role):
        raise ValidationError({"default_role": gettext("You cannot grant a role above your own.")})
    provisioning = _provisioning(organization)
    previous = provisioning.default_role if provisioning.pk else None
    provisioning.default_role = role
    record_save(provisioning, acting_user=acting_user)
    if previous != role:
        security_event_record(
            kind=Kind.SECURITY_POLICY_CHANGED,
            request=request,
            organization=organization,
            actor=acting_user,
            setting="scim_default_role",
            value=role,
        )
    return provisioning


def scim_token_mark_used(*, provisioning: ScimProvisioning) -> None:
    """Note the token's use, at most once a minute so a sync run does not write on every call.

    One UPDATE, so no transaction of its own (reads would pay for a savepoint)."""
    now = timezone.now()
    if provisioning.token_last_used_at is None or (now - provisioning.token_last_used_at).total_seconds() > 60:
        ScimProvisioning.objects.filter(pk=provisioning.pk).update(token_last_used_at=now)
        provisioning.token_last_used_at = now


# --- Users -------------------------------------------------------------------------------------


def _save(instance: Model, provisioning: ScimProvisioning) -> None:
    instance._change_reason = f"SCIM provisioning ({provisioning.token_prefix}…)"  # type: ignore[attr-defined]
    record_save(instance, acting_user=None)


def _via(provisioning: ScimProvisioning) -> dict[str, str]:
    """How the security log names SCIM as the actor of a change made through a core service."""
    return {"via": "scim", "scim_token": provisioning.token_prefix}


def _event(kind: str, provisioning: ScimProvisioning, request: HttpRequest | None, user: Any, **details: Any) -> None:
    security_event_record(
        kind=kind,
        request=request,
        organization=provisioning.organization,
        user=user,
        via="scim",
        scim_token=provisioning.token_prefix,
        **details,
    )


def _membership(scim_user: ScimUser) -> Membership | None:
    return Membership.objects.filter(organization=scim_user.organization, user=scim_user.user).first()


@contextmanager
def _as_scim_refusal(membership: Membership) -> Iterator[None]:
    """The membership services refuse to remove or demote the last administrator; say so in
    SCIM's terms (scimType ``mutability``), naming the person."""
    try:
        yield
    except ValidationError as exc:
        detail = f"{membership.user.email}: {' '.join(exc.messages)} Provisioning cannot remove or demote them."
        raise ValidationError({"active": ValidationError(detail, "mutability")}) from exc


def _role_of(scim_user: ScimUser, provisioning: ScimProvisioning) -> str:
    names = [group.display_name for group in ScimGroup.objects.filter(members=scim_user)]
    return role_for_groups(provisioning.organization, names, provisioning.default_role) or Role.VIEWER


def _activate(scim_user: ScimUser, provisioning: ScimProvisioning, request: HttpRequest | None, **details: Any) -> None:
    """Give the person a membership, unless they have one (an existing member is linked as is)."""
    if _membership(scim_user) is not None:
        return
    role = _role_of(scim_user, provisioning)
    membership = Membership(organization=provisioning.organization, user=scim_user.user, role=role)
    _save(membership, provisioning)
    scim_id = str(scim_user.scim_id)
    _event(Kind.MEMBER_PROVISIONED, provisioning, request, scim_user.user, role=role, scim_id=scim_id, **details)


def _deactivate(
    scim_user: ScimUser, provisioning: ScimProvisioning, request: HttpRequest | None, **details: Any
) -> None:
    """Remove the membership and revoke the person's API tokens of the organisation."""
    membership = _membership(scim_user)
    if membership is None:
        return
    membership._change_reason = f"SCIM provisioning ({provisioning.token_prefix}…)"  # type: ignore[attr-defined]
    with _as_scim_refusal(membership):
        core_services.membership_remove(membership=membership, acting_user=None, event_details=_via(provisioning))
    _event(Kind.MEMBER_DEACTIVATED, provisioning, request, scim_user.user, scim_id=str(scim_user.scim_id), **details)


def _recompute_role(scim_user: ScimUser, provisioning: ScimProvisioning, request: HttpRequest | None) -> None:
    """Set an active member's role from their groups; refuse to demote the last administrator."""
    membership = _membership(scim_user) if scim_user.active else None
    if membership is None:
        return
    role = _role_of(scim_user, provisioning)
    if role == membership.role:
        return
    membership._change_reason = f"SCIM provisioning ({provisioning.token_prefix}…)"  # type: ignore[attr-defined]
    with _as_scim_refusal(membership):
        core_services.membership_change_role(
            membership=membership, role=role, acting_user=None, event_details=_via(provisioning)
        )


def _ensure_user_name_free(provisioning: ScimProvisioning, user_name: str, scim_user: ScimUser | None = None) -> None:
    taken = ScimUser.objects.for_org(provisioning.organization).filter(user_name__iexact=user_name)
    if scim_user is not None:
        taken = taken.exclude(pk=scim_user.pk)
    if taken.exists():
        raise ValidationError({"userName": ValidationError(f"{user_name} is already provisioned.", "uniqueness")})


def _rename_account(scim_user: ScimUser, provisioning: ScimProvisioning) -> None:
    """Copy the IdP's name onto the account, only when provisioning made it and no other
    organisation shares it: an existing person's own account is never altered."""
    user = scim_user.user
    if (
        not scim_user.account_created
        or Membership.objects.filter(user=user).exclude(organization=provisioning.organization).exists()
    ):
        return
    full_name = (
        scim_user.formatted_name
        or " ".join(part for part in (scim_user.given_name, scim_user.family_name) if part)
        or scim_user.display_name
    )[:150]
    if full_name and full_name != user.full_name:
        user.full_name = full_name
        _save(user, provisioning)


@transaction.atomic
def scim_user_create(
    *, provisioning: ScimProvisioning, attributes: dict[str, Any], request: HttpRequest | None = None
) -> ScimUser:
    """Provision a person from a User resource (see :func:`aims.scim.parsing.user_attributes`)."""
    organization = provisioning.organization
    _ensure_user_name_free(provisioning, attributes["user_name"])
    email = attributes["email"]
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if user is None:
        user = User(email=email)
        user.set_unusable_password()  # they sign in through the identity provider, or reset it
        _save(user, provisioning)
        email_mark_verified(user)
    elif ScimUser.objects.for_org(organization).filter(user=user).exists():
        raise ValidationError({"userName": ValidationError(f"{email} is already provisioned.", "uniqueness")})
    scim_user = ScimUser(
        organization=organization,
        user=user,
        account_created=created,
        active=attributes.get("active", True),
        **{field: attributes.get(field, "") for field in _STORED},
    )
    _save(scim_user, provisioning)
    _rename_account(scim_user, provisioning)
    if scim_user.active:
        _activate(scim_user, provisioning, request, account_created=created)
    else:  # the identity provider links an existing member it has disabled: they lose access
        _deactivate(scim_user, provisioning, request)
    return scim_user


@transaction.atomic
def scim_user_update(
    *,
    provisioning: ScimProvisioning,
    scim_user: ScimUser,
    changes: dict[str, Any],
    request: HttpRequest | None = None,
) -> ScimUser:
    """Apply ``changes`` (stored fields and ``active``); the account's e-mail never changes here.

    ``active`` false deactivates the member, true brings them back with their groups' role.
    """
    if "user_name" in changes:
        _ensure_user_name_free(provisioning, changes["user_name"], scim_user)
    for field in _STORED:
        if field in changes:
            setattr(scim_user, field, changes[field])
    was_active = scim_user.active
    scim_user.active = changes.get("active", scim_user.active)
    scim_user.updated_at = timezone.now()
    _save(scim_user, provisioning)
    _rename_account(scim_user, provisioning)
    if was_active and not scim_user.active:
        _deactivate(scim_user, provisioning, request)
    elif scim_user.active and not was_active:
        _activate(scim_user, provisioning, request, reactivated=True)
    return scim_user


@transaction.atomic
def scim_user_delete(
    *, provisioning: ScimProvisioning, scim_user: ScimUser, request: HttpRequest | None = None
) -> None:
    """Remove the member's access and forget their SCIM identity (the account itself stays)."""
    _deactivate(scim_user, provisioning, request, deleted=True)
    scim_user._change_reason = f"SCIM provisioning ({provisioning.token_prefix}…)"  # type: ignore[attr-defined]
    record_delete(scim_user, acting_user=None)


# --- Groups ------------------------------------------------------------------------------------


def _ensure_group_name_free(provisioning: ScimProvisioning, name: str, group: ScimGroup | None = None) -> None:
    taken = ScimGroup.objects.for_org(provisioning.organization).filter(display_name__iexact=name)
    if group is not None:
        taken = taken.exclude(pk=group.pk)
    if taken.exists():
        raise ValidationError({"displayName": ValidationError(f"A group is already named {name}.", "uniqueness")})


def _set_members(
    group: ScimGroup,
    provisioning: ScimProvisioning,
    members: list[ScimUser],
    request: HttpRequest | None,
    *,
    renamed: bool = False,
) -> None:
    """Make ``members`` the group's members; recompute the role of those who joined or left
    (of everyone, old and new, when the group was renamed: its mapped role may differ)."""
    before = set(group.members.all())
    group.members.set(members)
    affected = before | set(members) if renamed else before ^ set(members)
    for scim_user in sorted(affected, key=lambda user: user.pk):
        _recompute_role(scim_user, provisioning, request)


@transaction.atomic
def scim_group_create(
    *,
    provisioning: ScimProvisioning,
    display_name: str,
    external_id: str = "",
    members: list[str] | None = None,
    request: HttpRequest | None = None,
) -> ScimGroup:
    """Create a group; its members take the role its name maps to (if higher than their others)."""
    _ensure_group_name_free(provisioning, display_name)
    group = ScimGroup(organization=provisioning.organization, display_name=display_name, external_id=external_id)
    _save(group, provisioning)
    _set_members(group, provisioning, scim_users_by_ids(provisioning.organization, members or []), request)
    return group


@transaction.atomic
def scim_group_update(
    *,
    provisioning: ScimProvisioning,
    group: ScimGroup,
    display_name: str | None = None,
    external_id: str | None = None,
    members_set: list[str] | None = None,
    members_add: list[str] | None = None,
    members_remove: list[str] | None = None,
    request: HttpRequest | None = None,
) -> ScimGroup:
    """Rename the group and change its members; every member whose groups changed (all of them,
    on a rename) gets their role again. ``members_set`` replaces the list, then ``members_add`` and
    ``members_remove`` apply."""
    organization = provisioning.organization
    renamed = display_name is not None and display_name != group.display_name
    if display_name is not None:
        _ensure_group_name_free(provisioning, display_name, group)
        group.display_name = display_name
    if external_id is not None:
        group.external_id = external_id
    group.updated_at = timezone.now()
    _save(group, provisioning)
    members = list(group.members.all()) if members_set is None else scim_users_by_ids(organization, members_set)
    members += [user for user in scim_users_by_ids(organization, members_add or []) if user not in members]
    removed = {user.pk for user in scim_users_by_ids(organization, members_remove or [])}
    members = [user for user in members if user.pk not in removed]
    _set_members(group, provisioning, members, request, renamed=renamed)
    return group


@transaction.atomic
def scim_group_delete(*, provisioning: ScimProvisioning, group: ScimGroup, request: HttpRequest | None = None) -> None:
    """Delete the group; its former members get their role from their other groups."""
    members = list(group.members.all())
    group.members.clear()
    for scim_user in members:
        _recompute_role(scim_user, provisioning, request)
    group._change_reason = f"SCIM provisioning ({provisioning.token_prefix}…)"  # type: ignore[attr-defined]
    record_delete(group, acting_user=None)
