"""Reads for SCIM provisioning: the token's organisation, users and groups with their filters."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

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


# Filterable attributes: SCIM name -> (ORM path, case-exact). RFC 7643 makes userName,
# displayName and e-mails case-insensitive, ids and externalId case-exact.
USER_FILTERS: dict[str, tuple[str, bool]] = {
    "id": ("scim_id", True),
    "username": ("user_name", False),
    "externalid": ("external_id", True),
    "displayname": ("display_name", False),
    "active": ("active", True),
    "name.givenname": ("given_name", False),
    "name.familyname": ("family_name", False),
    "name.formatted": ("formatted_name", False),
    "emails": ("user__email", False),
    "emails.value": ("user__email", False),
    "meta.created": ("created_at", True),
    "meta.lastmodified": ("updated_at", True),
}
GROUP_FILTERS: dict[str, tuple[str, bool]] = {
    "id": ("scim_id", True),
    "displayname": ("display_name", False),
    "externalid": ("external_id", True),
    "members": ("members__scim_id", True),
    "members.value": ("members__scim_id", True),
    "meta.created": ("created_at", True),
    "meta.lastmodified": ("updated_at", True),
}
_LOOKUPS = {"eq": "exact", "co": "contains", "sw": "startswith", "ew": "endswith", "gt": "gt", "ge": "gte"}
_LOOKUPS |= {"lt": "lt", "le": "lte"}


def _compare_q(node: Compare, fields: dict[str, tuple[str, bool]]) -> Q:
    if node.attribute not in fields:
        raise ScimError(f"Cannot filter on “{node.attribute}”.", scim_type="invalidFilter")
    field, case_exact = fields[node.attribute]
    if node.op == "pr":
        return ~Q(**{f"{field}__isnull": True}) & ~Q(**{field: ""}) if field != "active" else Q()
    value = node.value
    if field.endswith("scim_id"):
        try:
            value = uuid.UUID(str(value))
        except ValueError:
            return Q(pk__in=[])  # no resource has an id that is not one of ours
        return ~Q(**{field: value}) if node.op == "ne" else Q(**{field: value})
    lookup = _LOOKUPS["eq" if node.op == "ne" else node.op]
    if not case_exact and lookup in {"exact", "contains", "startswith", "endswith"}:
        lookup = f"i{lookup}"
    condition = Q(**{f"{field}__{lookup}": value})
    return ~condition if node.op == "ne" else condition


def filter_q(node: Node, fields: dict[str, tuple[str, bool]]) -> Q:
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
