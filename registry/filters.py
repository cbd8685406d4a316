"""Inventory filters, shared by the inventory page, its exports and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils import timezone

from registry.models import (
    AIModel,
    AISystem,
    Dataset,
    EUAIActTier,
    LifecycleStage,
    OrganisationRole,
    Supplier,
    SystemStatus,
)

SYSTEM_ORDERING = {
    "ref_code": "Reference",
    "name": "Name",
    "eu_ai_act_tier": "EU AI Act tier",
    "lifecycle_stage": "Life-cycle stage",
    "status": "Status",
    "next_review_date": "Next review",
    "updated_at": "Last changed",
}


class AISystemFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    tier = django_filters.MultipleChoiceFilter(field_name="eu_ai_act_tier", choices=EUAIActTier.choices, label="Tier")
    stage = django_filters.MultipleChoiceFilter(
        field_name="lifecycle_stage", choices=LifecycleStage.choices, label="Life-cycle stage"
    )
    role = django_filters.ChoiceFilter(choices=OrganisationRole.choices, method="filter_role", label="Our role")
    owner = django_filters.NumberFilter(field_name="owner_id", label="Owner")
    status = django_filters.MultipleChoiceFilter(choices=SystemStatus.choices)
    review_overdue = django_filters.BooleanFilter(method="filter_overdue", label="Review overdue")
    external_id = django_filters.CharFilter()
    ordering = django_filters.OrderingFilter(
        fields=[(name, name) for name in SYSTEM_ORDERING], field_labels=SYSTEM_ORDERING, label="Sort by"
    )

    class Meta:
        model = AISystem
        fields = ["q", "tier", "stage", "role", "owner", "status", "review_overdue", "external_id"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(ref_code__icontains=value)
            | Q(description__icontains=value)
            | Q(purpose__icontains=value)
            | Q(business_unit__icontains=value)
            | Q(external_id__iexact=value)
        )

    def filter_role(self, queryset, name, value):
        return queryset.filter(**{f"is_{value}": True}) if value else queryset

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = Q(next_review_date__lt=timezone.localdate()) & ~Q(status=SystemStatus.RETIRED)
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class AIModelFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = AIModel
        fields = ["q", "kind", "source", "supplier", "external_id"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(framework__icontains=value) | Q(external_id__iexact=value))


class DatasetFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = Dataset
        fields = ["q", "purpose", "contains_personal_data", "supplier", "external_id"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(source__icontains=value) | Q(external_id__iexact=value))


class SupplierFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = Supplier
        fields = ["q", "kind", "due_diligence_status", "external_id"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(contract_reference__icontains=value))
