"""Reading what a SCIM client sends: filters (RFC 7644 §3.4.2.2), PATCH paths and operations
(§3.5.2), and the attributes of a User or Group resource (RFC 7643).

Everything here is pure (no database): it turns text and JSON into small values and raises
:class:`ScimError` with the SCIM ``scimType`` for anything it cannot read, so no bad input
reaches the database or ends in a 500.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimError(Exception):
    """A request the service provider refuses, with the HTTP status and SCIM ``scimType``."""

    def __init__(self, detail: str, *, status: int = 400, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.scim_type = scim_type


# --- Filters -----------------------------------------------------------------------------------

OPERATORS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"})


@dataclass(frozen=True)
class Compare:
    """``attribute op value``; ``attribute`` is lower-case, without the core schema's URN."""

    attribute: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class Logical:
    op: str  # "and" | "or"
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    node: Node


Node = Compare | Logical | Not

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<punct>[()\[\]])
      | (?P<word>[^\s()\[\]"]+)
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ScimError(f"Cannot read the filter at “{text[pos : pos + 20]}”.", scim_type="invalidFilter")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


def attribute_name(path: str) -> str:
    """``path`` lower-cased (SCIM names are case-insensitive), without a core schema URN."""
    lowered = path.strip().lower()
    for schema in (USER_SCHEMA, GROUP_SCHEMA):
        prefix = schema.lower() + ":"
        if lowered.startswith(prefix):
            return lowered[len(prefix) :]
    return lowered


def _value(kind: str, text: str) -> Any:
    if kind == "string":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ScimError(f"Bad string {text} in the filter.", scim_type="invalidFilter") from exc
    lowered = text.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if lowered == "null":
        return None
    try:
        return float(text) if "." in text else int(text)
    except ValueError as exc:
        raise ScimError(f"“{text}” is not a value: quote strings.", scim_type="invalidFilter") from exc


class _FilterParser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ScimError("The filter ends too early.", scim_type="invalidFilter")
        self.pos += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1].lower() == word:
            self.pos += 1
            return True
        return False

    def parse(self) -> Node:
        node = self.or_expr()
        rest = self.peek()
        if rest is not None:
            raise ScimError(f"Unexpected “{rest[1]}” in the filter.", scim_type="invalidFilter")
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.keyword("or"):
            node = Logical("or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.unary()
        while self.keyword("and"):
            node = Logical("and", node, self.unary())
        return node

    def unary(self) -> Node:
        if self.keyword("not"):
            return Not(self.group())
        token = self.peek()
        if token == ("punct", "("):
            return self.group()
        return self.comparison()

    def group(self) -> Node:
        if self.take() != ("punct", "("):
            raise ScimError("Expected “(” in the filter.", scim_type="invalidFilter")
        node = self.or_expr()
        if self.take() != ("punct", ")"):
            raise ScimError("Expected “)” in the filter.", scim_type="invalidFilter")
        return node

    def comparison(self) -> Node:
        kind, path = self.take()
        if kind != "word":
            raise ScimError(f"Expected an attribute name, not {path}.", scim_type="invalidFilter")
        kind, op = self.take()
        op = op.lower()
        if kind != "word" or op not in OPERATORS:
            raise ScimError(f"“{op}” is not a filter operator.", scim_type="invalidFilter")
        if op == "pr":
            return Compare(attribute_name(path), op)
        kind, text = self.take()
        if kind == "punct":
            raise ScimError(f"Expected a value after {op}, not “{text}”.", scim_type="invalidFilter")
        return Compare(attribute_name(path), op, _value(kind, text))


def filter_parse(text: str) -> Node:
    """The filter expression ``text`` as a tree; :class:`ScimError` (invalidFilter) if unreadable."""
    if not text or not text.strip():
        raise ScimError("The filter is empty.", scim_type="invalidFilter")
    return _FilterParser(text).parse()


# --- PATCH -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatchPath:
    """``attribute[value_filter].sub_attribute`` of a PATCH operation, names lower-cased."""

    attribute: str
    value_filter: Node | None = None
    sub_attribute: str | None = None


_PATH = re.compile(r"^(?P<attr>[A-Za-z0-9:._$-]+?)(?:\[(?P<filter>.*)\](?:\.(?P<sub>[A-Za-z0-9_$-]+))?)?$")


def patch_path_parse(text: str) -> PatchPath:
    """Read a PATCH ``path``; :class:`ScimError` (invalidPath) when it is not one."""
    match = _PATH.match((text or "").strip())
    if match is None:
        raise ScimError(f"“{text}” is not an attribute path.", scim_type="invalidPath")
    value_filter = None
    if match.group("filter") is not None:
        try:
            value_filter = filter_parse(match.group("filter"))
        except ScimError as exc:
            raise ScimError(f"“{text}”: {exc.detail}", scim_type="invalidPath") from exc
    attribute = attribute_name(match.group("attr"))
    sub = match.group("sub")
    if sub is None and value_filter is None and "." in attribute and not attribute.startswith("urn:"):
        attribute, sub = attribute.split(".", 1)
    return PatchPath(attribute, value_filter, sub.lower() if sub else None)


@dataclass(frozen=True)
class PatchOperation:
    op: str  # "add" | "remove" | "replace"
    path: PatchPath | None
    value: Any


def patch_operations_parse(body: Any) -> list[PatchOperation]:
    """The operations of a PatchOp message, ops lower-cased (Entra ID sends "Replace")."""
    if not isinstance(body, dict):
        raise ScimError("A PATCH body is a JSON object.", scim_type="invalidSyntax")
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or PATCH_SCHEMA not in schemas:
        raise ScimError(f"A PATCH body names the schema {PATCH_SCHEMA}.", scim_type="invalidSyntax")
    operations = body.get("Operations", body.get("operations"))
    if not isinstance(operations, list) or not operations:
        raise ScimError("A PATCH body has a non-empty list of Operations.", scim_type="invalidSyntax")
    parsed = []
    for operation in operations:
        if not isinstance(operation, dict):
            raise ScimError("Each operation is a JSON object.", scim_type="invalidSyntax")
        op = str(operation.get("op", "")).lower()
        if op not in {"add", "remove", "replace"}:
            raise ScimError(f"“{operation.get('op')}” is not add, remove or replace.", scim_type="invalidSyntax")
        raw_path = operation.get("path")
        if raw_path is not None and not isinstance(raw_path, str):
            raise ScimError("An operation's path is a string.", scim_type="invalidPath")
        path = patch_path_parse(raw_path) if raw_path else None
        if path is None and op == "remove":
            raise ScimError("A remove operation needs a path.", scim_type="noTarget")
        if path is None and not isinstance(operation.get("value"), dict):
            raise ScimError("An operation without a path carries an object of attributes.", scim_type="invalidValue")
        parsed.append(PatchOperation(op, path, operation.get("value")))
    return parsed


# --- Resources ---------------------------------------------------------------------------------


def boolean(value: Any, attribute: str) -> bool:
    """A SCIM boolean; the strings "True"/"False" too, which Entra ID sends in PATCH values."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise ScimError(f"{attribute} must be true or false.", scim_type="invalidValue")


def string(value: Any, attribute: str, *, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ScimError(f"{attribute} must be a string.", scim_type="invalidValue")
    text: str = value.strip()
    if required and not text:
        raise ScimError(f"{attribute} is required.", scim_type="invalidValue")
    if len(text) > max_length:
        raise ScimError(f"{attribute} is longer than {max_length} characters.", scim_type="invalidValue")
    return text


def email_address(value: Any, attribute: str = "emails") -> str:
    text = string(value, attribute, max_length=254, required=True).lower()
    try:
        validate_email(text)
    except ValidationError as exc:
        raise ScimError(f"{attribute}: “{text}” is not an e-mail address.", scim_type="invalidValue") from exc
    return text


def primary_email(emails: Any) -> str | None:
    """The primary (else the first work, else the first) address of a SCIM ``emails`` list."""
    if emails is None:
        return None
    if not isinstance(emails, list) or not all(isinstance(item, dict) for item in emails):
        raise ScimError("emails must be a list of objects with a value.", scim_type="invalidValue")
    ordered = sorted(emails, key=lambda item: (item.get("primary") is not True, item.get("type") != "work"))
    return email_address(ordered[0].get("value")) if ordered else None


USER_FIELDS = ("user_name", "external_id", "given_name", "family_name", "formatted_name", "display_name")
_USER_LIMITS = {
    "user_name": 254,
    "external_id": 200,
    "given_name": 150,
    "family_name": 150,
    "formatted_name": 300,
    "display_name": 300,
}


def user_attributes(resource: Any) -> dict[str, Any]:
    """What a full User resource (POST or PUT body) sets: every stored field, ``active`` when
    given and ``email`` (the primary address, else the userName when it is one)."""
    if not isinstance(resource, dict):
        raise ScimError("A User is a JSON object.", scim_type="invalidSyntax")
    resource = {key.lower(): value for key, value in resource.items()}
    name = resource.get("name") or {}
    if not isinstance(name, dict):
        raise ScimError("name must be an object.", scim_type="invalidValue")
    name = {key.lower(): value for key, value in name.items()}
    attributes: dict[str, Any] = {
        "user_name": string(resource.get("username"), "userName", max_length=254, required=True),
        "external_id": string(resource.get("externalid"), "externalId", max_length=200),
        "given_name": string(name.get("givenname"), "name.givenName", max_length=150),
        "family_name": string(name.get("familyname"), "name.familyName", max_length=150),
        "formatted_name": string(name.get("formatted"), "name.formatted", max_length=300),
        "display_name": string(resource.get("displayname"), "displayName", max_length=300),
    }
    if "active" in resource:
        attributes["active"] = boolean(resource["active"], "active")
    email = primary_email(resource.get("emails"))
    attributes["email"] = email or email_address(attributes["user_name"], "userName")
    return attributes


# Attributes of the User schemas the portal accepts and does not keep (Entra ID's default
# mappings send them): a PATCH of them succeeds and changes nothing.
IGNORED_USER_ATTRIBUTES = frozenset(
    {
        "nickname",
        "profileurl",
        "title",
        "usertype",
        "preferredlanguage",
        "locale",
        "timezone",
        "phonenumbers",
        "addresses",
        "ims",
        "photos",
        "entitlements",
        "roles",
        "x509certificates",
        "password",
    }
)
_NAME_PARTS = {"givenname": "given_name", "familyname": "family_name", "formatted": "formatted_name"}
_USER_SCALARS = {"username": "user_name", "externalid": "external_id", "displayname": "display_name"}


def _user_set(changes: dict[str, Any], attribute: str, sub: str | None, value: Any, op: str) -> None:
    """Record the change of one (attribute, sub-attribute) of a User in ``changes``."""
    if attribute in _USER_SCALARS and sub is None:
        field = _USER_SCALARS[attribute]
        label = {"user_name": "userName", "external_id": "externalId", "display_name": "displayName"}[field]
        changes[field] = string(None if op == "remove" else value, label, max_length=_USER_LIMITS[field])
        if field == "user_name" and not changes[field]:
            raise ScimError("userName cannot be removed.", scim_type="mutability")
    elif attribute == "active" and sub is None:
        if op == "remove":
            raise ScimError("active cannot be removed; replace it with false.", scim_type="mutability")
        changes["active"] = boolean(value, "active")
    elif attribute == "name" and sub in _NAME_PARTS:
        field = _NAME_PARTS[sub]
        changes[field] = string(None if op == "remove" else value, f"name.{sub}", max_length=_USER_LIMITS[field])
    elif attribute == "name" and sub is None:
        if op == "remove":
            changes.update(given_name="", family_name="", formatted_name="")
            return
        if not isinstance(value, dict):
            raise ScimError("name must be an object.", scim_type="invalidValue")
        for key, part in value.items():
            if key.lower() in _NAME_PARTS:
                _user_set(changes, "name", key.lower(), part, op)
    elif attribute == "emails":
        if op == "remove":
            raise ScimError("A member keeps an e-mail address.", scim_type="mutability")
        changes["email"] = email_address(value) if sub == "value" else primary_email(value)
    elif attribute in IGNORED_USER_ATTRIBUTES or attribute.startswith(ENTERPRISE_USER_SCHEMA.lower()):
        return
    elif attribute in {"id", "meta", "schemas", "groups"}:
        raise ScimError(f"{attribute} is read-only.", scim_type="mutability")
    else:
        path = f"{attribute}.{sub}" if sub else attribute
        raise ScimError(f"“{path}” is not an attribute of a User.", scim_type="invalidPath")


def _settable(value: dict[str, Any]) -> dict[str, Any]:
    """A path-less operation's attributes without those that only restate the resource: Okta sends
    the group's ``id`` with a new displayName."""
    return {key: item for key, item in value.items() if key.lower() not in {"id", "schemas", "meta"}}


def user_patch_changes(operations: list[PatchOperation]) -> dict[str, Any]:
    """The stored fields a User PATCH changes (the same keys as :func:`user_attributes`)."""
    changes: dict[str, Any] = {}
    for operation in operations:
        if operation.path is None:
            for key, value in _settable(operation.value).items():
                path = patch_path_parse(key)
                _user_set(changes, path.attribute, path.sub_attribute, value, operation.op)
            continue
        path = operation.path
        if path.value_filter is not None and path.attribute != "emails":
            raise ScimError(f"“{path.attribute}[…]” cannot be filtered.", scim_type="invalidPath")
        _user_set(changes, path.attribute, path.sub_attribute, operation.value, operation.op)
    return changes


def member_ids(value: Any) -> list[str]:
    """The ids in a SCIM ``members`` value (a list of ``{"value": id}``, or one of them)."""
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, dict) and "value" in item for item in value):
        raise ScimError('members must be a list of {"value": "<user id>"}.', scim_type="invalidValue")
    return [str(item["value"]) for item in value]


def group_attributes(resource: Any) -> dict[str, Any]:
    """What a full Group resource sets: display name, external id and member ids."""
    if not isinstance(resource, dict):
        raise ScimError("A Group is a JSON object.", scim_type="invalidSyntax")
    resource = {key.lower(): value for key, value in resource.items()}
    return {
        "display_name": string(resource.get("displayname"), "displayName", max_length=200, required=True),
        "external_id": string(resource.get("externalid"), "externalId", max_length=200),
        "members": member_ids(resource.get("members") or []),
    }


@dataclass
class GroupChanges:
    display_name: str | None = None
    external_id: str | None = None
    members_set: list[str] | None = None
    members_add: list[str] | None = None
    members_remove: list[str] | None = None


def _member_filter_id(path: PatchPath) -> str:
    node = path.value_filter
    if not (isinstance(node, Compare) and node.attribute == "value" and node.op == "eq"):
        raise ScimError('Members are chosen with members[value eq "<id>"].', scim_type="invalidPath")
    return str(node.value)


def group_patch_changes(operations: list[PatchOperation]) -> GroupChanges:
    """What a Group PATCH changes, in the order sent (a later replace of members wins)."""
    changes = GroupChanges()
    for operation in operations:
        items: list[tuple[PatchPath, Any]]
        if operation.path is None:
            items = [(patch_path_parse(key), value) for key, value in _settable(operation.value).items()]
        else:
            items = [(operation.path, operation.value)]
        for path, value in items:
            _group_apply(changes, operation.op, path, value)
    return changes


def _group_apply(changes: GroupChanges, op: str, path: PatchPath, value: Any) -> None:
    if path.attribute == "displayname" and path.value_filter is None and path.sub_attribute is None:
        if op == "remove":
            raise ScimError("A group keeps its displayName.", scim_type="mutability")
        changes.display_name = string(value, "displayName", max_length=200, required=True)
    elif path.attribute == "externalid" and path.value_filter is None:
        changes.external_id = "" if op == "remove" else string(value, "externalId", max_length=200)
    elif path.attribute == "members" and path.sub_attribute in {None, "value"}:
        if path.value_filter is not None:
            if op != "remove":
                raise ScimError("Only remove takes members[…].", scim_type="invalidPath")
            changes.members_remove = [*(changes.members_remove or []), _member_filter_id(path)]
        elif op == "remove":
            if value is None:  # no value: every member goes
                changes.members_set, changes.members_add, changes.members_remove = [], None, None
            else:
                changes.members_remove = [*(changes.members_remove or []), *member_ids(value)]
        elif op == "add":
            changes.members_add = [*(changes.members_add or []), *member_ids(value)]
        else:
            changes.members_set = member_ids(value or [])
            changes.members_add, changes.members_remove = None, None
    elif path.attribute in {"id", "meta", "schemas"}:
        raise ScimError(f"{path.attribute} is read-only.", scim_type="mutability")
    else:
        raise ScimError(f"“{path.attribute}” is not an attribute of a Group.", scim_type="invalidPath")
