"""Serializer fields that resolve ids within the caller's organisation, for every API."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from aims.models import Organization, User
from aims.references import names_by_reference, record_by_reference, reference_field_of


def request_organization(field: serializers.Field) -> Organization:
    """The organisation of the request a serializer field is validating for."""
    organization: Organization = field.context["request"].tenant.organization
    return organization


class ByReferenceMixin:
    """A related-record field that also takes the record's reference (``"AIS-0001"``, ``"A.7.4"``).

    Integrators know the codes people read on the pages; asking them for numeric ids made them
    download whole lists to build a lookup. A number is still read as an id.
    """

    reference_error = "No record with reference {reference!r}."

    def to_internal_value(self, data: Any) -> Any:
        queryset = self.get_queryset()  # type: ignore[attr-defined]
        if names_by_reference(queryset, data):
            found = record_by_reference(queryset, data)
            if found is None:
                raise serializers.ValidationError(self.reference_error.format(reference=data.strip()))
            return found
        return super().to_internal_value(data)  # type: ignore[misc]


class OrgRecordField(ByReferenceMixin, serializers.PrimaryKeyRelatedField):
    """The id (or reference code) of one record of the caller's organisation; another tenant's is "not found"."""

    default_error_messages = {"does_not_exist": "No record with id {pk_value} in your organisation."}
    reference_error = "No record with reference {reference!r} in your organisation."

    def get_queryset(self) -> Any:
        queryset: Any = super().get_queryset()  # a TenantQuerySet: the field is given one
        return queryset.for_org(request_organization(self))


class OptionalURLField(serializers.URLField):
    """A link that may be absent: stored as ``""`` (a blank ``URLField``), answered as null.

    ``""`` is not a URI, so a schema saying ``format: uri`` cannot promise it; null can be
    said (``nullable``). Null and ``""`` are both accepted on input and store ``""``.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def run_validation(self, data: Any = serializers.empty) -> Any:
        value = super().run_validation(data)
        return "" if value is None else value

    def to_representation(self, value: Any) -> str | None:  # type: ignore[override]  # null for no link
        return str(value) if value else None


class MemberField(serializers.PrimaryKeyRelatedField):
    """A user id that must belong to a member of the caller's organisation."""

    default_error_messages = {"does_not_exist": "User {pk_value} is not a member of your organisation."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", User.objects.all())
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        queryset: Any = super().get_queryset()  # always set: __init__ defaults it to every user
        return queryset.filter(memberships__organization=request_organization(self))


# --- Schema ---------------------------------------------------------------------------------------


def stored_as_nullable(field: serializers.Field) -> bool:
    """Whether the model column behind ``field`` may hold NULL, e.g. an owner set to NULL when deleted."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or "." in (field.source or ""):
        return False
    try:
        return bool(model._meta.get_field(field.source).null)
    except FieldDoesNotExist:
        return False


class _NullableWhenStoredNull(OpenApiSerializerFieldExtension):
    """A record id that input must give (no null), but which a stored row may lack: the answer says so.

    A risk's owner is required in the API yet may be empty when written in the pages or after
    the owner's account was deleted; the response schema must then allow null.
    """

    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "response" and stored_as_nullable(self.target):
            schema["nullable"] = True
        return schema


class MemberFieldSchema(_NullableWhenStoredNull):
    target_class = MemberField


class OrgRecordFieldSchema(_NullableWhenStoredNull):
    target_class = OrgRecordField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        schema = super().map_serializer_field(auto_schema, direction)
        queryset = getattr(self.target, "queryset", None)
        if direction == "request" and queryset is not None and reference_field_of(queryset.model):
            return by_id_or_reference(schema)
        return schema


def by_id_or_reference(schema: dict[str, Any]) -> dict[str, Any]:
    """A request schema that takes an id or a reference code."""
    nullable = schema.pop("nullable", False)
    described: dict[str, Any] = {key: schema.pop(key) for key in ("description", "title") if key in schema}
    either: dict[str, Any] = {"oneOf": [schema, {"type": "string", "description": "Its reference code."}]}
    if nullable:
        either["nullable"] = True
    return {**either, **described}
