"""Internal audits (9.2), corrective actions (10.2), management reviews (9.3) and AI incidents (A.8.4).

Writes first (every one validates, records who acted and runs in one transaction), then the
reads the pages and the API share (a list costs a fixed number of queries), then the
dashboard tiles.

Who may act is decided in one place, here, for pages and API alike:

- planning the audit programme, audits and management reviews, and checking the
  effectiveness of a corrective action, is the compliance function's job: ``MANAGE``
  (officers and administrators);
- findings and checklist results are recorded by officers and administrators, and by the
  auditors *assigned* to the audit (:func:`may_record_findings`); an auditor may do
  nothing else;
- corrective actions and incidents are changed by the roles that edit AIMS records; an AI
  system owner changes those they own (``Tenant.can_change``).

The rules that hold whoever acts also live here: an auditor may not audit their own area,
findings are recorded while the audit is under way, a corrective action closes only after
someone other than its owner and its implementer found it effective.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Count, Exists, Model, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aims.models import ContextIssue, InterestedParty, Membership, Objective, Organization, User
from aims.records import record_delete, record_save
from aims.roles import Capability, role_can
from aims.tenancy import Tenant

# Reads live in the selectors; re-exported for the callers of this module.
from audits.improvement.selectors import (  # noqa: F401
    assigned_audit_ids,
    audit_api_rows,
    audit_detail,
    audit_list,
    checklist_rows,
    corrective_action_list,
    finding_index,
    finding_list,
    improvement_tiles,
    incident_list,
    latest_review_date,
    management_review_list,
    next_audit,
    open_nonconformities,
    programme_list,
    programme_years,
    review_action_list,
)
from audits.models import (
    Audit,
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
from controls.catalogue.models import Requirement
from controls.evidence.models import Evidence
from registry.monitoring.models import MonitoringAlert
from risk.models import ImpactAssessment, Level, Risk

CATALOGUE = "ISO42001"
CRITERIA_KINDS = ("clause", "control")
# Planning audits and reviews and judging effectiveness are decisions of the compliance function.
MANAGE = Capability.APPROVE
CLOSED_RECORD = _("This audit is closed: its plan, checklist and findings are a record and no longer change.")

Status = Audit.Status
CAStatus = CorrectiveAction.Status


def _next_number(organization_id: int, queryset: QuerySet[Any], pattern: re.Pattern[str]) -> int:
    # Lock the organisation row so two records created at once cannot take the same number.
    Organization.objects.select_for_update().filter(pk=organization_id).first()
    numbers = [int(m.group(1)) for ref in queryset.values_list("ref_code", flat=True) if (m := pattern.match(ref))]
    return max(numbers, default=0) + 1


def _member_roles(organization_id: int, users: Iterable[User]) -> dict[int, str]:
    ids = {u.pk for u in users if u is not None}
    return dict(
        Membership.objects.filter(organization_id=organization_id, user_id__in=ids).values_list("user_id", "role")
    )


def _ensure_members(organization_id: int, field: str, users: Iterable[User | None]) -> None:
    present = [u for u in users if u is not None]
    roles = _member_roles(organization_id, present)
    strangers = [u for u in present if u.pk not in roles]
    if strangers:
        raise ValidationError(
            {
                field: gettext("%(names)s is not a member of the organisation.")
                % {"names": ", ".join(map(str, strangers))}
            }
        )


def _ensure_editor(organization_id: int, field: str, user: User | None) -> None:
    """An owner of an action must be able to update it: a member whose role edits AIMS records."""
    if user is None:
        return
    role = _member_roles(organization_id, [user]).get(user.pk)
    if role is None:
        raise ValidationError({field: gettext("%(user)s is not a member of the organisation.") % {"user": user}})
    if not role_can(role, Capability.EDIT):
        raise ValidationError(
            {field: gettext("%(user)s has a read-only role and could not update the action.") % {"user": user}}
        )


def criteria_choices() -> QuerySet[Requirement]:
    """The ISO/IEC 42001 clauses and Annex A controls an audit may check, in reading order."""
    return Requirement.objects.filter(framework__code=CATALOGUE, kind__in=CRITERIA_KINDS).order_by("order")


# --- Who may record findings -------------------------------------------------------------------


def is_assigned(audit: Audit, user: User | None) -> bool:
    """Is ``user`` the lead auditor or one of the auditors of ``audit``?"""
    if user is None:
        return False
    if audit.lead_auditor_id == user.pk:
        return True
    return audit.member_links.filter(user=user, role=AuditMember.Role.AUDITOR).exists()


def role_may_record(role: str | None, user: User | None, audit: Audit) -> bool:
    if role_can(role, MANAGE):
        return True
    # An assigned auditor records findings whatever their role, unless it is read-only.
    may_write = role_can(role, Capability.RECORD_FINDINGS) or role_can(role, Capability.EDIT)
    return may_write and is_assigned(audit, user)


def may_record_findings(tenant: Tenant, audit: Audit) -> bool:
    return role_may_record(tenant.role, tenant.user, audit)


def may_record_anywhere(tenant: Tenant) -> bool:
    """Could this role record findings in some audit? Others are refused before anything is read."""
    return tenant.can(MANAGE) or tenant.can(Capability.RECORD_FINDINGS) or tenant.can(Capability.EDIT)


def _ensure_may_record(audit: Audit, acting_user: User | None, acting_role: str | None) -> None:
    from django.core.exceptions import PermissionDenied

    if not role_may_record(acting_role, acting_user, audit):
        raise PermissionDenied(
            gettext("Only the audit's assigned auditors, officers and administrators record its findings.")
        )


def _ensure_under_way(audit: Audit) -> None:
    if audit.is_closed:
        raise ValidationError(CLOSED_RECORD)
    if not audit.records_findings:
        raise ValidationError(gettext("Start the audit before recording checklist results and findings."))


# --- Audit programme ---------------------------------------------------------------------------


@transaction.atomic
def programme_save(*, programme: AuditProgramme, acting_user: User | None) -> AuditProgramme:
    if programme.year is not None and not 2000 <= programme.year <= 2100:
        raise ValidationError({"year": gettext("Give a year between 2000 and 2100.")})
    others = AuditProgramme.objects.filter(organization_id=programme.organization_id, year=programme.year)
    if others.exclude(pk=programme.pk).exists():
        raise ValidationError(
            {"year": gettext("There is already an audit programme for %(year)s.") % {"year": programme.year}}
        )
    return record_save(programme, acting_user=acting_user)


@transaction.atomic
def programme_delete(*, programme: AuditProgramme, acting_user: User | None) -> None:
    if programme.audits.exists():
        raise ValidationError(gettext("The programme has audits: delete or move them first."))
    record_delete(programme, acting_user=acting_user)


# --- Audits ------------------------------------------------------------------------------------

AUDIT_REF = re.compile(r"^AUD-\d{4}-(\d+)$")


def _check_dates(errors: dict[str, str], start: date | None, end: date | None, end_field: str) -> None:
    if start and end and end < start:
        errors[end_field] = "The end cannot be before the start."


def _check_team(audit: Audit, auditors: list[User], area_owners: list[User]) -> None:
    """Independence (9.2.2): nobody audits an area they are responsible for."""
    team = {u.pk: u for u in auditors}
    if audit.lead_auditor is not None:
        team[audit.lead_auditor.pk] = audit.lead_auditor
    conflicted = [team[u.pk] for u in area_owners if u.pk in team]
    if conflicted:
        names = ", ".join(u.display_name for u in conflicted)
        field = "lead_auditor" if audit.lead_auditor in conflicted and len(conflicted) == 1 else "auditors"
        raise ValidationError(
            {
                field: gettext(
                    "%(names)s is responsible for the audited area and may not audit it: auditors must be "
                    "independent of the area they audit (ISO/IEC 42001 9.2.2)."
                )
                % {"names": names}
            }
        )


def _set_links(
    audit: Audit, related: str, key: str, wanted: dict[int, Model], extra: dict[str, Any], acting_user: User | None
) -> None:
    links = getattr(audit, related).filter(**extra)
    for link in links.exclude(**{f"{key}_id__in": wanted}):
        record_delete(link, acting_user=acting_user)
    existing = set(links.values_list(f"{key}_id", flat=True))
    model = getattr(audit, related).model
    for pk, obj in wanted.items():
        if pk not in existing:
            record_save(
                model(organization_id=audit.organization_id, audit=audit, **{key: obj}, **extra),
                acting_user=acting_user,
            )


@transaction.atomic
def audit_save(
    *,
    audit: Audit,
    acting_user: User | None,
    criteria: Iterable[Model] | None = None,
    auditors: Iterable[User] | None = None,
    area_owners: Iterable[User] | None = None,
) -> Audit:
    """Create or update an audit; ``criteria``, ``auditors`` and ``area_owners``, when given, replace the lists.

    The status moves only through :func:`audit_start`, :func:`audit_report` and :func:`audit_close`.
    Refused: a closed audit, dates that end before they start, people outside the organisation,
    criteria outside the ISO/IEC 42001 clauses and controls, and an auditor who is also
    responsible for the audited area.
    """
    previous = Audit.objects.select_for_update().filter(pk=audit.pk).first() if audit.pk else None
    if previous is not None and previous.is_closed:
        raise ValidationError(CLOSED_RECORD)
    if audit.status != (previous.status if previous else Status.PLANNED):
        raise ValidationError({"status": gettext("Start, report or close the audit with its own actions.")})
    if audit.programme_id is None or audit.programme.organization_id != audit.organization_id:
        raise ValidationError({"programme": gettext("Choose one of your organisation's audit programmes.")})
    errors: dict[str, str] = {}
    _check_dates(errors, audit.planned_start, audit.planned_end, "planned_end")
    _check_dates(errors, audit.actual_start, audit.actual_end, "actual_end")
    if errors:
        raise ValidationError(errors)
    auditors = list(auditors) if auditors is not None else None
    area_owners = list(area_owners) if area_owners is not None else None
    _ensure_members(audit.organization_id, "lead_auditor", [audit.lead_auditor])
    _ensure_members(audit.organization_id, "auditors", auditors or [])
    _ensure_members(audit.organization_id, "area_owners", area_owners or [])
    if audit.pk:
        current = {m.user_id: m.user for m in audit.member_links.select_related("user")}
        roles = {m.user_id: m.role for m in audit.member_links.all()}
        if auditors is None:
            auditors = [current[pk] for pk, r in roles.items() if r == AuditMember.Role.AUDITOR]
        if area_owners is None:
            area_owners = [current[pk] for pk, r in roles.items() if r == AuditMember.Role.AREA_OWNER]
    _check_team(audit, auditors or [], area_owners or [])
    criteria = list(criteria) if criteria is not None else None
    if criteria is not None:
        allowed = set(criteria_choices().filter(pk__in=[c.pk for c in criteria]).values_list("pk", flat=True))
        if any(c.pk not in allowed for c in criteria):
            raise ValidationError({"criteria": gettext("Choose ISO/IEC 42001 clauses and Annex A controls.")})
    if not audit.ref_code:
        year = audit.programme.year
        number = _next_number(
            audit.organization_id, Audit.objects.filter(organization_id=audit.organization_id), AUDIT_REF
        )
        audit.ref_code = f"AUD-{year}-{number:02d}"
    record_save(audit, acting_user=acting_user)
    if criteria is not None:
        _set_links(audit, "criteria_links", "requirement", {c.pk: c for c in criteria}, {}, acting_user)
    for role, users in ((AuditMember.Role.AUDITOR, auditors), (AuditMember.Role.AREA_OWNER, area_owners)):
        if users is not None:
            _set_links(audit, "member_links", "user", {u.pk: u for u in users}, {"role": role}, acting_user)
    return audit


def _question(requirement: Requirement) -> str:
    return f"{requirement.ref} {requirement.title}: is it met, and what shows it?"


@transaction.atomic
def audit_checklist_generate(*, audit: Audit, acting_user: User | None) -> int:
    """Make the checklist follow the criteria: one item per requirement; returns how many were added.

    Items already answered stay even if their requirement left the criteria (they are part of
    the record); unanswered ones of removed criteria go.
    """
    if audit.is_closed:
        raise ValidationError(CLOSED_RECORD)
    criteria = [link.requirement for link in audit.criteria_links.select_related("requirement")]
    if not criteria:
        raise ValidationError(gettext("Choose the audit criteria (clauses and controls) first."))
    wanted = {r.pk for r in criteria}
    stale = audit.checklist.exclude(requirement_id__in=wanted).filter(
        result=ChecklistItem.Result.NOT_CHECKED, findings__isnull=True
    )
    for item in stale:
        record_delete(item, acting_user=acting_user)
    existing = set(audit.checklist.values_list("requirement_id", flat=True))
    added = 0
    for requirement in sorted(criteria, key=lambda r: r.order):
        if requirement.pk in existing:
            continue
        item = ChecklistItem(
            organization_id=audit.organization_id,
            audit=audit,
            requirement=requirement,
            ref=requirement.ref,
            question=_question(requirement),
            order=requirement.order,
        )
        record_save(item, acting_user=acting_user)
        added += 1
    return added


@transaction.atomic
def audit_start(*, audit: Audit, acting_user: User | None) -> Audit:
    """Planned → in progress: the checklist is generated from the criteria."""
    audit = Audit.objects.select_for_update(of=("self",)).select_related("programme", "lead_auditor").get(pk=audit.pk)
    if audit.status != Status.PLANNED:
        raise ValidationError(gettext("Only a planned audit can start."))
    has_auditor = audit.lead_auditor_id or audit.member_links.filter(role=AuditMember.Role.AUDITOR).exists()
    if not has_auditor:
        raise ValidationError(gettext("Assign a lead auditor or an auditor before starting the audit."))
    audit.status = Status.IN_PROGRESS
    audit.actual_start = audit.actual_start or timezone.localdate()
    record_save(audit, acting_user=acting_user)
    audit_checklist_generate(audit=audit, acting_user=acting_user)
    return audit


@transaction.atomic
def audit_report(*, audit: Audit, acting_user: User | None) -> Audit:
    """In progress → reporting: the fieldwork is over, the report is being written."""
    audit = Audit.objects.select_for_update().get(pk=audit.pk)
    if audit.status != Status.IN_PROGRESS:
        raise ValidationError(gettext("Only an audit in progress moves to reporting."))
    audit.status = Status.REPORTING
    audit.actual_end = audit.actual_end or timezone.localdate()
    return record_save(audit, acting_user=acting_user)


@transaction.atomic
def audit_close(*, audit: Audit, acting_user: User | None) -> Audit:
    """In progress or reporting → closed, once every checklist item is answered and the conclusion written."""
    audit = Audit.objects.select_for_update().get(pk=audit.pk)
    if audit.status not in (Status.IN_PROGRESS, Status.REPORTING):
        raise ValidationError(gettext("Only an audit in progress or in reporting can be closed."))
    errors = {}
    if not audit.conclusion.strip():
        errors["conclusion"] = gettext("Write the audit's conclusion before closing it.")
    open_items = audit.checklist.filter(result=ChecklistItem.Result.NOT_CHECKED).count()
    if open_items:
        errors["__all__"] = gettext("%(count)s checklist item(s) are not checked yet.") % {"count": open_items}
    if errors:
        raise ValidationError(errors)
    audit.status = Status.CLOSED
    audit.actual_end = audit.actual_end or timezone.localdate()
    return record_save(audit, acting_user=acting_user)


@transaction.atomic
def audit_delete(*, audit: Audit, acting_user: User | None) -> None:
    if audit.status != Status.PLANNED:
        raise ValidationError(gettext("Only a planned audit can be deleted; once started it is a record."))
    record_delete(audit, acting_user=acting_user)


# --- Checklist and findings --------------------------------------------------------------------


@transaction.atomic
def checklist_item_record(*, item: ChecklistItem, acting_user: User, acting_role: str | None) -> ChecklistItem:
    """Record the result, notes and evidence checked of one checklist item."""
    # The stored audit decides, not a copy the caller may hold from before a transition.
    audit = Audit.objects.get(pk=item.audit_id)
    _ensure_may_record(audit, acting_user, acting_role)
    _ensure_under_way(audit)
    if item.result == ChecklistItem.Result.NOT_CHECKED:
        item.checked_by, item.checked_at = None, None
    else:
        item.checked_by, item.checked_at = acting_user, timezone.now()
    return record_save(item, acting_user=acting_user)


FINDING_REF = re.compile(r"^.*-F(\d+)$")


@transaction.atomic
def finding_save(
    *,
    finding: Finding,
    acting_user: User,
    acting_role: str | None,
    evidence: Iterable[Evidence] | None = None,
) -> Finding:
    """Record or change a finding; ``evidence``, when given, replaces the evidence it rests on.

    A nonconformity names the requirement it does not meet; the checklist item, when given,
    belongs to the same audit.
    """
    audit = Audit.objects.get(pk=finding.audit_id)
    _ensure_may_record(audit, acting_user, acting_role)
    _ensure_under_way(audit)
    if finding.pk:
        stored = Finding.objects.get(pk=finding.pk)
        if stored.audit_id != finding.audit_id:
            raise ValidationError({"audit": gettext("A finding stays with its audit.")})
    errors = {}
    if finding.kind in Finding.NONCONFORMITIES and finding.requirement_id is None:
        errors["requirement"] = gettext("A nonconformity names the requirement that is not met.")
    if finding.requirement_id and not criteria_choices().filter(pk=finding.requirement_id).exists():
        errors["requirement"] = gettext("Choose an ISO/IEC 42001 clause or Annex A control.")
    if (system := finding.system) is not None and system.organization_id != audit.organization_id:
        errors["system"] = gettext("Choose one of your organisation's AI systems.")
    if (item := finding.checklist_item) is not None and item.audit_id != audit.pk:
        errors["checklist_item"] = gettext("Choose an item of this audit's checklist.")
    if errors:
        raise ValidationError(errors)
    if item is not None and finding.requirement_id is None:
        finding.requirement_id = item.requirement_id
    if not finding.pk:
        finding.raised_by = finding.raised_by or acting_user
        # Numbered within the audit; the audit row is locked so two auditors cannot take one number.
        Audit.objects.select_for_update().filter(pk=audit.pk).first()
        number = max(
            (
                int(m.group(1))
                for ref in audit.findings.values_list("ref_code", flat=True)
                if (m := FINDING_REF.match(ref))
            ),
            default=0,
        )
        finding.ref_code = f"{audit.ref_code}-F{number + 1}"
    record_save(finding, acting_user=acting_user)
    if evidence is not None:
        wanted = {e.pk: e for e in evidence}
        if any(e.organization_id != finding.organization_id for e in wanted.values()):
            raise ValidationError({"evidence": gettext("Choose your organisation's evidence.")})
        for link in finding.evidence_links.exclude(evidence_id__in=wanted):
            record_delete(link, acting_user=acting_user)
        existing = set(finding.evidence_links.values_list("evidence_id", flat=True))
        for pk, record in wanted.items():
            if pk not in existing:
                link = FindingEvidence(organization_id=finding.organization_id, finding=finding, evidence=record)
                record_save(link, acting_user=acting_user)
    return finding


@transaction.atomic
def finding_delete(*, finding: Finding, acting_user: User, acting_role: str | None) -> None:
    audit = Audit.objects.get(pk=finding.audit_id)
    _ensure_may_record(audit, acting_user, acting_role)
    _ensure_under_way(audit)
    if finding.corrective_actions.exists():
        raise ValidationError(gettext("The finding has corrective actions: it is a record and stays."))
    record_delete(finding, acting_user=acting_user)


# --- Incidents ---------------------------------------------------------------------------------

INCIDENT_REF = re.compile(r"^INC-(\d+)$")


@transaction.atomic
def incident_save(*, incident: Incident, acting_user: User | None) -> Incident:
    """Record or update an incident: who was told and when must be coherent, closing waits for its actions."""
    errors = {}
    if (system := incident.system) is not None and system.organization_id != incident.organization_id:
        errors["system"] = gettext("Choose one of your organisation's AI systems.")
    if incident.occurred_at and incident.detected_at and incident.detected_at < incident.occurred_at:
        errors["detected_at"] = gettext("It cannot be detected before it occurred.")
    if incident.informed_at and not incident.informed_parties.strip():
        errors["informed_parties"] = gettext("Say who was informed.")
    if incident.authority_notified and not incident.authority_notified_at:
        errors["authority_notified_at"] = gettext("Give when the authority was notified.")
    if incident.authority_notified_at and not incident.authority_notified:
        errors["authority_notified"] = gettext("Tick “authority notified”, or clear the date.")
    if incident.status == Incident.Status.CLOSED and incident.pk:
        unfinished = CorrectiveAction.objects.filter(incident=incident).unfinished().count()
        if unfinished:
            errors["status"] = gettext(
                "%(count)s corrective action(s) are not finished: close the incident afterwards."
            ) % {"count": unfinished}
    if errors:
        raise ValidationError(errors)
    if not incident.pk:
        incident.reported_by = incident.reported_by or acting_user
    if not incident.ref_code:
        number = _next_number(
            incident.organization_id, Incident.objects.filter(organization_id=incident.organization_id), INCIDENT_REF
        )
        incident.ref_code = f"INC-{number:04d}"
    return record_save(incident, acting_user=acting_user)


@transaction.atomic
def incident_delete(*, incident: Incident, acting_user: User | None) -> None:
    if incident.corrective_actions.exists():
        raise ValidationError(gettext("The incident has corrective actions: it is a record and stays."))
    record_delete(incident, acting_user=acting_user)


# --- Corrective actions ------------------------------------------------------------------------

CA_REF = re.compile(r"^CA-(\d+)$")
CLOSE_REFUSED = _(
    "A corrective action closes only after an effectiveness check by someone other than its owner and whoever "
    "implemented it found it effective."
)


@transaction.atomic
def corrective_action_save(*, action: CorrectiveAction, acting_user: User | None) -> CorrectiveAction:
    """Create or update a corrective action (its text, owner, due date); progress has its own actions."""
    previous = CorrectiveAction.objects.select_for_update().filter(pk=action.pk).first() if action.pk else None
    if previous is not None and previous.is_closed:
        raise ValidationError(gettext("This corrective action is closed: it is a record and no longer changes."))
    if action.status != (previous.status if previous else CAStatus.OPEN):
        raise ValidationError({"status": gettext("Use the progress actions (start, done, effectiveness check).")})
    if previous is not None:
        # Recorded by the workflow only.
        for name in ("implemented_by_id", "implemented_at", "verified_by_id", "verified_on", "verification_note",
                     "closed_at"):  # fmt: skip
            setattr(action, name, getattr(previous, name))
    errors = {}
    if action.finding_id is None and action.incident_id is None and action.monitoring_alert_id is None:
        errors["__all__"] = gettext(
            "A corrective action comes from a finding, an incident or a monitoring alert: choose one."
        )
    if (finding := action.finding) is not None and finding.organization_id != action.organization_id:
        errors["finding"] = gettext("Choose one of your organisation's findings.")
    if (incident := action.incident) is not None and incident.organization_id != action.organization_id:
        errors["incident"] = gettext("Choose one of your organisation's incidents.")
    if errors:
        raise ValidationError(errors)
    _ensure_editor(action.organization_id, "owner", action.owner if action.owner_id else None)
    if not action.ref_code:
        number = _next_number(
            action.organization_id,
            CorrectiveAction.objects.filter(organization_id=action.organization_id),
            CA_REF,
        )
        action.ref_code = f"CA-{number:04d}"
    return record_save(action, acting_user=acting_user)


# --- Raised from a monitoring alert ------------------------------------------------------------


def _locked_alert(alert: MonitoringAlert) -> MonitoringAlert:
    result: MonitoringAlert = (
        MonitoringAlert.objects.select_for_update().select_related("metric", "system").get(pk=alert.pk)
    )
    return result


def _alert_summary(alert: MonitoringAlert) -> str:
    metric = alert.metric
    unit = f" {metric.unit}" if metric.unit else ""
    return (
        f"Monitoring alert on {metric.name} ({metric.key}) of {alert.system.ref_code} {alert.system.name}: "
        f"{alert.breach_count} breach(es) since {alert.opened_at:%Y-%m-%d %H:%M} UTC; first value "
        f"{alert.first_value:g}{unit}, worst {alert.worst_value:g}{unit}, last {alert.last_value:g}{unit} "
        f"(target {metric.target:g}{unit}, alert threshold {metric.alert_threshold:g}{unit}, "
        f"{metric.get_direction_display().lower()})."
    )


@transaction.atomic
def incident_raise_from_alert(*, alert: MonitoringAlert, acting_user: User | None) -> Incident:
    """Record an AI incident (A.8.4) for a monitoring alert, linked back to it; one incident per alert."""
    alert = _locked_alert(alert)
    existing = Incident.objects.filter(monitoring_alert=alert).first()
    if existing is not None:
        raise ValidationError(
            gettext("Incident %(ref)s was raised for this alert already.") % {"ref": existing.ref_code}
        )
    incident = Incident(
        organization_id=alert.organization_id,
        system=alert.system,
        monitoring_alert=alert,
        title=f"{alert.metric.name} beyond its alert threshold on {alert.system.ref_code}"[:200],
        description=_alert_summary(alert),
        occurred_at=alert.opened_at,
        detected_at=alert.opened_at,
    )
    return incident_save(incident=incident, acting_user=acting_user)


@transaction.atomic
def corrective_action_raise_from_alert(
    *, alert: MonitoringAlert, acting_user: User | None, owner: User
) -> CorrectiveAction:
    """Open a corrective action (10.2) for a monitoring alert, owned by ``owner`` (a member who edits
    records); the incident raised for the alert, if any, is linked too."""
    alert = _locked_alert(alert)
    incident = Incident.objects.filter(monitoring_alert=alert).first()
    action = CorrectiveAction(
        organization_id=alert.organization_id,
        monitoring_alert=alert,
        incident=incident,
        owner=owner,
        title=f"Bring {alert.metric.name} of {alert.system.ref_code} back within target"[:200],
        correction=_alert_summary(alert),
    )
    return corrective_action_save(action=action, acting_user=acting_user)


def _locked(action: CorrectiveAction) -> CorrectiveAction:
    locked: CorrectiveAction = CorrectiveAction.objects.select_for_update().get(pk=action.pk)
    if locked.is_closed:
        raise ValidationError(gettext("This corrective action is closed: it is a record and no longer changes."))
    return locked


@transaction.atomic
def corrective_action_start(*, action: CorrectiveAction, acting_user: User) -> CorrectiveAction:
    action = _locked(action)
    if action.status not in (CAStatus.OPEN, CAStatus.NOT_EFFECTIVE):
        raise ValidationError(gettext("Only an open action, or one found not effective, can be (re)started."))
    action.status = CAStatus.IN_PROGRESS
    return record_save(action, acting_user=acting_user)


@transaction.atomic
def corrective_action_complete(*, action: CorrectiveAction, acting_user: User) -> CorrectiveAction:
    """Mark the action done (implemented by ``acting_user``); it now waits for its effectiveness check."""
    action = _locked(action)
    if action.status not in CorrectiveAction.UNFINISHED:
        raise ValidationError(gettext("The action is already done."))
    errors = {}
    if not action.root_cause.strip():
        errors["root_cause"] = gettext("Record the root cause before marking the action done (10.2 b).")
    if not action.action.strip():
        errors["action"] = gettext("Describe the corrective action taken before marking it done.")
    if errors:
        raise ValidationError(errors)
    action.status = CAStatus.DONE
    action.implemented_by, action.implemented_at = acting_user, timezone.now()
    return record_save(action, acting_user=acting_user)


def _ensure_independent_check(action: CorrectiveAction, checker: User | None) -> None:
    if checker is None or checker.pk in (action.owner_id, action.implemented_by_id):
        raise ValidationError(
            gettext("The effectiveness check needs someone other than the action's owner and whoever implemented it.")
        )


@transaction.atomic
def corrective_action_verify(
    *, action: CorrectiveAction, acting_user: User, effective: bool, note: str, verified_on: date | None = None
) -> CorrectiveAction:
    """Record the effectiveness check of a done action (10.2 d).

    Effective: the action is verified and closes. Not effective: it goes back to work, and the
    check stays in its history.
    """
    action = _locked(action)
    if action.status != CAStatus.DONE:
        raise ValidationError(gettext("Only a done action can be checked for effectiveness."))
    _ensure_independent_check(action, acting_user)
    errors = {}
    if not note.strip():
        errors["note"] = gettext("Say what was checked and what it showed.")
    verified_on = verified_on or timezone.localdate()
    if verified_on > timezone.localdate():
        errors["verified_on"] = gettext("The check cannot be dated in the future.")
    if errors:
        raise ValidationError(errors)
    action.verified_by, action.verified_on, action.verification_note = acting_user, verified_on, note.strip()
    action.status = CAStatus.VERIFIED_EFFECTIVE if effective else CAStatus.NOT_EFFECTIVE
    record_save(action, acting_user=acting_user)
    if effective:
        return corrective_action_close(action=action, acting_user=acting_user)
    return action


@transaction.atomic
def corrective_action_close(*, action: CorrectiveAction, acting_user: User) -> CorrectiveAction:
    """Close an action verified effective by an independent checker; anything else is refused."""
    action = CorrectiveAction.objects.select_for_update().get(pk=action.pk)
    if action.is_closed:
        return action
    independent = action.verified_by_id is not None and action.verified_by_id not in (
        action.owner_id,
        action.implemented_by_id,
    )
    if action.status != CAStatus.VERIFIED_EFFECTIVE or not independent:
        raise ValidationError(CLOSE_REFUSED)
    action.closed_at = timezone.now()
    return record_save(action, acting_user=acting_user)


@transaction.atomic
def corrective_action_delete(*, action: CorrectiveAction, acting_user: User | None) -> None:
    if action.status != CAStatus.OPEN:
        raise ValidationError(gettext("Only an action not yet started can be deleted; afterwards it is a record."))
    record_delete(action, acting_user=acting_user)


# --- Management reviews ------------------------------------------------------------------------


def _has_field(model: type[Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


LABEL_ATTRS = ("title", "name", "description", "text", "issue")
# Facts worth showing when the record has them: (attribute, key in the inputs).
DETAIL_ATTRS = (
    ("kind", "kind"),
    ("category", "category"),
    ("status", "status"),
    ("measure", "measure"),
    ("target_display", "target"),
    ("latest_value_display", "latest value"),
    ("unit", "unit"),
    ("due_date", "due"),
)


def _describe(obj: Model) -> dict[str, str]:
    label = next((str(v) for name in LABEL_ATTRS if (v := getattr(obj, name, None))), str(obj))
    item = {"label": label[:300]}
    for name, key in DETAIL_ATTRS:
        display = getattr(obj, f"get_{name}_display", None)
        value = display() if callable(display) else getattr(obj, name, None)
        if value in (None, "") or callable(value) or hasattr(value, "all") or isinstance(value, Model | dict | list):
            continue
        item[key] = str(value)
    return item


def _optional_records(
    organization: Organization, model: type[Model], start: date, end: date, *, changed_only: bool
) -> dict[str, Any]:
    """What the core records of ``model`` (context issues, objectives…), for the inputs; never fails the review."""
    if not _has_field(model, "organization"):
        return {"available": False, "items": []}
    rows: QuerySet[Model] = model.objects.filter(organization=organization)  # type: ignore[attr-defined]
    stamp = next((f for f in ("updated_at", "created_at") if _has_field(model, f)), None)
    if changed_only and stamp:
        rows = rows.filter(**{f"{stamp}__date__range": (start, end)})
    try:
        # A savepoint: a table not migrated yet must not break the surrounding transaction.
        with transaction.atomic():
            items = [_describe(obj) for obj in rows.order_by("pk")[:50]]
    except DatabaseError:
        return {"available": False, "items": []}
    return {"available": True, "items": items, "changed_only": bool(changed_only and stamp)}


def _counts(queryset: QuerySet[Any], field: str, choices: Iterable[tuple[Any, Any]]) -> dict[str, int]:
    found = dict(queryset.values_list(field).annotate(n=Count("id")).order_by())
    return {str(label): found.get(value, 0) for value, label in choices}


def management_review_inputs(
    organization: Organization, start: date, end: date, *, exclude_review: ManagementReview | None = None
) -> dict[str, Any]:
    """The inputs 9.3.2 asks for, as the portal knows them on ``start``-``end``: plain JSON, to be frozen."""
    in_period = {"raised_at__date__range": (start, end)}
    earlier = ReviewAction.objects.for_org(organization).select_related("owner", "review")
    if exclude_review is not None:
        earlier = earlier.exclude(review=exclude_review)
    findings = Finding.objects.for_org(organization)
    actions = CorrectiveAction.objects.for_org(organization)
    risks = Risk.objects.for_org(organization).open()
    incidents = Incident.objects.for_org(organization).filter(detected_at__date__range=(start, end))
    audits = (
        Audit.objects.for_org(organization)
        .filter(Q(actual_start__range=(start, end)) | Q(actual_end__range=(start, end)))
        .annotate(finding_count=Count("findings"))
        .order_by("actual_start", "ref_code")
    )
    closed = Exists(CorrectiveAction.objects.filter(finding=OuterRef("pk"), closed_at__isnull=False))
    by_level = {
        str(label): risks.filter(Q(residual_level=value) | Q(residual_level="", inherent_level=value)).count()
        for value, label in Level.choices
    }
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "gathered_at": timezone.now().isoformat(),
        "previous_actions": {
            "by_status": _counts(earlier, "status", ReviewAction.Status.choices),
            "unfinished": [
                {
                    "title": a.title,
                    "review": a.review.title,
                    "owner": a.owner.display_name,
                    "due_date": a.due_date.isoformat() if a.due_date else "",
                    "status": a.get_status_display(),
                    "overdue": a.overdue,
                }
                for a in earlier.filter(status__in=ReviewAction.UNFINISHED).order_by("due_date", "pk")[:50]
            ],
        },
        "context_changes": _optional_records(organization, ContextIssue, start, end, changed_only=True),
        "interested_parties": _optional_records(organization, InterestedParty, start, end, changed_only=True),
        "objectives": _optional_records(organization, Objective, start, end, changed_only=False),
        "audits": [
            {
                "ref_code": a.ref_code,
                "title": a.title,
                "status": a.get_status_display(),
                "findings": a.finding_count,
                "conclusion": a.conclusion,
            }
            for a in audits
        ],
        "findings_by_kind": _counts(findings.filter(**in_period), "kind", Finding.Kind.choices),
        "nonconformities": {
            "raised": findings.filter(kind__in=Finding.NONCONFORMITIES, **in_period).count(),
            "open": findings.filter(kind__in=Finding.NONCONFORMITIES).exclude(closed).count(),
        },
        "corrective_actions": {
            "by_status": _counts(actions, "status", CAStatus.choices),
            "overdue": actions.overdue().count(),
            "closed_in_period": actions.filter(closed_at__date__range=(start, end)).count(),
        },
        "risks": {"open": risks.count(), "by_level": by_level},
        "impact_assessments": {
            "by_status": _counts(
                ImpactAssessment.objects.for_org(organization), "status", ImpactAssessment.Status.choices
            ),
            "review_due": ImpactAssessment.objects.for_org(organization)
            .filter(status=ImpactAssessment.Status.APPROVED, next_review_date__lte=end)
            .count(),
        },
        "incidents": {
            "in_period": incidents.count(),
            "by_severity": _counts(incidents, "severity", Incident.Severity.choices),
            "open": Incident.objects.for_org(organization).filter(status__in=Incident.OPEN_STATUSES).count(),
            "authority_notified": incidents.filter(authority_notified=True).count(),
        },
        "opportunities": [
            {"ref_code": f.ref_code, "title": f.title, "description": f.description}
            for f in findings.filter(kind=Finding.Kind.OFI, **in_period).order_by("raised_at")[:50]
        ],
    }


def _set_attendees(review: ManagementReview, attendees: Iterable[User], acting_user: User | None) -> None:
    wanted = {u.pk: u for u in attendees}
    _ensure_members(review.organization_id, "attendees", wanted.values())
    for link in review.attendee_links.exclude(user_id__in=wanted):
        record_delete(link, acting_user=acting_user)
    existing = set(review.attendee_links.values_list("user_id", flat=True))
    for pk, user in wanted.items():
        if pk not in existing:
            record_save(
                ReviewAttendee(organization_id=review.organization_id, review=review, user=user),
                acting_user=acting_user,
            )


def _check_period(review: ManagementReview) -> None:
    if review.period_start and review.period_end and review.period_end < review.period_start:
        raise ValidationError({"period_end": gettext("The period cannot end before it starts.")})


@transaction.atomic
def management_review_create(
    *, review: ManagementReview, acting_user: User | None, attendees: Iterable[User] = ()
) -> ManagementReview:
    """Create a review with its inputs gathered from the portal now and frozen with it."""
    _check_period(review)
    review.created_by = review.created_by or acting_user
    review.inputs = management_review_inputs(review.organization, review.period_start, review.period_end)
    review.inputs_gathered_at = timezone.now()
    record_save(review, acting_user=acting_user)
    _set_attendees(review, attendees, acting_user)
    return review


@transaction.atomic
def management_review_save(
    *, review: ManagementReview, acting_user: User | None, attendees: Iterable[User] | None = None
) -> ManagementReview:
    """Change a review's date, attendees and decisions; its inputs stay as gathered."""
    _check_period(review)
    stored = ManagementReview.objects.get(pk=review.pk)
    review.inputs, review.inputs_gathered_at = stored.inputs, stored.inputs_gathered_at
    record_save(review, acting_user=acting_user)
    if attendees is not None:
        _set_attendees(review, attendees, acting_user)
    return review


@transaction.atomic
def management_review_gather_inputs(*, review: ManagementReview, acting_user: User | None) -> ManagementReview:
    """Gather the inputs again (e.g. a review prepared early); the earlier set stays in the history."""
    review.inputs = management_review_inputs(
        review.organization, review.period_start, review.period_end, exclude_review=review
    )
    review.inputs_gathered_at = timezone.now()
    return record_save(review, acting_user=acting_user)


@transaction.atomic
def management_review_delete(*, review: ManagementReview, acting_user: User | None) -> None:
    for link in review.attendee_links.all():
        record_delete(link, acting_user=acting_user)
    for action in review.actions.all():
        record_delete(action, acting_user=acting_user)
    record_delete(review, acting_user=acting_user)


@transaction.atomic
def review_action_save(*, action: ReviewAction, acting_user: User | None) -> ReviewAction:
    if action.review.organization_id != action.organization_id:
        raise ValidationError({"review": gettext("Choose one of your organisation's management reviews.")})
    if action.pk and ReviewAction.objects.filter(pk=action.pk).exclude(review_id=action.review_id).exists():
        raise ValidationError({"review": gettext("An action stays with its review.")})
    _ensure_editor(action.organization_id, "owner", action.owner if action.owner_id else None)
    return record_save(action, acting_user=acting_user)


@transaction.atomic
def review_action_delete(*, action: ReviewAction, acting_user: User | None) -> None:
    record_delete(action, acting_user=acting_user)
