"""Inventory filters, shared by the inventory page, its exports and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from aims.autocomplete import AutocompleteSelect
from aims.filters import one_or_many, organization_members, organization_records
from aims.search import contains_any
from registry.models import (
    AIModel,
    AISystem,
    Dataset,
    EUAIActTier,
    LifecycleStage,
    OrganisationRole,
    RoleAssignment,
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


_suppliers = organization_records(Supplier)
SYSTEM_SEARCH_FIELDS = ("name", "ref_code", "description", "purpose", "business_unit")


class InventoryFilter(django_filters.FilterSet):
    """Base of the inventory filters: ``external_id`` serves integrators and never shows as a field.

    A hidden input keeps it in the query string when it is set, so paging keeps the filter.
    """

    external_id = django_filters.CharFilter(widget=forms.HiddenInput)


class AISystemFilter(InventoryFilter):
    q = django_filters.CharFilter(method="search", label="Search", widget=forms.TextInput(attrs={"type": "search"}))
    tier = django_filters.MultipleChoiceFilter(
        field_name="eu_ai_act_tier",
        choices=EUAIActTier.choices,
        label="EU AI Act tier",
        widget=one_or_many(EUAIActTier.choices),
    )
    stage = django_filters.MultipleChoiceFilter(
        field_name="lifecycle_stage", choices=LifecycleStage.choices, label="Life-cycle stage",
        widget=one_or_many(LifecycleStage.choices),
    )  # fmt: skip
    role = django_filters.ChoiceFilter(
        choices=OrganisationRole.choices, method="filter_role", label="Our role", empty_label="Any"
    )
    owner = django_filters.ModelChoiceFilter(
        queryset=organization_members, label="Owner", empty_label="Anyone", widget=AutocompleteSelect("members")
    )
    status = django_filters.MultipleChoiceFilter(choices=SystemStatus.choices, widget=one_or_many(SystemStatus.choices))
    review_overdue = django_filters.ChoiceFilter(
        choices=[("true", "Overdue"), ("false", "Not overdue")],
        method="filter_overdue",
        label="Review",
        empty_label="Any",
    )
    accountable = django_filters.ChoiceFilter(
        choices=[("missing", "Missing (active systems)"), ("assigned", "Assigned")],
        method="filter_accountable",
        label="Accountable person",
        empty_label="Any",
    )
    ordering = django_filters.OrderingFilter(
        fields=[(name, name) for name in SYSTEM_ORDERING],
        field_labels=SYSTEM_ORDERING,
        label="Sort by",
        empty_label="Reference",
    )

    class Meta:
        model = AISystem
        fields = ["q", "tier", "stage", "role", "owner", "status", "review_overdue", "accountable", "external_id"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # Every column has a trigram index (registry/migrations/0004_trigram_search.py): keep them in step.
        return queryset.filter(contains_any(SYSTEM_SEARCH_FIELDS, value) | Q(external_id__iexact=value))

    def filter_role(self, queryset, name, value):
        return queryset.filter(**{f"is_{value}": True}) if value else queryset

    def filter_accountable(self, queryset, name, value):
        """``missing``: the active systems the dashboard counts as having no Accountable person."""
        accountable = Exists(RoleAssignment.objects.filter(system=OuterRef("pk"), raci=RoleAssignment.Raci.ACCOUNTABLE))
        if value == "missing":
            return queryset.filter(status=SystemStatus.ACTIVE).exclude(accountable)
        if value == "assigned":
            return queryset.filter(accountable)
        return queryset

    def filter_overdue(self, queryset, name, value):
        if value not in ("true", "false"):
            return queryset
        overdue = Q(next_review_date__lt=timezone.localdate()) & ~Q(status=SystemStatus.RETIRED)
        return queryset.filter(overdue) if value == "true" else queryset.exclude(overdue)


class AIModelFilter(InventoryFilter):
    q = django_filters.CharFilter(method="search", label="Search")
    # Narrowed to the organisation, so another tenant's supplier id is as unknown as a made-up one.
    supplier = django_filters.ModelChoiceFilter(queryset=_suppliers, empty_label="Any")

    class Meta:
        model = AIModel
        fields = ["q", "kind", "source", "supplier", "external_id"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(framework__icontains=value) | Q(external_id__iexact=value))


class DatasetFilter(InventoryFilter):
    q = django_filters.CharFilter(method="search", label="Search")
    supplier = django_filters.ModelChoiceFilter(queryset=_suppliers, empty_label="Any")

    class Meta:
        model = Dataset
        fields = ["q", "purpose", "contains_personal_data", "supplier", "external_id"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(source__icontains=value) | Q(external_id__iexact=value))


class SupplierFilter(InventoryFilter):
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = Supplier
        fields = ["q", "kind", "due_diligence_status", "external_id"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(contract_reference__icontains=value))
