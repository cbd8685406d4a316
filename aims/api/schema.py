"""OpenAPI helpers shared by every API module."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The `ETag` of the record as last read (`GET` of one record, and every write, answers it). "
    "When it no longer names the current version the write is refused with 412 and nothing changes; "
    "without this header the write proceeds, whatever changed since.",
)
# --- Error answers ---------------------------------------------------------------------------
# Written once here and added to every operation by :func:`error_responses`; the bodies are the
# ones aims.api.errors (and aims.concurrency for 412) actually send.

ERROR_REF = {"$ref": "#/components/schemas/Error"}
#: ``{"detail": str, "errors": {field: [messages]}}``; ``errors`` only on a 400 naming fields.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The API's error body. `detail` says what went wrong in words; a 400 about the request's "
    "fields adds `errors`, naming each field (`non_field_errors` for the request as a whole) with its messages.",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "Messages by field name. A nested record's field answers an object of its own "
            "fields' messages, a list of records a list of such objects (or of messages).",
            "additionalProperties": {
                "anyOf": [
                    {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
                    {"type": "object"},
                ]
            },
        },
    },
}
PRECONDITION_FAILED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A write refused because the record changed since the `ETag` sent in `If-Match`.",
    "required": ["detail", "current_version", "changes"],
    "properties": {
        "detail": {"type": "string"},
        "current_version": {"type": "string", "nullable": True},
        "changes": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "when": {"type": "string", "format": "date-time"},
                    "who": {"type": "string", "nullable": True},
                    "action": {"type": "string"},
                    "fields": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
_RETRY_AFTER = {"schema": {"type": "integer"}, "description": "Seconds to wait before sending the request again."}


def _error_response(description: str, schema: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema or ERROR_REF}}, **extra}


#: Status code -> (component name, response object).
ERROR_RESPONSES: dict[str, tuple[str, dict[str, Any]]] = {
    "400": ("BadRequest", _error_response(
        "Bad request: a field, parameter or the body is invalid, or the change is not allowed in the record's "
        "current state. Nothing was written; `errors` names the fields."
    )),
    "401": ("Unauthorized", _error_response(
        "Not authenticated: no credentials, or a token that is unknown, revoked, expired or whose creator "
        "is no longer a member."
    )),
    "403": ("Forbidden", _error_response("Forbidden: the role in this organisation does not allow this.")),
    "404": ("NotFound", _error_response(
        "Not found: no such record (or page) in your organisation. Another organisation's record answers 404 too."
    )),
    "409": ("Conflict", _error_response(
        "Conflict: a concurrent change took the same unique value first; nothing was written. Read the "
        "record again and retry."
    )),
    "412": ("PreconditionFailed", _error_response(
        "Precondition failed: the record changed since the `ETag` sent in `If-Match`; nothing was written. "
        "`current_version` is the ETag to use after reading the record again.",
        {"$ref": "#/components/schemas/PreconditionFailed"},
    )),
    "429": ("TooManyRequests", _error_response(
        "Too many requests: over the rate limit of the token (or user, or address).",
        headers={"Retry-After": _RETRY_AFTER},
    )),
    "503": ("ServiceUnavailable", _error_response(
        "Service unavailable: the database could not be reached for a moment; nothing was written. "
        "Send the request again after `Retry-After` seconds.",
        headers={"Retry-After": _RETRY_AFTER},
    )),
}  # fmt: skip
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
HTTP_METHODS = WRITE_METHODS | {"get", "head", "options", "trace"}


def crud_schema(name: str, plural: str | None = None, **overrides: Any) -> Any:
    """Summaries for the six CRUD actions of a viewset about ``name``; ``overrides`` replace or add actions.

    The writes of one record take ``If-Match`` (optimistic concurrency, :mod:`aims.concurrency`).
    """
    schemas = {
        "list": extend_schema(summary=f"List {plural or name + 's'}"),
        "retrieve": extend_schema(summary=f"One {name}"),
        "create": extend_schema(summary=f"Add a {name}"),
        "update": extend_schema(summary=f"Replace a {name}", parameters=[IF_MATCH]),
        "partial_update": extend_schema(summary=f"Change a {name}", parameters=[IF_MATCH]),
        "destroy": extend_schema(summary=f"Delete a {name}"),
    }
    return extend_schema_view(**{**schemas, **overrides})


def error_status_codes(method: str, operation: dict[str, Any]) -> list[str]:
    """The error answers an operation can give, from its method and parameters.

    Every operation may be refused (401, 403), throttled (429) or meet a lost database (503).
    Input may be invalid (400) when there is a body or a parameter, and a write may also be
    refused by the service's rules; a path names a record that may not exist, and a list's
    ``page`` a page that may not (404); writes may lose a race for a unique value (409) and
    those taking ``If-Match`` may be stale (412).
    """
    parameters = operation.get("parameters", [])
    where = {parameter.get("in") for parameter in parameters}
    is_write = method in WRITE_METHODS
    codes = ["401", "403", "429", "503"]
    if is_write or "requestBody" in operation or where & {"query", "path"}:
        codes.append("400")
    if "path" in where or any(p.get("in") == "query" and p.get("name") == "page" for p in parameters):
        codes.append("404")
    if is_write:
        codes.append("409")
    if any(p.get("in") == "header" and p.get("name") == "If-Match" for p in parameters):
        codes.append("412")
    return codes


def error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Schema postprocessing hook: document every operation's error answers, once, as shared components.

    An answer an operation documents itself is kept; one without a body gets the error body,
    and a 400 with a body of its own (a bulk endpoint's item errors) may still be the common
    error shape, which the parsers' input guard answers before the view runs.
    """
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas["PreconditionFailed"] = PRECONDITION_FAILED_SCHEMA
    shared = components.setdefault("responses", {})
    for name, response in ERROR_RESPONSES.values():
        shared[name] = response
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in HTTP_METHODS or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for code in error_status_codes(method, operation):
                name, response = ERROR_RESPONSES[code]
                own = responses.get(code)
                if own is None:
                    responses[code] = {"$ref": f"#/components/responses/{name}"}
                elif "content" not in own:
                    own["content"] = response["content"]
                elif code == "400":
                    for media in own["content"].values():
                        if media.get("schema") not in (None, ERROR_REF):
                            media["schema"] = {"anyOf": [media["schema"], ERROR_REF]}
            # Writes answer the record's new version (the ETag to send in the next If-Match).
            ok = responses.get("200")
            if "412" in responses and isinstance(ok, dict) and "$ref" not in ok:
                ok.setdefault("headers", {})["ETag"] = {
                    "schema": {"type": "string"},
                    "description": "The record's new version, for the next If-Match.",
                }
            operation["responses"] = dict(sorted(responses.items()))
    return result
