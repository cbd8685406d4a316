"""Reads for SCIM provisioning: the token's organisation, users and groups with their filters."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils.dateparse import parse_datetime

from aims.identity.models import IdpGroupRole
from aims.models import Membership, Organization
from aims.roles import Capability, roles_with
from aims.scim.models import ScimGroup, ScimProvisioning, ScimUser
from aims.scim.parsing import Compare, Logical, Node, Not, ScimError


def _with_issuer_standing(provisionings: QuerySet[ScimProvisioning]) -> QuerySet[ScimProvisioning]:
    """Annotate ``issuer_manages``: whether the person who issued the token still manages the
    organisation's members (an active account with such a role)."""
    standing = Membership.objects.filter(
        organization=OuterRef("organization"),
        user=OuterRef("token_created_by"),
        user__is_active=True,
        role__in=roles_with(Capability.MANAGE_MEMBERS),
    )
    return provisionings.annotate(issuer_manages=Exists(standing))


def scim_provisioning_get(organization: Organization) -> ScimProvisioning | None:
    provisionings = ScimProvisioning.objects.for_org(organization).select_related("token_created_by")
    return _with_issuer_standing(provisionings).first()


def scim_provisioning_for_token(raw_token: str) -> ScimProvisioning | None:
    """The provisioning whose current token is ``raw_token``, with ``issuer_manages``; None for an
    unknown, rotated or revoked token."""
    if not raw_token.startswith(ScimProvisioning.PREFIX):
        return None
    provisionings = ScimProvisioning.objects.select_related("organization").filter(
        token_hash=ScimProvisioning.hash_token(raw_token)
    )
    return _with_issuer_standing(provisionings).first()


# Filterable attributes: SCIM name -> (ORM path, kind). RFC 7643 makes userName, displayName
# and e-mails case-insensitive ("text"), ids and externalId case-exact ("exact").
USER_FILTERS: dict[str, tuple[str, str]] = {
    "id": ("scim_id", "id"),
    "username": ("user_name", "text"),
    "externalid": ("external_id", "exact"),
    "displayname": ("display_name", "text"),
    "active": ("active", "boolean"),
    "name.givenname": ("given_name", "text"),
    "name.familyname": ("family_name", "text"),
    "name.formatted": ("formatted_name", "text"),
    "emails": ("user__email", "text"),
    "emails.value": ("user__email", "text"),
    "meta.created": ("created_at", "datetime"),
    "meta.lastmodified": ("updated_at", "datetime"),
}
GROUP_FILTERS: dict[str, tuple[str, str]] = {
    "id": ("scim_id", "id"),
    "displayname": ("display_name", "text"),
    "externalid": ("external_id", "exact"),
    "members": ("members__scim_id", "id"),
    "members.value": ("members__scim_id", "id"),
    "meta.created": ("created_at", "datetime"),
    "meta.lastmodified": ("updated_at", "datetime"),
}
_LOOKUPS = {"eq": "exact", "ne": "exact", "co": "contains", "sw": "startswith", "ew": "endswith"}
_LOOKUPS |= {"gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}
NOTHING = Q(pk__in=[])


def _typed(node: Compare, kind: str) -> Any:
    """The comparison's value as the field stores it; None when no row can match it."""
    value = node.value
    if kind == "id":
        try:
            return uuid.UUID(str(value))
        except ValueError:
            return None  # no resource has an id that is not one of ours
    if kind == "boolean":
        if not isinstance(value, bool) or node.op not in {"eq", "ne"}:
            raise ScimError(f"{node.attribute} compares with eq or ne and true or false.", scim_type="invalidFilter")
        return value
    if kind == "datetime":
        moment = parse_datetime(value) if isinstance(value, str) else None
        if moment is None:
            raise ScimError(f"{node.attribute} compares with a date and time in quotes.", scim_type="invalidFilter")
        return moment
    if isinstance(value, bool | dict | list) or value is None:
        raise ScimError(f"{node.attribute} compares with a string.", scim_type="invalidFilter")
    return str(value)


def _compare_q(node: Compare, fields: dict[str, tuple[str, str]]) -> Q:
    if node.attribute not in fields:
        raise ScimError(f"Cannot filter on “{node.attribute}”.", scim_type="invalidFilter")
    field, kind = fields[node.attribute]
    if node.op == "pr":  # present: not empty; booleans and dates always are
        return ~Q(**{field: ""}) & Q(**{f"{field}__isnull": False}) if kind in {"text", "exact"} else Q()
    if kind == "id" and node.op not in {"eq", "ne"}:
        raise ScimError(f"{node.attribute} compares with eq or ne.", scim_type="invalidFilter")
    value = _typed(node, kind)
    if value is None:
        return ~NOTHING if node.op == "ne" else NOTHING
    lookup = _LOOKUPS[node.op]
    if kind == "text" and lookup in {"exact", "contains", "startswith", "endswith"}:
        lookup = f"i{lookup}"
    condition = Q(**{f"{field}__{lookup}": value})
    return ~condition if node.op == "ne" else condition


def filter_q(node: Node, fields: dict[str, tuple[str, str]]) -> Q:
    """The filter tree as a query condition on the fields given; unknown attributes are refused."""
    if isinstance(node, Compare):
        return _compare_q(node, fields)
    if isinstance(node, Not):
        return ~filter_q(node.node, fields)
    if isinstance(node, Logical):
        left, right = filter_q(node.left, fields), filter_q(node.right, fields)
        return left & right if node.op == "and" else left | right
    raise ScimError("Cannot read the filter.", scim_type="invalidFilter")


def scim_user_list(organization: Organization, condition: Q | None = None) -> QuerySet[ScimUser]:
    """The organisation's SCIM users, with their account, groups and current role."""
    role = Membership.objects.filter(organization=organization, user=OuterRef("user")).values("role")[:1]
    users = (
        ScimUser.objects.for_org(organization)
        .select_related("user")
        .prefetch_related("groups")
        .annotate(member_role=Subquery(role))
    )
    if condition is not None:
        users = users.filter(condition).distinct()
    ordered: QuerySet[ScimUser] = users.order_by("created_at", "pk")
    return ordered


def scim_group_list(organization: Organization, condition: Q | None = None) -> QuerySet[ScimGroup]:
    groups = ScimGroup.objects.for_org(organization).prefetch_related("members")
    if condition is not None:
        groups = groups.filter(condition).distinct()
    return groups.order_by("display_name", "pk")


def scim_user_get(organization: Organization, scim_id: str) -> ScimUser | None:
    """One of the organisation's users by SCIM id; None for a malformed id or another's."""
    try:
        key = uuid.UUID(scim_id)
    except ValueError:
        return None
    return scim_user_list(organization).filter(scim_id=key).first()


def scim_group_get(organization: Organization, scim_id: str) -> ScimGroup | None:
    try:
        key = uuid.UUID(scim_id)
    except ValueError:
        return None
    return scim_group_list(organization).filter(scim_id=key).first()


def scim_users_by_ids(organization: Organization, scim_ids: list[str]) -> list[ScimUser]:
    """The organisation's users with these ids; :class:`ScimError` naming an id that is not one."""
    keys: list[uuid.UUID] = []
    for scim_id in scim_ids:
        try:
            keys.append(uuid.UUID(scim_id))
        except ValueError as exc:
            raise ScimError(f"No user has the id “{scim_id}”.", scim_type="invalidValue") from exc
    users = {user.scim_id: user for user in ScimUser.objects.for_org(organization).filter(scim_id__in=keys)}
    missing = [str(key) for key in keys if key not in users]
    if missing:
        raise ScimError(f"No user has the id “{missing[0]}”.", scim_type="invalidValue")
    return [users[key] for key in dict.fromkeys(keys)]


def scim_group_roles(organization: Organization) -> list[dict[str, Any]]:
    """The organisation's SCIM groups with their member count and the role their name maps to."""
    mapped = {mapping.group.strip().casefold(): mapping for mapping in IdpGroupRole.objects.for_org(organization)}
    rows = []
    for group in scim_group_list(organization):
        mapping = mapped.get(group.display_name.strip().casefold())
        rows.append({"group": group, "members": len(group.members.all()), "mapping": mapping})
    return rows
