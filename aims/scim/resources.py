"""What the SCIM service answers: User and Group resources, list responses, and the discovery
documents (ServiceProviderConfig, ResourceTypes, Schemas; RFC 7643 §5-7)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aims.scim.models import ScimGroup, ScimUser
from aims.scim.parsing import GROUP_SCHEMA, LIST_SCHEMA, USER_SCHEMA

MAX_RESULTS = 200
CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"


def _meta(resource_type: str, created: datetime, modified: datetime, location: str) -> dict[str, Any]:
    return {
        "resourceType": resource_type,
        "created": created.isoformat(),
        "lastModified": modified.isoformat(),
        "location": location,
        "version": f'W/"{int(modified.timestamp() * 1_000_000)}"',
    }


def user_resource(scim_user: ScimUser, base_url: str) -> dict[str, Any]:
    """The User as RFC 7643 §4.1 spells it; ``roles`` shows the member's current portal role."""
    resource: dict[str, Any] = {
        "schemas": [USER_SCHEMA],
        "id": str(scim_user.scim_id),
        "userName": scim_user.user_name,
        "name": {
            key: value
            for key, value in (
                ("formatted", scim_user.formatted_name),
                ("givenName", scim_user.given_name),
                ("familyName", scim_user.family_name),
            )
            if value
        },
        "active": scim_user.active,
        "emails": [{"value": scim_user.user.email, "type": "work", "primary": True}],
        "groups": [
            {"value": str(group.scim_id), "display": group.display_name, "$ref": f"{base_url}Groups/{group.scim_id}"}
            for group in scim_user.groups.all()
        ],
        "roles": [{"value": role, "primary": True}] if (role := getattr(scim_user, "member_role", None)) else [],
        "meta": _meta("User", scim_user.created_at, scim_user.updated_at, f"{base_url}Users/{scim_user.scim_id}"),
    }
    if scim_user.external_id:
        resource["externalId"] = scim_user.external_id
    if scim_user.display_name:
        resource["displayName"] = scim_user.display_name
    return resource


def group_resource(group: ScimGroup, base_url: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA],
        "id": str(group.scim_id),
        "displayName": group.display_name,
        "members": [
            {"value": str(member.scim_id), "display": member.user_name, "$ref": f"{base_url}Users/{member.scim_id}"}
            for member in group.members.all()
        ],
        "meta": _meta("Group", group.created_at, group.updated_at, f"{base_url}Groups/{group.scim_id}"),
    }
    if group.external_id:
        resource["externalId"] = group.external_id
    return resource


ALWAYS_RETURNED = frozenset({"schemas", "id", "meta"})


def project(resource: dict[str, Any], attributes: list[str], excluded: list[str]) -> dict[str, Any]:
    """Keep the top-level ``attributes`` asked for (all when none), less ``excluded`` (§3.9)."""
    wanted = {name.split(".")[0].split(":")[-1].lower() for name in attributes if name}
    unwanted = {name.split(".")[0].split(":")[-1].lower() for name in excluded if name}
    return {
        key: value
        for key, value in resource.items()
        if key in ALWAYS_RETURNED or ((not wanted or key.lower() in wanted) and key.lower() not in unwanted)
    }


def list_response(resources: list[dict[str, Any]], total: int, start_index: int) -> dict[str, Any]:
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


def service_provider_config(base_url: str) -> dict[str, Any]:
    return {
        "schemas": [CONFIG_SCHEMA],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Organisation SCIM token",
                "description": "Authorization: Bearer <the token from Organisation settings, Provisioning>",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base_url}ServiceProviderConfig"},
    }


def resource_types(base_url: str) -> list[dict[str, Any]]:
    return [
        {
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "A member of the organisation",
            "schema": USER_SCHEMA,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": f"{base_url}ResourceTypes/User"},
        },
        {
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "A group of members; its name may map to a portal role",
            "schema": GROUP_SCHEMA,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": f"{base_url}ResourceTypes/Group"},
        },
    ]


def _attribute(
    name: str,
    kind: str = "string",
    *,
    required: bool = False,
    multi: bool = False,
    case_exact: bool = False,
    mutability: str = "readWrite",
    uniqueness: str = "none",
    sub: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "name": name,
        "type": kind,
        "multiValued": multi,
        "description": name,
        "required": required,
        "caseExact": case_exact,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": uniqueness,
    }
    if sub is not None:
        attribute["subAttributes"] = sub
    return attribute


def schemas(base_url: str) -> list[dict[str, Any]]:
    reference = [
        _attribute("value", mutability="immutable"),
        _attribute("display", mutability="readOnly"),
        _attribute("$ref", "reference", mutability="readOnly"),
    ]
    user = [
        _attribute("userName", required=True, uniqueness="server"),
        _attribute(
            "name",
            "complex",
            sub=[_attribute("formatted"), _attribute("givenName"), _attribute("familyName")],
        ),
        _attribute("displayName"),
        _attribute("active", "boolean"),
        _attribute(
            "emails",
            "complex",
            multi=True,
            sub=[_attribute("value"), _attribute("type"), _attribute("primary", "boolean")],
        ),
        _attribute("groups", "complex", multi=True, mutability="readOnly", sub=reference),
        _attribute("roles", "complex", multi=True, mutability="readOnly", sub=[_attribute("value")]),
        _attribute("externalId", case_exact=True),
    ]
    group = [
        _attribute("displayName", required=True, uniqueness="server"),
        _attribute("members", "complex", multi=True, sub=reference),
        _attribute("externalId", case_exact=True),
    ]
    return [
        {
            "schemas": [SCHEMA_SCHEMA],
            "id": USER_SCHEMA,
            "name": "User",
            "description": "A member of the organisation",
            "attributes": user,
            "meta": {"resourceType": "Schema", "location": f"{base_url}Schemas/{USER_SCHEMA}"},
        },
        {
            "schemas": [SCHEMA_SCHEMA],
            "id": GROUP_SCHEMA,
            "name": "Group",
            "description": "A group of members",
            "attributes": group,
            "meta": {"resourceType": "Schema", "location": f"{base_url}Schemas/{GROUP_SCHEMA}"},
        },
    ]
