"""The security log's filters, for the page, its CSV export and the API alike."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from aims.autocomplete import AutocompleteSelect
from aims.filters import organization_members
from aims.security.models import SecurityEvent


@extend_schema_field(OpenApiTypes.INT)
class PersonFilter(django_filters.ModelChoiceFilter):
    """A member's user id: events about them or done by them."""


class SecurityEventFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=SecurityEvent.Kind.choices, label=_("Event"), empty_label=_("Any"))
    person = PersonFilter(
        queryset=organization_members,
        method="filter_person",
        label=_("Person"),
        empty_label=_("Anyone"),
        widget=AutocompleteSelect("members"),
    )
    since = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = SecurityEvent
        fields = ["kind", "person", "since", "until"]

    def filter_person(self, queryset, name, value):
        # The person the event is about, or who did it (an admin changing roles, say).
        return queryset.filter(Q(user=value) | Q(actor=value))
