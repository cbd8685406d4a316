"""List-filter pieces every module shares (django-filter), for pages and API alike."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django_filters
from django import forms
from django.db.models import Model, QuerySet
from django.forms.renderers import DjangoTemplates
from django.http import HttpRequest
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # untyped in the stubs
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from aims.models import User
from aims.references import names_by_reference, record_by_reference


class OneOrMany(forms.Select):
    """A plain drop-down on the page that still accepts ``?tier=high&tier=limited`` from the API."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        return [v for v in values if v]

    def optgroups(self, name: str, value: Any, attrs: dict[str, Any] | None = None) -> Any:
        # The filter's field replaces the widget's choices; put "Any" back in front.
        if not self.choices or next(iter(self.choices))[0] != "":
            self.choices = [("", gettext("Any")), *self.choices]
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


class IdOrReferenceChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]  # any model
    """A record chosen by id (the pages' pickers) or by its reference code (``?system=AIS-0001``)."""

    def to_python(self, value: Any) -> Any:
        if self.queryset is not None and names_by_reference(self.queryset, value):
            found = record_by_reference(self.queryset, value)
            if found is None:
                raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
            return found
        return super().to_python(value)


@extend_schema_field(OpenApiTypes.STR)  # an id or a reference code
class RecordChoiceFilter(django_filters.ModelChoiceFilter):
    """One of the organisation's records, by id or by reference code."""

    field_class = IdOrReferenceChoiceField


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


# Django's widget templates that are plain ``<input>`` elements (each one includes input.html).
_INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "input", "text", "search", "hidden", "number", "email", "url", "tel", "password", "date", "datetime",
        "time", "checkbox",
    )
)  # fmt: skip
_SELECT_TEMPLATE = "django/forms/widgets/select.html"
_OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def _text(value: Any) -> str:
    """``{{ value }}`` in a template: localised, then escaped unless already safe."""
    return conditional_escape(str(localize(template_localtime(value))))


def _formatted(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``: ``%s`` of the value, escaped unless it was safe."""
    text = "%s" % (str(value) if isinstance(value, tuple) else value)  # the filter's own formatting
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html."""
    return "".join(
        f" {_text(name)}" if value is True else f' {_text(name)}="{_formatted(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class InlineWidgetRenderer(DjangoTemplates):
    """Django's form renderer, writing its ``<input>`` and ``<select>`` widgets in Python.

    A filter form renders a dozen widgets on every list page, and Django renders each through
    its template, a select through one more template per option: that was a fifth of a list
    page's time. The markup is Django's own, character for character
    (tests/aims/test_page_rendering.py holds the two side by side); any other template, or a
    select whose options use another template, is rendered by the templates as before.
    """

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        widget = context.get("widget") if len(context) == 1 else None
        if widget is not None and template_name in _INPUT_TEMPLATES:
            return mark_safe(self._input(widget))  # noqa: S308  # every part escaped above
        if widget is not None and template_name == _SELECT_TEMPLATE:
            groups = widget["optgroups"]
            if all(option["template_name"] == _OPTION_TEMPLATE for _, options, _ in groups for option in options):
                return mark_safe(self._select(widget, groups))  # noqa: S308  # every part escaped above
        return super().render(template_name, context, request)

    @staticmethod
    def _input(widget: dict[str, Any]) -> str:
        value = widget["value"]
        shown = "" if value is None else f' value="{_formatted(value)}"'
        return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'

    @staticmethod
    def _select(widget: dict[str, Any], groups: list[Any]) -> str:
        parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _index in groups:
            if group_name:
                parts.append(f'\n  <optgroup label="{_text(group_name)}">')
            for option in options:
                parts.append(
                    f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
                    f"{_text(option['label'])}</option>\n"
                )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return "".join(parts)


INLINE_WIDGET_RENDERER = InlineWidgetRenderer()
