"""Records as people name them: by reference code (``AIS-0001``, ``RSK-0004``, ``A.6.2.4``) as well as by id."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist


def reference_field_of(model: Any) -> str | None:
    """The field holding a record's human reference, if its kind has one."""
    for name in ("ref_code", "ref"):
        try:
            model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        return name
    return None


def looks_like_reference(value: Any) -> bool:
    """A string that is not a plain number: a reference code, never an id."""
    return isinstance(value, str) and bool(value.strip()) and not value.strip().isdigit()


def names_by_reference(queryset: Any, value: Any) -> bool:
    """Whether ``value`` names a record of ``queryset`` by reference rather than by id."""
    return reference_field_of(queryset.model) is not None and looks_like_reference(value)


def record_by_reference(queryset: Any, value: str) -> Any | None:
    """The one record of ``queryset`` with reference ``value``; None when there is none (or, for a
    kind whose references are not unique, more than one: a code must name one record)."""
    field = reference_field_of(queryset.model)
    if field is None:
        return None
    matches = list(queryset.filter(**{field: value.strip()})[:2])
    return matches[0] if len(matches) == 1 else None
