"""Impact assessment list filters, shared by the page and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aims.autocomplete import AutocompleteSelect
from aims.filters import OneOrMany
from registry.models import AISystem
from risk.filters import organization_systems
from risk.impact.models import ImpactAssessment


class ImpactAssessmentFilter(django_filters.FilterSet):
    system = django_filters.ModelChoiceFilter(
        queryset=organization_systems, empty_label=_("Any"), label=_("AI system"), widget=AutocompleteSelect("systems")
    )
    status = django_filters.MultipleChoiceFilter(
        choices=ImpactAssessment.Status.choices,
        widget=OneOrMany(choices=ImpactAssessment.Status.choices),
        label=_("Status"),
    )
    due = django_filters.ChoiceFilter(
        choices=[("true", _("Review due"))], method="filter_due", label=_("Review"), empty_label=_("Any")
    )

    class Meta:
        model = ImpactAssessment
        fields = ["system", "status", "due"]

    def filter_due(self, queryset: QuerySet[ImpactAssessment], name: str, value: str) -> QuerySet[ImpactAssessment]:
        if value != "true":
            return queryset
        return queryset.filter(status=ImpactAssessment.Status.APPROVED, next_review_date__lte=timezone.localdate())


class SystemsToAssessFilter(django_filters.FilterSet):
    """The active AI systems without an approved impact assessment, searched by reference or name."""

    q = django_filters.CharFilter(method="search", label=_("Search"))

    class Meta:
        model = AISystem
        fields = ["q"]

    def search(self, queryset: QuerySet[AISystem], name: str, value: str) -> QuerySet[AISystem]:
        value = value.strip()
        return queryset.filter(Q(ref_code__icontains=value) | Q(name__icontains=value)) if value else queryset
