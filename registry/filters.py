"""Inventory filters, shared by the inventory page, its exports and the API."""

from __future__ import annotations

from typing import Any, ClassVar, cast

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.functional import Promise as StrPromise
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

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
    "ref_code": _("Reference"),
    "name": _("Name"),
    "eu_ai_act_tier": _("EU AI Act tier"),
    "lifecycle_stage": _("Life-cycle stage"),
    "status": _("Status"),
    "next_review_date": _("Next review"),
    "updated_at": _("Last changed"),
}


def _descending(label: StrPromise) -> StrPromise:
    """``label (descending)`` in the reader's language: django-filter formats it once, at import."""
    return cast(StrPromise, lazy(lambda: str(django_filters.OrderingFilter.descending_fmt) % label, str)())


_suppliers = organization_records(Supplier)
SYSTEM_SEARCH_FIELDS = ("name", "ref_code", "description", "purpose", "business_unit")


class InventoryFilter(django_filters.FilterSet):
    """Base of the inventory filters: ``external_id`` serves integrators and never shows as a field.

    A hidden input keeps it in the query string when it is set, so paging keeps the filter.
    """

    external_id = django_filters.CharFilter(widget=forms.HiddenInput)
    # Labels of the filters built from ``Meta.fields``: django-filter would derive them from the
    # model's field names, untranslated.
    labels: ClassVar[dict[str, Any]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in self.labels.items():
            self.filters[name].label = label


class AISystemFilter(InventoryFilter):
    q = django_filters.CharFilter(method="search", label=_("Search"), widget=forms.TextInput(attrs={"type": "search"}))
    tier = django_filters.MultipleChoiceFilter(
        field_name="eu_ai_act_tier",
        choices=EUAIActTier.choices,
        label=_("EU AI Act tier"),
        widget=one_or_many(EUAIActTier.choices),
    )
    stage = django_filters.MultipleChoiceFilter(
        field_name="lifecycle_stage", choices=LifecycleStage.choices, label=_("Life-cycle stage"),
        widget=one_or_many(LifecycleStage.choices),
    )  # fmt: skip
    role = django_filters.ChoiceFilter(
        choices=OrganisationRole.choices, method="filter_role", label=_("Our role"), empty_label=_("Any")
    )
    owner = django_filters.ModelChoiceFilter(
        queryset=organization_members, label=_("Owner"), empty_label=_("Anyone"), widget=AutocompleteSelect("members")
    )
    status = django_filters.MultipleChoiceFilter(
        choices=SystemStatus.choices, label=_("Status"), widget=one_or_many(SystemStatus.choices)
    )
    review_overdue = django_filters.ChoiceFilter(
        choices=[("true", _("Overdue")), ("false", _("Not overdue"))],
        method="filter_overdue",
        label=_("Review"),
        empty_label=_("Any"),
    )
    accountable = django_filters.ChoiceFilter(
        choices=[("missing", _("Missing (active systems)")), ("assigned", _("Assigned"))],
        method="filter_accountable",
        label=_("Accountable person"),
        empty_label=_("Any"),
    )
    ordering = django_filters.OrderingFilter(
        fields=[(name, name) for name in SYSTEM_ORDERING],
        field_labels={**SYSTEM_ORDERING, **{f"-{name}": _descending(label) for name, label in SYSTEM_ORDERING.items()}},
        label=_("Sort by"),
        empty_label=_("Reference"),
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
    q = django_filters.CharFilter(method="search", label=_("Search"))
    # Narrowed to the organisation, so another tenant's supplier id is as unknown as a made-up one.
    supplier = django_filters.ModelChoiceFilter(queryset=_suppliers, label=_("Supplier"), empty_label=_("Any"))
    labels = {"kind": _("Type"), "source": _("Source")}

    class Meta:
        model = AIModel
        fields = ["q", "kind", "source", "supplier", "external_id"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(framework__icontains=value) | Q(external_id__iexact=value))


class DatasetFilter(InventoryFilter):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    supplier = django_filters.ModelChoiceFilter(queryset=_suppliers, label=_("Supplier"), empty_label=_("Any"))
    labels = {"purpose": _("Purpose"), "contains_personal_data": _("Contains personal data")}

    class Meta:
        model = Dataset
        fields = ["q", "purpose", "contains_personal_data", "supplier", "external_id"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(source__icontains=value) | Q(external_id__iexact=value))


class SupplierFilter(InventoryFilter):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    labels = {"kind": _("Type"), "due_diligence_status": _("Due diligence status")}

    class Meta:
        model = Supplier
        fields = ["q", "kind", "due_diligence_status", "external_id"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(contract_reference__icontains=value))
