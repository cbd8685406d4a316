"""OpenAPI helpers shared by every API module."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view


def crud_schema(name: str, plural: str | None = None, **overrides: Any) -> Any:
    """Summaries for the six CRUD actions of a viewset about ``name``; ``overrides`` replace or add actions."""
    schemas = {
        "list": extend_schema(summary=f"List {plural or name + 's'}"),
        "retrieve": extend_schema(summary=f"One {name}"),
        "create": extend_schema(summary=f"Add a {name}"),
        "update": extend_schema(summary=f"Replace a {name}"),
        "partial_update": extend_schema(summary=f"Change a {name}"),
        "destroy": extend_schema(summary=f"Delete a {name}"),
    }
    return extend_schema_view(**{**schemas, **overrides})
