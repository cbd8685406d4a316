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
PRECONDITION_FAILED = {
    "description": "Precondition failed: the record changed since the `ETag` sent in `If-Match`; nothing was "
    "written. `current_version` is the ETag to use after reading the record again.",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
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
        }
    },
}


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


def precondition_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Schema postprocessing hook: every operation taking ``If-Match`` documents its 412 and ETag."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            parameters = operation.get("parameters", [])
            if any(p.get("in") == "header" and p.get("name") == "If-Match" for p in parameters):
                responses = operation.setdefault("responses", {})
                responses.setdefault("412", PRECONDITION_FAILED)
                ok = responses.get("200")
                if isinstance(ok, dict):
                    ok.setdefault("headers", {})["ETag"] = {
                        "schema": {"type": "string"},
                        "description": "The record's new version, for the next If-Match.",
                    }
    return result
