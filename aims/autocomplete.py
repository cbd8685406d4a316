"""Autocomplete for choices that can run into thousands: AI systems, risks, controls, members.

A ``<select>`` of 10,000 AI systems costs seconds to render and is useless to pick from. The
:class:`AutocompleteSelect` widget renders a search box instead (an ARIA combobox driven by
htmx and ``static/js/app.js``) whose suggestions come from :class:`SuggestionsView`; the chosen
id travels in a hidden input under the field's own name, so the form field, and its check
of the id against the organisation's queryset, stay as they were. Up to
``settings.AUTOCOMPLETE_ABOVE`` choices it stays a plain select, which needs no script.

Each app registers the kinds it owns with :func:`register` (in its ``AppConfig.ready``), so
this module, like the rest of ``aims``, imports none of them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views import View

from aims.access import TenantViewMixin
from aims.roles import Capability
from aims.search import text_search
from aims.tenancy import Tenant

SUGGESTIONS = 20


@dataclass(frozen=True)
class Source:
    """Where the suggestions of one kind come from.

    ``rows`` gives the tenant's rows (another organisation's never appear), ``search_fields``
    are matched by :func:`aims.search.text_search`, the first one ranking the results, and
    ``label`` is what a suggestion and a chosen value show.
    """

    kind: str
    model: type[Model]
    rows: Callable[[Tenant], QuerySet[Any]]
    search_fields: tuple[str, ...]
    label: Callable[[Any], str] = str
    capability: str = Capability.VIEW


_SOURCES: dict[str, Source] = {}


def register(source: Source) -> None:
    _SOURCES[source.kind] = source


def source_for_model(model: type[Model]) -> Source | None:
    return next((s for s in _SOURCES.values() if s.model is model), None)


def suggestions(source: Source, tenant: Tenant, query: str) -> list[tuple[Any, str]]:
    """At most :data:`SUGGESTIONS` ``(id, label)`` of the tenant's rows matching ``query``."""
    rows = text_search(source.rows(tenant), source.search_fields, query, rank=True)
    return [(row.pk, source.label(row)) for row in rows[:SUGGESTIONS]]


class AutocompleteSelect(forms.Select):
    """A single choice among a model field's rows: a search box above ``AUTOCOMPLETE_ABOVE`` choices.

    Rendering it reads at most ``AUTOCOMPLETE_ABOVE + 1`` rows, and the chosen row's label
    when the list is long, instead of one option per row.
    """

    combobox_template_name = "components/autocomplete.html"

    def __init__(self, kind: str, attrs: dict[str, Any] | None = None, choices: Any = ()) -> None:
        super().__init__(attrs=attrs, choices=choices)
        self.kind = kind

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        iterator: Any = self.choices  # a ModelChoiceIterator for a model choice field
        queryset = getattr(iterator, "queryset", None)
        if queryset is None:
            return super().render(name, value, attrs, renderer)
        above = settings.AUTOCOMPLETE_ABOVE
        rows = list(queryset[: above + 1])
        if len(rows) <= above:
            # A plain select of the rows just read: the same single query a select always cost.
            head = copy.copy(iterator)
            head.queryset = queryset.none()  # the iterator's own leading choices ("Any", a null choice)
            plain = copy.copy(self)
            plain.choices = [*head, *(iterator.choice(row) for row in rows)]
            return forms.Select.render(plain, name, value, attrs, renderer)
        value = "" if value is None or isinstance(value, list | tuple) else str(value)
        source = _SOURCES[self.kind]
        chosen = None
        if value:
            try:
                chosen = queryset.filter(pk=value).first()
            except (ValueError, TypeError, ValidationError):  # a malformed id submitted by hand
                chosen = None
        final_attrs = self.build_attrs(self.attrs, attrs)
        final_attrs.pop("required", None)  # the hidden input holds the value; the server says what is missing
        input_id = final_attrs.get("id") or f"id_{name}"
        final_attrs["id"] = input_id
        empty_label = getattr(getattr(self.choices, "field", None), "empty_label", None)
        context = {
            "name": name,
            "value": value if chosen is not None else "",
            "label": source.label(chosen) if chosen is not None else "",
            "attrs": final_attrs,
            "listbox_id": f"{input_id}_listbox",
            "url": reverse("autocomplete", args=[self.kind]),
            "placeholder": str(empty_label) if empty_label and not self.is_required else "Type to search…",
        }
        return mark_safe(render_to_string(self.combobox_template_name, context))  # noqa: S308  # an escaping template


def autocomplete_fields(form: forms.BaseForm) -> None:
    """Give every single-choice field of ``form`` whose rows have a registered kind the autocomplete widget."""
    for field in form.fields.values():
        if not isinstance(field, forms.ModelChoiceField) or isinstance(field, forms.ModelMultipleChoiceField):
            continue
        if type(field.widget) is not forms.Select:  # a radio list or a hidden input was chosen on purpose
            continue
        source = source_for_model(field.queryset.model) if field.queryset is not None else None
        if source is None:
            continue
        widget = AutocompleteSelect(source.kind, attrs=field.widget.attrs)
        widget.is_required = field.widget.is_required
        widget.choices = field.choices  # type: ignore[assignment]  # a ModelChoiceIterator
        field.widget = widget


def choice_input(
    queryset: QuerySet[Any],
    name: str,
    *,
    attrs: dict[str, Any] | None = None,
    label: Callable[[Any], str] | None = None,
    empty_label: str = "Choose…",
) -> SafeString | None:
    """A required single choice among ``queryset`` for a hand-written form, or None when it is empty.

    A search box for a registered kind with many rows, a select otherwise; either way one
    small query, not one option per row, decides which.
    """
    if not queryset.exists():
        return None
    field = forms.ModelChoiceField(queryset=queryset, empty_label=empty_label)
    if label is not None:
        field.label_from_instance = label  # type: ignore[method-assign, assignment]  # a plain function as the label
    source = source_for_model(queryset.model)
    if source is not None:
        field.widget = AutocompleteSelect(source.kind)
        field.widget.is_required = True
        field.widget.choices = field.choices
    return field.widget.render(name, None, attrs={**(attrs or {}), "required": True})


class SuggestionsView(TenantViewMixin, View):
    """The suggestions of one kind for the text typed so far (``?q=``): a small listbox for htmx."""

    def get(self, request: HttpRequest, kind: str) -> HttpResponse:
        source = _SOURCES.get(kind)
        if source is None:
            raise Http404("No such kind of choice.")
        if not self.tenant.can(source.capability):
            raise PermissionDenied("Your role in this organisation does not allow this.")
        query = request.GET.get("q", "")[:100]
        options = suggestions(source, self.tenant, query)
        return render(request, "components/autocomplete_options.html", {"options": options, "query": query})
