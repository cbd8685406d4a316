"""Risk register filters, shared by pages and API."""

from __future__ import annotations

import hashlib
import json

import django_filters
from django import forms
from django.db.models import Exists, Expression, F, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES
from drf_spectacular.utils import extend_schema_field

from aims.autocomplete import AutocompleteSelect
from aims.filters import OneOrMany, RecordChoiceFilter, organization_members
from controls.catalogue.models import Requirement
from registry.models import AISystem
from risk.models import REVIEW_DATE_SORT_KEY, Level, Risk, TreatmentAction, TreatmentControl


def organization_systems(request: HttpRequest | None) -> QuerySet[AISystem]:
    """Filter choices of AI systems: the request organisation's, by reference."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or not hasattr(tenant, "organization"):
        return AISystem.objects.none()
    # The choices show "reference name" (and the widget reads up to 101 of them): nothing else.
    return AISystem.objects.for_org(tenant.organization).only("organization", "ref_code", "name").order_by("ref_code")


class KeysetOrderingFilter(django_filters.OrderingFilter):
    """Orders by the chosen key, then the id in the same direction: the order a keyset page walks.

    ``sort_keys`` names the expression a field sorts on when it is not the column itself (a
    nullable date sorts on a key without NULL). Only the first ordering asked for is used: each
    one an index serves, never a combination that none does.
    """

    def __init__(self, *args: object, sort_keys: dict[str, Expression] | None = None, **kwargs: object) -> None:
        self.sort_keys = sort_keys or {}
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet[Risk], value: list[str] | None) -> QuerySet[Risk]:
        if not value or value in EMPTY_VALUES:
            return qs
        param = value[0]
        descending = param.startswith("-")
        name = self.get_ordering_value(param).lstrip("-")
        key = self.sort_keys.get(name, F(name))
        return qs.order_by(key.desc() if descending else key.asc(), "-id" if descending else "id")


CONTROL_HELP = "Id of an Annex A control: the risks whose (not cancelled) treatments rely on it."


class RiskFilter(django_filters.FilterSet):
    # The choice filters compare columns of the risk itself, never a join: no DISTINCT, which would
    # make PostgreSQL sort every matching row before a page (and count them the same way).
    q = django_filters.CharFilter(method="search", label=_("Search"), widget=forms.TextInput(attrs={"type": "search"}))
    level = django_filters.MultipleChoiceFilter(
        method="filter_level",
        choices=Level.choices,
        label=_("Current level"),
        widget=OneOrMany(choices=Level.choices),
        distinct=False,
    )
    inherent_level = django_filters.MultipleChoiceFilter(
        choices=Level.choices, widget=OneOrMany(choices=Level.choices), distinct=False, label=_("Inherent level")
    )
    residual_level = django_filters.MultipleChoiceFilter(
        choices=Level.choices, widget=OneOrMany(choices=Level.choices), distinct=False, label=_("Residual level")
    )
    inherent_likelihood = django_filters.NumberFilter(widget=forms.HiddenInput)
    inherent_impact = django_filters.NumberFilter(widget=forms.HiddenInput)
    residual_likelihood = django_filters.NumberFilter(widget=forms.HiddenInput)
    residual_impact = django_filters.NumberFilter(widget=forms.HiddenInput)
    status = django_filters.MultipleChoiceFilter(
        choices=Risk.Status.choices, widget=OneOrMany(choices=Risk.Status.choices), distinct=False, label=_("Status")
    )
    system = RecordChoiceFilter(
        queryset=organization_systems, empty_label=_("Any"), label=_("AI system"), widget=AutocompleteSelect("systems")
    )
    organisation_level = django_filters.BooleanFilter(
        field_name="system", lookup_expr="isnull", label=_("Organisation-level only"), widget=forms.HiddenInput
    )
    owner = django_filters.ModelChoiceFilter(
        queryset=organization_members, label=_("Owner"), empty_label=_("Anyone"), widget=AutocompleteSelect("members")
    )
    overdue = django_filters.ChoiceFilter(
        choices=[("true", _("Review overdue")), ("false", _("Not overdue"))],
        method="filter_overdue",
        label=_("Review"),
        empty_label=_("Any"),
    )
    treatment_overdue = django_filters.ChoiceFilter(
        choices=[("true", _("Has an overdue treatment"))],
        method="filter_treatment_overdue",
        label=_("Treatment"),
        empty_label=_("Any"),
    )
    control = django_filters.ModelChoiceFilter(
        queryset=Requirement.objects.of_framework("ISO42001").controls().only("ref", "title").order_by("order"),
        method="filter_control",
        label=_("Annex A control"),
        empty_label=_("Any"),
        help_text=CONTROL_HELP,
    )
    # Each ordering is backed by an index of Risk.Meta (organization, key, id).
    ordering = KeysetOrderingFilter(
        fields=[("ref_code", "ref_code"), ("title", "title"), ("next_review_date", "next_review_date"),
                ("updated_at", "updated_at")],
        field_labels={"ref_code": _("Reference"), "title": _("Title"), "next_review_date": _("Next review"),
                      "updated_at": _("Last changed")},
        sort_keys={"next_review_date": REVIEW_DATE_SORT_KEY},
        label=_("Sort by"),
        empty_label=_("Reference"),
    )  # fmt: skip

    class Meta:
        model = Risk
        fields = ["q", "level", "status", "system", "owner", "overdue", "treatment_overdue"]

    def narrows(self) -> bool:
        """Whether a filter other than the ordering applies (the heat maps then map the filter)."""
        if not self.is_bound:
            return False
        self.is_valid()  # fills cleaned_data with the valid filters: those that apply
        values = self.form.cleaned_data.items()
        return any(value not in (None, "", [], ()) for name, value in values if name != "ordering")

    def searches(self) -> bool:
        """Whether a free-text search applies (its matches cannot be counted through an index)."""
        return self.narrows() and bool((self.form.cleaned_data.get("q") or "").strip())

    def summary_key(self) -> str:
        """Names the filters that apply (not the ordering), for the cached figures of the filter."""
        self.is_valid()
        applied = []
        for name, value in sorted(self.form.cleaned_data.items()):
            if name == "ordering" or value in (None, "", [], ()):
                continue
            values = value if isinstance(value, list | tuple) else [value]
            applied.append([name, sorted(str(getattr(v, "pk", v)).strip() for v in values)])
            if name in ("overdue", "treatment_overdue"):  # what is overdue moves on at midnight, with no write
                applied.append(["today", [timezone.localdate().isoformat()]])
        return hashlib.sha256(json.dumps(applied).encode()).hexdigest()[:24]

    def search(self, queryset: QuerySet[Risk], name: str, value: str) -> QuerySet[Risk]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value) | Q(ref_code__icontains=value) | Q(description__icontains=value)
        )

    def filter_level(self, queryset: QuerySet[Risk], name: str, value: list[str]) -> QuerySet[Risk]:
        if not value:
            return queryset
        # The current level is the residual one once assessed, otherwise the inherent one.
        return queryset.filter(Q(residual_level__in=value) | Q(residual_level="", inherent_level__in=value))

    def filter_overdue(self, queryset: QuerySet[Risk], name: str, value: str) -> QuerySet[Risk]:
        if value not in ("true", "false"):
            return queryset
        overdue = Q(next_review_date__lt=timezone.localdate()) & ~Q(status=Risk.Status.CLOSED)
        return queryset.filter(overdue) if value == "true" else queryset.exclude(overdue)

    def filter_treatment_overdue(self, queryset: QuerySet[Risk], name: str, value: str) -> QuerySet[Risk]:
        """Risks with a planned or started treatment past its due date: the dashboard's tile."""
        if value != "true":
            return queryset
        past_due = TreatmentAction.objects.filter(TreatmentAction.past_due(timezone.localdate()), risk=OuterRef("pk"))
        return queryset.filter(Exists(past_due))

    # The API takes the control's id (the method receives the control itself).
    @extend_schema_field({"type": "integer", "description": CONTROL_HELP})
    def filter_control(self, queryset: QuerySet[Risk], name: str, value: Requirement) -> QuerySet[Risk]:
        # EXISTS, not a join: a risk with several treatments relying on the control is listed once,
        # without a DISTINCT over the whole register.
        relies = TreatmentControl.objects.filter(treatment__risk=OuterRef("pk"), control=value).exclude(
            treatment__status=TreatmentAction.Status.CANCELLED
        )
        return queryset.filter(Exists(relies))
