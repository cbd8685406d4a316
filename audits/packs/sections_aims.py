"""Pack sections for leadership, planning, support and improvement (clauses 4, 5, 6.2, 7, 9, 10).

Kept apart from the inventory, risk and control sections in :mod:`audits.packs.sections`; each
collector reads with a fixed number of queries and returns the records it shows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.safestring import mark_safe

from aims.governance.models import (
    AIMSScope,
    CompetenceRecord,
    ConcernChannel,
    ContextIssue,
    InterestedParty,
    Objective,
    ObjectiveProgress,
    OrgRole,
    Policy,
    PolicyVersion,
)
from aims.governance.services import markdown_render
from audits.models import (
    Audit,
    AuditCriterion,
    AuditMember,
    ChecklistItem,
    CorrectiveAction,
    EvidencePack,
    Finding,
    Incident,
    ManagementReview,
    ReviewAction,
)
from audits.packs.records import RecordEntry, record_entry


def _bounds(pack: EvidencePack) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime.combine(pack.period_start, time.min, tzinfo=tz), datetime.combine(
        pack.period_end, time.max, tzinfo=tz
    )


def context_data(pack: EvidencePack) -> tuple[dict, list[RecordEntry]]:
    """Clause 4: the scope statement, internal and external issues, interested parties."""
    organization = pack.organization
    scope = AIMSScope.objects.for_org(organization).first()
    issues = list(ContextIssue.objects.for_org(organization).order_by("kind", "pk"))
    parties = list(InterestedParty.objects.for_org(organization).order_by("name"))
    records = ([record_entry(scope, "AIMS scope")] if scope else []) + [record_entry(i) for i in issues]
    records += [record_entry(p) for p in parties]
    return {"aims_scope": scope, "issues": issues, "parties": parties}, records


def leadership_data(pack: EvidencePack) -> tuple[dict, list[RecordEntry]]:
    """Clause 5 and A.2-A.3: approved policies with their text, roles, channels for concerns."""
    organization = pack.organization
    approved = PolicyVersion.objects.filter(status=PolicyVersion.Status.APPROVED).select_related(
        "approved_by", "author"
    )
    policies = list(
        Policy.objects.for_org(organization)
        .select_related("owner")
        .prefetch_related(Prefetch("versions", queryset=approved, to_attr="approved_versions"))
        .order_by("-kind", "title")
    )
    records: list[RecordEntry] = []
    for policy in policies:
        records.append(record_entry(policy))
        for version in policy.approved_versions:
            # Sanitised when rendered (nh3): safe to place in the pack's HTML.
            version.body_html = mark_safe(markdown_render(version.body_markdown))  # noqa: S308
            records.append(record_entry(version, f"{policy.title} v{version.number}"))
    roles = list(OrgRole.objects.for_org(organization).select_related("holder", "reports_to").order_by("name"))
    channels = list(ConcernChannel.objects.for_org(organization).order_by("name"))
    records += [record_entry(r) for r in roles] + [record_entry(c) for c in channels]
    return {"policies": policies, "roles": roles, "channels": channels}, records


def objectives_data(pack: EvidencePack) -> tuple[dict, list[RecordEntry]]:
    """Clause 6.2: objectives with their latest measurement."""
    progress = ObjectiveProgress.objects.order_by("-date", "-pk")
    objectives = list(
        Objective.objects.for_org(pack.organization)
        .select_related("owner")
        .prefetch_related(Prefetch("progress", queryset=progress, to_attr="progress_rows"))
        .order_by("due_date", "title")
    )
    for objective in objectives:
        objective.latest = objective.progress_rows[0] if objective.progress_rows else None
    return {"objectives": objectives}, [record_entry(o) for o in objectives]


def competence_data(pack: EvidencePack) -> tuple[dict, list[RecordEntry]]:
    """Clauses 7.2-7.3: training and competence records by member."""
    records = list(
        CompetenceRecord.objects.for_org(pack.organization)
        .select_related("member")
        .order_by("member__email", "-date_completed")
    )
    by_member = defaultdict(list)
    for record in records:
        by_member[record.member].append(record)
    return {"members": sorted(by_member.items(), key=lambda kv: kv[0].email)}, [record_entry(r) for r in records]


def _audits(organization):
    findings = Finding.objects.select_related("requirement").prefetch_related(
        Prefetch("corrective_actions", queryset=CorrectiveAction.objects.select_related("owner", "verified_by"))
    )
    return (
        Audit.objects.for_org(organization)
        .select_related("programme", "lead_auditor")
        .prefetch_related(
            Prefetch("criteria_links", queryset=AuditCriterion.objects.select_related("requirement")),
            Prefetch("member_links", queryset=AuditMember.objects.select_related("user")),
            Prefetch("checklist", queryset=ChecklistItem.objects.select_related("checked_by").order_by("order")),
            Prefetch("findings", queryset=findings),
        )
        .order_by("planned_start", "pk")
    )


def _audit_records(audit) -> list[RecordEntry]:
    records = [record_entry(audit)]
    records += [record_entry(f, f"{audit.ref_code} finding {f.ref_code}") for f in audit.findings.all()]
    for finding in audit.findings.all():
        records += [record_entry(ca) for ca in finding.corrective_actions.all()]
    return records


def audits_data(pack: EvidencePack) -> tuple[dict, list[RecordEntry]]:
    """Clause 9.2: the audits planned or held in the period, with checklist results and findings."""
    audits = list(
        _audits(pack.organization).filter(
            Q(planned_start__lte=pack.period_end, planned_end__gte=pack.period_start)
            | Q(actual_start__lte=pack.period_end, actual_end__gte=pack.period_start)
        )
    )
    records = [entry for audit in audits for entry in _audit_records(audit)]
    return {"audits": audits}, records


def audit_data(pack: EvidencePack) -> tuple[dict, list[RecordEntry]]:
    """An audit-scoped pack: that audit's scope, criteria, checklist, findings and actions."""
    audits = list(_audits(pack.organization).filter(pk=pack.audit_id))
    return {"audits": audits, "single": True}, [entry for audit in audits for entry in _audit_records(audit)]


def reviews_data(pack: EvidencePack) -> tuple[dict, list[RecordEntry]]:
    """Clause 9.3: management reviews held in the period, their inputs, decisions and actions."""
    reviews = list(
        ManagementReview.objects.for_org(pack.organization)
        .filter(held_on__range=(pack.period_start, pack.period_end))
        .prefetch_related(
            "attendee_links__user", Prefetch("actions", queryset=ReviewAction.objects.select_related("owner"))
        )
        .order_by("held_on")
    )
    for review in reviews:
        review.input_lines = review_input_lines(review.inputs)
    records = [record_entry(r) for r in reviews] + [record_entry(a) for r in reviews for a in r.actions.all()]
    return {"reviews": reviews}, records


def _summary(value) -> str:
    """One readable line for a gathered input: lists by label, counts as "name: n"."""
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            if key in ("available", "changed_only"):
                continue
            if isinstance(item, list):
                labels = [str(i.get("label", i)) if isinstance(i, dict) else str(i) for i in item]
                parts.append("; ".join(labels) if labels else "none")
            elif isinstance(item, dict):
                parts.append(", ".join(f"{k}: {v}" for k, v in item.items()))
            else:
                parts.append(f"{key.replace('_', ' ')}: {item}")
        return " · ".join(p for p in parts if p)
    if isinstance(value, list):
        return "; ".join(str(i.get("label", i)) if isinstance(i, dict) else str(i) for i in value) or "none"
    return str(value)


def review_input_lines(inputs: dict) -> list[tuple[str, str]]:
    skip = {"period", "gathered_at"}
    return [(key.replace("_", " ").capitalize(), _summary(value)) for key, value in inputs.items() if key not in skip]


def improvement_data(pack: EvidencePack) -> tuple[dict, list[RecordEntry]]:
    """Clause 10 and A.8.4: corrective actions and AI incidents."""
    organization = pack.organization
    start, end = _bounds(pack)
    actions = list(
        CorrectiveAction.objects.for_org(organization)
        .select_related("finding__audit", "incident", "owner", "verified_by")
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=start))
        .order_by("ref_code")
    )
    incidents = list(
        Incident.objects.for_org(organization)
        .select_related("system", "reported_by")
        .filter(Q(detected_at__range=(start, end)) | Q(status__in=Incident.OPEN_STATUSES))
        .order_by("detected_at")
    )
    if pack.scope == EvidencePack.Scope.SYSTEM:
        incidents = [i for i in incidents if i.system_id == pack.system_id]
        actions = [a for a in actions if a.incident is not None and a.incident.system_id == pack.system_id]
    records = [record_entry(a) for a in actions] + [record_entry(i) for i in incidents]
    return {"actions": actions, "incidents": incidents}, records
