"""List-filter pieces every module shares (django-filter), for pages and API alike."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django_filters
from django import forms
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from aims.models import User


class OneOrMany(forms.Select):
    """A plain drop-down on the page that still accepts ``?tier=high&tier=limited`` from the API."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        return [v for v in values if v]

    def optgroups(self, name: str, value: Any, attrs: dict[str, Any] | None = None) -> Any:
        # The filter's field replaces the widget's choices; put "Any" back in front.
        if not self.choices or next(iter(self.choices))[0] != "":
            self.choices = [("", "Any"), *self.choices]
        return super().optgroups(name, value, attrs)

    def format_value(self, value: Any) -> Any:
        return [str(v) for v in value] if isinstance(value, list | tuple) else super().format_value(value)


class YearFilter(django_filters.NumberFilter):
    """A calendar year (``?year=2026``): a whole number from 1 to 9999, the years a date can hold.

    A plain number filter on ``__year`` let ``?year=0`` or ``?year=10000`` through to the
    database lookup, which cannot build such a date (500); this answers a field error instead.
    """

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 9999)
        super().__init__(*args, **kwargs)


def one_or_many(choices: Iterable[tuple[Any, Any]]) -> OneOrMany:
    return OneOrMany(choices=choices)


def organization_members(request: HttpRequest | None) -> QuerySet[User]:
    """Filter choices of people: the members of the request's organisation (none without one)."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or not hasattr(tenant, "organization"):
        return User.objects.none()
    return User.objects.filter(memberships__organization=tenant.organization).order_by("email")


def organization_records(model: type[Model]) -> Any:
    """A django-filter ``queryset`` callable offering the request organisation's ``model`` rows."""

    def choices(request: HttpRequest | None) -> QuerySet[Any]:
        tenant = getattr(request, "tenant", None)
        if tenant is None or not hasattr(tenant, "organization"):
            return model._default_manager.none()
        return model.objects.for_org(tenant.organization)  # type: ignore[attr-defined, no-any-return]

    return choices
