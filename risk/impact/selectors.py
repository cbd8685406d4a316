"""Reads of AI system impact assessments: the list, one assessment with its items, and the
systems that still lack an approved assessment."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from aims.models import Organization
from registry.models import AISystem, SystemStatus
from risk.impact.models import ImpactAssessment, ImpactItem


def _of(organization: Organization) -> QuerySet[ImpactAssessment]:
    assessments: QuerySet[ImpactAssessment] = ImpactAssessment.objects.for_org(organization)
    return assessments


def impact_assessment_list(organization: Organization) -> QuerySet[ImpactAssessment]:
    """Assessments with their ``item_count``: a correlated subquery, which PostgreSQL runs for the
    rows of a page only, and which leaves the count of the list a plain count (no GROUP BY)."""
    per_assessment = (
        ImpactItem.objects.filter(assessment=OuterRef("pk")).order_by().values("assessment").annotate(n=Count("pk"))
    )
    return (
        _of(organization)
        .select_related("system", "author", "approved_by")
        .annotate(item_count=Coalesce(Subquery(per_assessment.values("n")), 0))
        .order_by("system__ref_code", "-version")
    )


# The free-text sections of an assessment: the list page shows none of them.
_SECTIONS = (
    "scope", "system_information", "data_information", "model_information", "deployment_environment",
    "interested_parties", "conclusion", "review_comment",
)  # fmt: skip


def impact_assessment_rows(organization: Organization) -> QuerySet[ImpactAssessment]:
    """The list page's rows: :func:`impact_assessment_list` without the sections it does not show."""
    return impact_assessment_list(organization).defer(*_SECTIONS)


def impact_assessment_detail(organization: Organization, pk: int) -> ImpactAssessment:
    return (
        _of(organization)
        .select_related("system__owner", "author", "approved_by", "assessed_model")
        .prefetch_related(Prefetch("items", queryset=ImpactItem.objects.select_related("risk")))
        .get(pk=pk)
    )


def system_assessments(organization: Organization, system: AISystem) -> QuerySet[ImpactAssessment]:
    """Every version of one system's assessment, the latest first."""
    return impact_assessment_rows(organization).filter(system=system).order_by("-version")


def system_assessment_records(organization: Organization, system: AISystem) -> list[QuerySet[ImpactAssessment]]:
    """What the Impact assessments tab of a system counts: every version."""
    return [_of(organization).filter(system=system)]


def systems_to_assess(organization: Organization) -> QuerySet[AISystem]:
    """:func:`systems_without_approved_assessment` with what the list page shows of each system
    (and its owner, who may start one)."""
    return systems_without_approved_assessment(organization).only("organization", "ref_code", "name", "status", "owner")


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
