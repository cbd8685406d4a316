"""Reads of AI system impact assessments: the list, one assessment with its items, and the
systems that still lack an approved assessment."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from aims.models import Organization
from registry.models import AISystem, SystemStatus
from risk.impact.models import ImpactAssessment, ImpactItem


def _of(organization: Organization) -> QuerySet[ImpactAssessment]:
    assessments: QuerySet[ImpactAssessment] = ImpactAssessment.objects.for_org(organization)
    return assessments


def impact_assessment_list(organization: Organization) -> QuerySet[ImpactAssessment]:
    return (
        _of(organization)
        .select_related("system", "author", "approved_by")
        .annotate(item_count=Count("items"))
        .order_by("system__ref_code", "-version")
    )


def impact_assessment_detail(organization: Organization, pk: int) -> ImpactAssessment:
    return (
        _of(organization)
        .select_related("system__owner", "author", "approved_by")
        .prefetch_related(Prefetch("items", queryset=ImpactItem.objects.select_related("risk")))
        .get(pk=pk)
    )


def systems_without_approved_assessment(organization: Organization) -> QuerySet[AISystem]:
    approved = ImpactAssessment.objects.filter(system=OuterRef("pk"), status=ImpactAssessment.Status.APPROVED)
    return (
        AISystem.objects.for_org(organization)
        .exclude(status=SystemStatus.RETIRED)
        .exclude(Exists(approved))
        .order_by("ref_code")
    )


def impact_assessments_due(organization: Organization) -> QuerySet[ImpactAssessment]:
    """Approved assessments whose review date has come."""
    return _of(organization).filter(status=ImpactAssessment.Status.APPROVED, next_review_date__lte=timezone.localdate())
