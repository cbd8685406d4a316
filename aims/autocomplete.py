"""Autocomplete for choices that can run into thousands: AI systems, risks, controls, members.

A ``<select>`` of 10,000 AI systems costs seconds to render and is useless to pick from. The
:class:`AutocompleteSelect` widget renders a search box instead (an ARIA combobox driven by
htmx and ``static/js/app.js``) whose suggestions come from :class:`SuggestionsView`; the chosen
id travels in a hidden input under the field's own name, so the form field, and its check
of the id against the organisation's queryset, stay as they were. Up to
``settings.AUTOCOMPLETE_ABOVE`` choices it stays a plain select, which needs no script.
:class:`AutocompleteSelectMultiple` does the same for several choices: the chosen rows are
removable chips, each id a hidden input under the field's name, and the same search box adds
more. :func:`autocomplete_fields` gives a form's model choice fields the one that fits.

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
from django.forms.widgets import ChoiceWidget
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import Promise as StrPromise
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
    # For the portal's search (aims.site_search): the heading of this kind's results and the
    # page of one row. A kind without them is offered in forms only.
    search_heading: str | StrPromise = ""  # translated when shown
    url: Callable[[Any], str] | None = None
    list_url_name: str = ""  # the kind's list, which takes the same words as ``?q=``


_SOURCES: dict[str, Source] = {}


def register(source: Source) -> None:
    _SOURCES[source.kind] = source


def registered_sources() -> list[Source]:
    return list(_SOURCES.values())


def source_for_model(model: type[Model]) -> Source | None:
    return next((s for s in _SOURCES.values() if s.model is model), None)


def matching_rows(source: Source, tenant: Tenant, query: str) -> QuerySet[Any]:
    """The tenant's rows of ``source`` matching ``query``, best first (ranked on PostgreSQL)."""
    return text_search(source.rows(tenant), source.search_fields, query, rank=True)


def suggestions(source: Source, tenant: Tenant, query: str) -> list[tuple[Any, str]]:
    """At most :data:`SUGGESTIONS` ``(id, label)`` of the tenant's rows matching ``query``."""
    return [(row.pk, source.label(row)) for row in matching_rows(source, tenant, query)[:SUGGESTIONS]]


def _rows_of_a_short_list(queryset: QuerySet[Any]) -> list[Any] | None:
    """The rows when there are at most ``AUTOCOMPLETE_ABOVE`` (a plain select shows them), else None.

    Reads at most one row more than that, never the whole list.
    """
    above = settings.AUTOCOMPLETE_ABOVE
    rows = list(queryset[: above + 1])
    return rows if len(rows) <= above else None


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
        rows = _rows_of_a_short_list(queryset)
        if rows is not None:
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


class AutocompleteSelectMultiple(forms.SelectMultiple):
    """Several choices among a model field's rows: chips and a search box above ``AUTOCOMPLETE_ABOVE`` choices.

    Each chosen row is a chip (a button that removes it) beside a hidden input holding its id
    under the field's own name, so the field validates the ids against its queryset as a
    select's would, and a form shown again after an error keeps them. Rendering reads at most
    ``AUTOCOMPLETE_ABOVE + 1`` rows and, when the list is long, the chosen rows: two queries
    whatever the size. Up to ``AUTOCOMPLETE_ABOVE`` choices it renders ``plain``, the widget
    it replaced (a select or a list of checkboxes), which needs no script.
    """

    combobox_template_name = "components/autocomplete_multiple.html"

    def __init__(
        self,
        kind: str,
        attrs: dict[str, Any] | None = None,
        choices: Any = (),
        plain: type[ChoiceWidget] = forms.SelectMultiple,
    ) -> None:
        super().__init__(attrs=attrs, choices=choices)
        self.kind = kind
        self.plain = plain

    def short_rows(self) -> list[Any] | None:
        """The rows when the list is short enough for :attr:`plain` (read once per form), else None."""
        if "_short_rows" not in self.__dict__:
            queryset = getattr(self.choices, "queryset", None)
            self.__dict__["_short_rows"] = None if queryset is None else _rows_of_a_short_list(queryset)
        return self.__dict__["_short_rows"]

    @property
    def use_fieldset(self) -> bool:  # type: ignore[override]  # a property where Django has an attribute
        """A short list of checkboxes is a group, labelled by a legend (``components/_field.html``)."""
        return issubclass(self.plain, forms.CheckboxSelectMultiple) and self.short_rows() is not None

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        iterator: Any = self.choices  # a ModelChoiceIterator for a model choice field
        queryset = getattr(iterator, "queryset", None)
        if queryset is None:
            return super().render(name, value, attrs, renderer)
        rows = self.short_rows()
        if rows is not None:
            plain_attrs = {key: value for key, value in self.attrs.items() if key != "size"}
            plain = self.plain(attrs=plain_attrs, choices=[iterator.choice(row) for row in rows])
            plain.is_required = self.is_required
            return plain.render(name, value, attrs, renderer)
        source = _SOURCES[self.kind]
        final_attrs = self.build_attrs(self.attrs, attrs)
        final_attrs.pop("required", None)  # the hidden inputs hold the values; the server says what is missing
        final_attrs.pop("size", None)  # the visible rows of the select this replaces
        input_id = final_attrs.get("id") or f"id_{name}"
        final_attrs["id"] = input_id
        context = {
            "name": name,
            "chosen": [(row.pk, source.label(row)) for row in self.chosen_rows(queryset, value)],
            "attrs": final_attrs,
            "listbox_id": f"{input_id}_listbox",
            "url": reverse("autocomplete", args=[self.kind]),
        }
        return mark_safe(render_to_string(self.combobox_template_name, context))  # noqa: S308  # an escaping template

    @staticmethod
    def chosen_rows(queryset: QuerySet[Any], value: Any) -> list[Any]:
        """The rows of ``queryset`` among the ids in ``value``, in the order they were chosen.

        Ids that are malformed or not the queryset's (another organisation's, submitted by
        hand) are left out: the field reports them, and their rows are never shown.
        """
        if value is None or value == "":
            return []
        values = [value] if isinstance(value, str | int) else list(value)
        pk = queryset.model._meta.pk
        ids = []
        for raw in values:
            try:
                ids.append(pk.to_python(raw))
            except ValidationError:
                continue
        ids = [i for i in dict.fromkeys(ids) if i is not None]
        if not ids:
            return []
        try:
            found = {row.pk: row for row in queryset.filter(pk__in=ids)}
        except (ValueError, TypeError, OverflowError, ValidationError):  # a value the database cannot compare
            return []
        return [found[i] for i in ids if i in found]


# The widgets a multiple choice may have on purpose that still list every row.
_MULTIPLE_WIDGETS = (forms.SelectMultiple, forms.CheckboxSelectMultiple)


def autocomplete_fields(form: forms.BaseForm) -> None:
    """Give every model choice field of ``form`` whose rows have a registered kind an autocomplete widget.

    A single choice gets :class:`AutocompleteSelect`, several :class:`AutocompleteSelectMultiple`.
    Calling it again (once a form has set its querysets) changes only the fields still plain.
    """
    for field in form.fields.values():
        if isinstance(field, forms.ModelMultipleChoiceField):
            _autocomplete_multiple(field)
            continue
        if not isinstance(field, forms.ModelChoiceField):
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


def _autocomplete_multiple(field: forms.ModelMultipleChoiceField) -> None:
    if type(field.widget) not in _MULTIPLE_WIDGETS:  # already a search box, or hidden inputs on purpose
        return
    source = source_for_model(field.queryset.model) if field.queryset is not None else None
    if source is None:
        return
    # A short list is a list of checkboxes, never a select that needs Ctrl-click for a second choice.
    widget = AutocompleteSelectMultiple(source.kind, attrs=field.widget.attrs, plain=forms.CheckboxSelectMultiple)
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
