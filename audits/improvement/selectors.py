"""Reads of internal audits, findings, corrective actions, reviews and incidents, and dashboard tiles."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

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
from registry.models import AISystem

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


def _findings(organization: Organization) -> QuerySet[Finding]:
    """The organisation's findings with their audit, requirement and number of corrective actions."""
    result: QuerySet[Finding] = (
        Finding.objects.for_org(organization)
        .select_related("audit", "requirement")
        .annotate(action_count=Count("corrective_actions"))
    )
    return result


def finding_list(organization: Organization) -> QuerySet[Finding]:
    """Findings as an audit's page and a finding's page show them: who raised them, the checklist
    item, the system and the evidence they rest on."""
    evidence = FindingEvidence.objects.select_related("evidence").order_by("evidence__title")
    return (
        _findings(organization)
        .select_related("raised_by", "checklist_item", "system")
        .prefetch_related(Prefetch("evidence_links", queryset=evidence))
        .order_by("audit_id", "id")
    )


def finding_index(organization: Organization) -> QuerySet[Finding]:
    """Every audit's findings for the findings page, newest first (along the (organisation, kind,
    raised_at) index when filtered by kind)."""
    return _findings(organization).order_by("-raised_at", "-id")


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


def system_incidents(organization: Organization, system: AISystem) -> QuerySet[Incident]:
    return incident_list(organization).filter(system=system)


def system_findings(organization: Organization, system: AISystem) -> QuerySet[Finding]:
    """The findings raised about one AI system, newest first."""
    return finding_index(organization).filter(system=system)


def system_corrective_actions(organization: Organization, system: AISystem) -> QuerySet[CorrectiveAction]:
    """Corrective actions about one AI system: from its findings, its incidents or its alerts."""
    about = Q(finding__system=system) | Q(incident__system=system) | Q(monitoring_alert__system=system)
    return corrective_action_list(organization).filter(about)


def system_incident_records(organization: Organization, system: AISystem) -> list[QuerySet[Incident]]:
    return [Incident.objects.for_org(organization).filter(system=system)]


def system_finding_records(organization: Organization, system: AISystem) -> list[QuerySet[Any]]:
    """What the Findings and actions tab of a system counts: its findings and its corrective actions."""
    about = Q(finding__system=system) | Q(incident__system=system) | Q(monitoring_alert__system=system)
    return [
        Finding.objects.for_org(organization).filter(system=system),
        CorrectiveAction.objects.for_org(organization).filter(about),
    ]


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
    return only_open_nonconformities(Finding.objects.for_org(organization))


def only_open_nonconformities(findings: QuerySet[Finding]) -> QuerySet[Finding]:
    closed = CorrectiveAction.objects.filter(finding=OuterRef("pk"), closed_at__isnull=False)
    return findings.filter(kind__in=Finding.NONCONFORMITIES).exclude(Exists(closed))


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
    from urllib.parse import urlencode

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
        Tile(
            gettext("Open nonconformities"),
            open_ncs["total"],
            gettext("%(count)s major") % {"count": open_ncs["major"]},
            f"{reverse('audits:finding_list')}?open_nc=true",
            20,
            attention=open_ncs["total"] > 0,
        ),
        Tile(
            gettext("Overdue corrective actions"),
            overdue,
            gettext("past their due date"),
            f"{ca_url}?overdue=true",
            21,
            overdue > 0,
        ),
        Tile(
            gettext("Open incidents"),
            incidents["total"],
            gettext("%(count)s high or critical") % {"count": incidents["serious"]},
            f"{incident_url}?{urlencode([('status', status) for status in Incident.OPEN_STATUSES])}",
            22,
            attention=incidents["serious"] > 0,
        ),
        Tile(
            gettext("Next audit"),
            date_format(upcoming.planned_start, "j M Y") if upcoming else "—",
            upcoming.title if upcoming else gettext("none planned"),
            reverse("audits:audit_detail", args=[upcoming.pk]) if upcoming else reverse("audits:home"),
            23,
        ),
    ]


def audit_setup_steps(organization: Organization) -> list[Any]:
    """First-run step: this year's internal audit programme (clause 9.2)."""
    from django.urls import reverse

    from aims.setup import SetupStep

    year = timezone.localdate().year
    planned = AuditProgramme.objects.for_org(organization).filter(year=year).exists()
    return [
        SetupStep(80, gettext("Plan the internal audit programme"),
                  gettext("Which parts of the AIMS are audited in %(year)s, when and by whom (clause 9.2).")
                  % {"year": year},
                  planned, reverse("audits:home"), gettext("Plan the programme"),
                  (gettext("%(year)s programme planned") if planned else gettext("no programme for %(year)s yet"))
                  % {"year": year}),
    ]  # fmt: skip


def improvement_work(tenant: Any, today: Any) -> list[Any]:
    """My work in audits and improvement: my unfinished corrective actions and management review
    actions, and done actions whose effectiveness an approver other than the implementer checks."""
    from django.urls import reverse

    from aims.roles import Capability
    from aims.work import WORK_LIMIT, WorkItem, horizon

    user, organization, until = tenant.user, tenant.organization, horizon(today)
    actions = CorrectiveAction.objects.for_org(organization)
    items = [
        WorkItem(
            gettext("Audits"),
            gettext("Corrective action"),
            a.title,
            reverse("audits:ca_detail", args=[a.pk]),
            a.ref_code,
            a.due_date,
        )
        for a in actions.filter(owner=user, status__in=CorrectiveAction.UNFINISHED)
        .filter(Q(due_date__lte=until) | Q(due_date__isnull=True))
        .order_by("due_date", "pk")[:WORK_LIMIT]
    ]
    if tenant.can(Capability.APPROVE):
        done = actions.filter(status=CorrectiveAction.Status.DONE).exclude(implemented_by=user)
        items += [
            WorkItem(gettext("Audits"), gettext("Check a corrective action's effectiveness"), a.title,
                     reverse("audits:ca_detail", args=[a.pk]), a.ref_code)
            for a in done.order_by("implemented_at", "pk")[:WORK_LIMIT]
        ]  # fmt: skip
    review_actions = ReviewAction.objects.for_org(organization).filter(
        owner=user, status__in=ReviewAction.UNFINISHED, due_date__lte=until
    )
    items += [
        WorkItem(gettext("Audits"), gettext("Management review action"), a.title,
                 reverse("audits:review_detail", args=[a.review_id]), "", a.due_date)
        for a in review_actions.order_by("due_date", "pk")[:WORK_LIMIT]
    ]  # fmt: skip
    return items
