"""Reads of internal audits, findings, corrective actions, reviews and incidents, and dashboard tiles."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from aims.models import Organization, User
from audits.models import (
    Audit,
    AuditCriterion,
    AuditMember,
    AuditProgramme,
    ChecklistItem,
    CorrectiveAction,
    Finding,
    FindingEvidence,
    Incident,
    ManagementReview,
    ReviewAction,
    ReviewAttendee,
)

# --- Reads -------------------------------------------------------------------------------------


def _member_prefetch() -> Prefetch[str, QuerySet[AuditMember]]:
    return Prefetch("member_links", queryset=AuditMember.objects.select_related("user").order_by("role", "user__email"))


def programme_list(organization: Organization) -> QuerySet[AuditProgramme]:
    result: QuerySet[AuditProgramme] = (
        AuditProgramme.objects.for_org(organization).annotate(audit_count=Count("audits")).order_by("-year")
    )
    return result


def audit_list(organization: Organization) -> QuerySet[Audit]:
    nc = Q(findings__kind__in=Finding.NONCONFORMITIES)
    result: QuerySet[Audit] = (
        Audit.objects.for_org(organization)
        .select_related("programme", "lead_auditor")
        .annotate(
            finding_count=Count("findings", distinct=True),
            nc_count=Count("findings", filter=nc, distinct=True),
            criteria_count=Count("criteria_links", distinct=True),
        )
        .order_by("planned_start", "ref_code")
    )
    return result


def audit_detail(organization: Organization, pk: Any) -> Audit:
    criteria = AuditCriterion.objects.select_related("requirement").order_by("requirement__order")
    result: Audit = (
        Audit.objects.for_org(organization)
        .select_related("programme", "lead_auditor")
        .prefetch_related(Prefetch("criteria_links", queryset=criteria), _member_prefetch())
        .get(pk=pk)
    )
    return result


def audit_api_rows(organization: Organization) -> QuerySet[Audit]:
    # The criteria are answered as ids and as references: their requirements come in one query.
    return audit_list(organization).prefetch_related(
        Prefetch("criteria_links", queryset=AuditCriterion.objects.select_related("requirement")), "member_links"
    )


def assigned_audit_ids(organization: Organization, user: User | None) -> set[int]:
    """Audits where ``user`` is lead auditor or auditor (one query)."""
    if user is None:
        return set()
    audits = Audit.objects.for_org(organization)
    lead = set(audits.filter(lead_auditor=user).values_list("pk", flat=True))
    members = AuditMember.objects.for_org(organization).filter(user=user, role=AuditMember.Role.AUDITOR)
    return lead | set(members.values_list("audit_id", flat=True))


def checklist_rows(organization: Organization) -> QuerySet[ChecklistItem]:
    result: QuerySet[ChecklistItem] = (
        ChecklistItem.objects.for_org(organization)
        .select_related("audit", "requirement", "checked_by")
        .annotate(finding_count=Count("findings"))
        .order_by("audit_id", "order", "id")
    )
    return result


def finding_list(organization: Organization) -> QuerySet[Finding]:
    evidence = FindingEvidence.objects.select_related("evidence").order_by("evidence__title")
    result: QuerySet[Finding] = (
        Finding.objects.for_org(organization)
        .select_related("audit", "requirement", "raised_by", "checklist_item")
        .prefetch_related(Prefetch("evidence_links", queryset=evidence))
        .annotate(action_count=Count("corrective_actions", distinct=True))
        .order_by("audit_id", "id")
    )
    return result


def corrective_action_list(organization: Organization) -> QuerySet[CorrectiveAction]:
    return (
        CorrectiveAction.objects.for_org(organization)
        .select_related("finding__audit", "incident", "owner", "implemented_by", "verified_by")
        .order_by("-created_at", "-id")
    )


def incident_list(organization: Organization) -> QuerySet[Incident]:
    result: QuerySet[Incident] = (
        Incident.objects.for_org(organization)
        .select_related("system__owner", "reported_by")
        .annotate(action_count=Count("corrective_actions"))
        .order_by("-detected_at", "-id")
    )
    return result


def management_review_list(organization: Organization) -> QuerySet[ManagementReview]:
    result: QuerySet[ManagementReview] = (
        ManagementReview.objects.for_org(organization)
        .select_related("created_by")
        .prefetch_related(Prefetch("attendee_links", queryset=ReviewAttendee.objects.select_related("user")))
        .annotate(
            action_count=Count("actions", distinct=True),
            open_action_count=Count("actions", filter=Q(actions__status__in=ReviewAction.UNFINISHED), distinct=True),
        )
        .order_by("-held_on", "-id")
    )
    return result


def review_action_list(organization: Organization) -> QuerySet[ReviewAction]:
    return ReviewAction.objects.for_org(organization).select_related("review", "owner").order_by("due_date", "id")


def open_nonconformities(organization: Organization) -> QuerySet[Finding]:
    """Nonconformities no closed (verified effective) corrective action has dealt with yet."""
    closed = CorrectiveAction.objects.filter(finding=OuterRef("pk"), closed_at__isnull=False)
    return Finding.objects.for_org(organization).filter(kind__in=Finding.NONCONFORMITIES).exclude(Exists(closed))


def next_audit(organization: Organization) -> Audit | None:
    return (
        Audit.objects.for_org(organization)
        .filter(status=Audit.Status.PLANNED, planned_start__gte=timezone.localdate())
        .order_by("planned_start", "ref_code")
        .first()
    )


def programme_years(organization: Organization) -> list[int]:
    return list(AuditProgramme.objects.for_org(organization).order_by("-year").values_list("year", flat=True))


def latest_review_date(organization: Organization) -> date | None:
    result: date | None = ManagementReview.objects.for_org(organization).aggregate(d=Max("held_on"))["d"]
    return result


def improvement_tiles(organization: Organization) -> list[Any]:
    """Dashboard tiles: open nonconformities, overdue corrective actions, open incidents, next audit (4 queries)."""
    from django.urls import reverse
    from django.utils.formats import date_format

    from aims.dashboard import Tile

    open_ncs = open_nonconformities(organization).aggregate(
        total=Count("id"), major=Count("id", filter=Q(kind=Finding.Kind.MAJOR_NC))
    )
    overdue = CorrectiveAction.objects.for_org(organization).overdue().count()
    incidents = (
        Incident.objects.for_org(organization)
        .filter(status__in=Incident.OPEN_STATUSES)
        .aggregate(total=Count("id"), serious=Count("id", filter=Q(severity__in=["high", "critical"])))
    )
    upcoming = next_audit(organization)
    ca_url, incident_url = reverse("audits:ca_list"), reverse("audits:incident_list")
    return [
        Tile("Open nonconformities", open_ncs["total"], f"{open_ncs['major']} major", reverse("audits:home"), 20),
        Tile("Overdue corrective actions", overdue, "past their due date", f"{ca_url}?overdue=true", 21),
        Tile("Open incidents", incidents["total"], f"{incidents['serious']} high or critical", incident_url, 22),
        Tile(
            "Next audit",
            date_format(upcoming.planned_start, "j M Y") if upcoming else "—",
            upcoming.title if upcoming else "none planned",
            reverse("audits:audit_detail", args=[upcoming.pk]) if upcoming else reverse("audits:home"),
            23,
        ),
    ]
