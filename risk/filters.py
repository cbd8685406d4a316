"""Risk register filters, shared by pages and API."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field

from aims.filters import OneOrMany, organization_members
from controls.catalogue.models import Requirement
from registry.models import AISystem
from risk.models import Level, Risk, TreatmentAction, TreatmentControl


def organization_systems(request: HttpRequest | None) -> QuerySet[AISystem]:
    """Filter choices of AI systems: the request organisation's, by reference."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or not hasattr(tenant, "organization"):
        return AISystem.objects.none()
    return AISystem.objects.for_org(tenant.organization).order_by("ref_code")


CONTROL_HELP = "Id of an Annex A control: the risks whose (not cancelled) treatments rely on it."


class RiskFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", widget=forms.TextInput(attrs={"type": "search"}))
    level = django_filters.MultipleChoiceFilter(
        method="filter_level", choices=Level.choices, label="Current level", widget=OneOrMany(choices=Level.choices)
    )
    inherent_level = django_filters.MultipleChoiceFilter(choices=Level.choices, widget=OneOrMany(choices=Level.choices))
    residual_level = django_filters.MultipleChoiceFilter(choices=Level.choices, widget=OneOrMany(choices=Level.choices))
    inherent_likelihood = django_filters.NumberFilter(widget=forms.HiddenInput)
    inherent_impact = django_filters.NumberFilter(widget=forms.HiddenInput)
    residual_likelihood = django_filters.NumberFilter(widget=forms.HiddenInput)
    residual_impact = django_filters.NumberFilter(widget=forms.HiddenInput)
    status = django_filters.MultipleChoiceFilter(
        choices=Risk.Status.choices, widget=OneOrMany(choices=Risk.Status.choices)
    )
    system = django_filters.ModelChoiceFilter(queryset=organization_systems, empty_label="Any", label="AI system")
    organisation_level = django_filters.BooleanFilter(
        field_name="system", lookup_expr="isnull", label="Organisation-level only", widget=forms.HiddenInput
    )
    owner = django_filters.ModelChoiceFilter(queryset=organization_members, label="Owner", empty_label="Anyone")
    overdue = django_filters.ChoiceFilter(
        choices=[("true", "Review overdue"), ("false", "Not overdue")],
        method="filter_overdue",
        label="Review",
        empty_label="Any",
    )
    control = django_filters.ModelChoiceFilter(
        queryset=Requirement.objects.of_framework("ISO42001").controls().order_by("order"),
        method="filter_control",
        label="Annex A control",
        empty_label="Any",
        help_text=CONTROL_HELP,
    )
    ordering = django_filters.OrderingFilter(
        fields=[("ref_code", "ref_code"), ("title", "title"), ("next_review_date", "next_review_date"),
                ("updated_at", "updated_at")],
        field_labels={"ref_code": "Reference", "title": "Title", "next_review_date": "Next review",
                      "updated_at": "Last changed"},
        label="Sort by",
        empty_label="Reference",
    )  # fmt: skip

    class Meta:
        model = Risk
        fields = ["q", "level", "status", "system", "owner", "overdue"]

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

    # The API takes the control's id (the method receives the control itself).
    @extend_schema_field({"type": "integer", "description": CONTROL_HELP})
    def filter_control(self, queryset: QuerySet[Risk], name: str, value: Requirement) -> QuerySet[Risk]:
        # EXISTS, not a join: a risk with several treatments relying on the control is listed once,
        # without a DISTINCT over the whole register.
        relies = TreatmentControl.objects.filter(treatment__risk=OuterRef("pk"), control=value).exclude(
            treatment__status=TreatmentAction.Status.CANCELLED
        )
        return queryset.filter(Exists(relies))
