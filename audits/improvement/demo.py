"""Demo internal audits, corrective actions, an incident and a management review.

A 2026 programme with a closed audit of clause 8 and the A.6 controls (every checklist item
answered, a minor nonconformity on A.6.2.8 whose corrective action was verified effective by
someone else, an observation and an opportunity for improvement) and a planned audit; an
incident of the customer service assistant with a corrective action in progress; a
management review with its inputs and two actions. Everything goes through the services, so
the demo carries the same history and obeys the same rules as real use.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from aims.roles import Role
from audits.improvement import services as improvement
from audits.models import (
    Audit,
    AuditProgramme,
    CorrectiveAction,
    Finding,
    Incident,
    ManagementReview,
    ReviewAction,
)
from controls.models import Evidence
from registry.models import AISystem
from registry.monitoring.models import MonitoringAlert

logger = logging.getLogger(__name__)

YEAR = 2026
CLOSED_CRITERIA = ["8", "8.1", "8.2", "8.3", "8.4", "A.6.1.2", "A.6.1.3", "A.6.2.2", "A.6.2.3", "A.6.2.4",
                   "A.6.2.5", "A.6.2.6", "A.6.2.7", "A.6.2.8"]  # fmt: skip
PLANNED_CRITERIA = ["9.1", "9.2", "9.3", "10.1", "10.2", "A.8.2", "A.8.3", "A.8.4", "A.8.5"]
RESULTS = {
    "A.6.2.8": ("nonconforming", "Event logs of the assistant are kept 7 days; the logging procedure asks for 90."),
    "A.6.2.3": ("observation", "Design decisions are recorded, but spread over wiki pages without versions."),
}


def _aware(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


def improvement_demo_seed(organization, users) -> None:
    if AuditProgramme.objects.for_org(organization).filter(year=YEAR).exists():
        return  # seeded already: keep what people changed
    admin, officer, owner, auditor = users["admin"], users["officer"], users["owner"], users["auditor"]
    today = timezone.localdate()
    criteria = {r.ref: r for r in improvement.criteria_choices()}

    programme = improvement.programme_save(
        programme=AuditProgramme(
            organization=organization,
            year=YEAR,
            objectives="Cover every clause of ISO/IEC 42001 and every applicable Annex A control once before the "
            "certification audit; audit the AI systems with the highest risk first.",
            notes="Two audits a year by the internal audit function; reports to the management review.",
        ),
        acting_user=officer,
    )

    # The closed audit: operation (clause 8) and the life-cycle controls (A.6).
    closed = improvement.audit_save(
        audit=Audit(
            organization=organization,
            programme=programme,
            title="AI system life cycle and operation",
            scope="Development and operation of the customer service assistant and the credit scoring system: "
            "risk and impact assessment in operation, design, verification, deployment, monitoring and logging.",
            auditee_area="Data science and AI engineering",
            lead_auditor=auditor,
            planned_start=date(YEAR, 3, 9),
            planned_end=date(YEAR, 3, 13),
            actual_start=date(YEAR, 3, 9),
            actual_end=date(YEAR, 3, 12),
        ),
        acting_user=officer,
        criteria=[criteria[ref] for ref in CLOSED_CRITERIA if ref in criteria],
        auditors=[],
        area_owners=[owner],
    )
    improvement.audit_start(audit=closed, acting_user=officer)
    closed.refresh_from_db()
    items = {item.ref: item for item in closed.checklist.all()}
    for ref, item in items.items():
        result, notes = RESULTS.get(ref, ("conforming", "Procedure followed; records sampled."))
        item.result, item.notes = result, notes
        item.evidence_checked = "Procedure, three recent records, interview with the system owner."
        improvement.checklist_item_record(item=item, acting_user=auditor, acting_role=Role.AUDITOR)

    monitoring = Evidence.objects.for_org(organization).filter(title="Model monitoring dashboard").first()
    findings = {}
    for kind, ref, title, description in [
        ("minor_nc", "A.6.2.8", "Event logs kept too briefly",
         "The assistant's event logs are deleted after 7 days, while the logging procedure requires 90 days; "
         "incidents older than a week could not be reconstructed."),
        ("observation", "A.6.2.3", "Design documentation scattered",
         "Design decisions are recorded but spread over unversioned wiki pages."),
        ("ofi", "8.1", "Automate the release checklist",
         "The manual release checklist could run in the CI pipeline and attach its results as evidence."),
    ]:  # fmt: skip
        findings[kind] = improvement.finding_save(
            finding=Finding(
                organization=organization,
                audit=closed,
                kind=kind,
                requirement=criteria.get(ref),
                checklist_item=items.get(ref),
                title=title,
                description=description,
            ),
            acting_user=auditor,
            acting_role=Role.AUDITOR,
            evidence=[monitoring] if monitoring is not None and kind == "minor_nc" else [],
        )

    logging_action = improvement.corrective_action_save(
        action=CorrectiveAction(
            organization=organization,
            finding=findings["minor_nc"],
            title="Keep the assistant's event logs for 90 days",
            correction="Log retention raised to 90 days on the day of the audit.",
            root_cause="The logging platform's default retention was never changed when the assistant went live; "
            "the deployment checklist did not ask for it.",
            action="Retention set as code for every AI system; the deployment checklist now checks it.",
            owner=owner,
            due_date=date(YEAR, 4, 30),
        ),
        acting_user=officer,
    )
    improvement.corrective_action_start(action=logging_action, acting_user=owner)
    improvement.corrective_action_complete(action=logging_action, acting_user=owner)
    improvement.corrective_action_verify(
        action=logging_action,
        acting_user=admin,
        effective=True,
        note="Sampled the logs of three AI systems: all kept 90 days; the checklist item was used in two releases.",
    )
    closed.conclusion = (
        "The life cycle is managed as planned. One minor nonconformity (log retention), since corrected and "
        "verified effective; one observation and one opportunity for improvement."
    )
    improvement.audit_save(audit=closed, acting_user=officer)
    improvement.audit_report(audit=closed, acting_user=officer)
    improvement.audit_close(audit=closed, acting_user=officer)

    # The planned audit: performance evaluation, improvement and information for interested parties.
    planned_start = max(date(YEAR, 12, 7), today + timedelta(days=14))
    improvement.audit_save(
        audit=Audit(
            organization=organization,
            programme=programme,
            title="Performance evaluation, improvement and communication",
            scope="Monitoring, internal audit, management review, corrective actions, incident communication.",
            auditee_area="Compliance office",
            lead_auditor=auditor,
            planned_start=planned_start,
            planned_end=planned_start + timedelta(days=3),
        ),
        acting_user=officer,
        criteria=[criteria[ref] for ref in PLANNED_CRITERIA if ref in criteria],
        auditors=[],
        area_owners=[officer],
    )

    # An incident of the assistant and its corrective action, under way.
    chatbot = AISystem.objects.for_org(organization).filter(external_id="sys-chatbot").first()
    occurred = today - timedelta(days=12)
    incident = improvement.incident_save(
        incident=Incident(
            organization=organization,
            system=chatbot,
            title="Assistant quoted a non-existent early-repayment fee",
            severity=Incident.Severity.HIGH,
            description="The assistant told a customer that repaying a loan early costs a 3 % fee. No such fee "
            "exists; the customer postponed the repayment and complained.",
            occurred_at=_aware(occurred, 10),
            detected_at=_aware(occurred + timedelta(days=1), 15),
            reported_by=owner,
            informed_parties="The customer (apology and correction); head of customer service; the AI officer.",
            informed_at=_aware(occurred + timedelta(days=2), 11),
            status=Incident.Status.INVESTIGATING,
        ),
        acting_user=owner,
    )
    fee_action = improvement.corrective_action_save(
        action=CorrectiveAction(
            organization=organization,
            incident=incident,
            title="Answer fee questions only from the product catalogue",
            correction="Answers about fees are routed to an agent until the fix is live.",
            root_cause="Fee questions were answered from the model's general knowledge: retrieval did not cover "
            "the fee schedule.",
            action="Index the fee schedule for retrieval and refuse fee answers without a source.",
            owner=owner,
            due_date=today + timedelta(days=20),
        ),
        acting_user=officer,
    )
    improvement.corrective_action_start(action=fee_action, acting_user=owner)

    # The management review, with the inputs as the portal knows them now, and two actions.
    review = improvement.management_review_create(
        review=ManagementReview(
            organization=organization,
            title=f"Management review {YEAR}",
            held_on=today,
            period_start=date(YEAR, 1, 1),
            period_end=today,
            external_attendees="External ISO/IEC 42001 consultant (observer)",
            decisions="The AIMS is suitable and effective. Extend retrieval grounding to every customer-facing "
            "answer; add log retention to the supplier requirements; keep the certification audit date.",
        ),
        acting_user=officer,
        attendees=[admin, officer, owner],
    )
    for title, who, days in [
        ("Ground every customer-facing answer of the assistant on a source", owner, 60),
        ("Add log retention to the supplier requirements (A.10.3)", officer, 90),
    ]:
        improvement.review_action_save(
            action=ReviewAction(
                organization=organization, review=review, title=title, owner=who, due_date=today + timedelta(days=days)
            ),
            acting_user=officer,
        )


def alert_demo_seed(organization, users) -> None:
    """The corrective action raised from the demo fairness alert (monitoring's demo acknowledged it)."""
    alert = (
        MonitoringAlert.objects.for_org(organization)
        .filter(metric__key="approval_gap", corrective_actions__isnull=True)
        .order_by("pk")
        .first()
    )
    if alert is None:
        return
    try:
        improvement.corrective_action_raise_from_alert(alert=alert, acting_user=users["officer"], owner=users["owner"])
    except ValidationError as exc:  # a rule the demo cannot meet: keep the rest of the story
        logger.warning("Demo corrective action for the fairness alert not raised: %s", exc)
