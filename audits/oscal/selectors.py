"""An internal audit (9.2) as OSCAL assessment results: what it reviewed, what it observed, what it found."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from aims.models import Organization
from audits.improvement.models import Audit, ChecklistItem, Finding, FindingEvidence
from audits.improvement.selectors import audit_detail
from controls.evidence.models import EvidenceVersion
from controls.oscal.documents import (
    OscalDocument,
    Parties,
    document_build,
    metadata,
    one_line,
    oscal_id,
    portal_prop,
    resource,
    stable_uuid,
    timestamp,
)
from controls.oscal.selectors import evidence_resource

Absolute = Callable[[str], str]

#: Whether a finding means the requirement is met (OSCAL objective status ``satisfied``) or not.
FINDING_STATES = {
    Finding.Kind.MAJOR_NC: "not-satisfied",
    Finding.Kind.MINOR_NC: "not-satisfied",
    Finding.Kind.OBSERVATION: "satisfied",
    Finding.Kind.OFI: "satisfied",
}
CHECKED = (ChecklistItem.Result.CONFORMING, ChecklistItem.Result.NONCONFORMING, ChecklistItem.Result.OBSERVATION)


def assessment_audit_get(organization: Organization, pk: Any) -> Audit:
    """The organisation's audit; ``Audit.DoesNotExist`` (or ValueError) for another's or none."""
    return audit_detail(organization, pk)


def _moment(day: date | None, end: bool = False) -> str | None:
    if day is None:
        return None
    return timestamp(timezone.make_aware(datetime.combine(day, time.max if end else time.min)))


def _observation(item: ChecklistItem, scope: str, parties: Parties) -> dict[str, Any]:
    checker = parties.person(item.checked_by)
    return {
        "uuid": stable_uuid(scope, "observation", item.pk),
        "title": one_line(f"{item.ref}: {item.question}")[:250],
        "description": item.notes or item.get_result_display(),
        "props": [portal_prop("checklist-result", item.result)],
        "methods": ["EXAMINE", "INTERVIEW"] if item.evidence_checked else ["EXAMINE"],
        "types": ["finding"] if item.calls_for_finding else ["control-objective"],
        "origins": [{"actors": [{"type": "party", "actor-uuid": checker, "role-id": "auditor"}]}] if checker else [],
        "relevant-evidence": [{"description": item.evidence_checked}] if item.evidence_checked else [],
        "collected": timestamp(item.checked_at or timezone.now()),
    }


def assessment_results_document(organization: Organization, audit: Audit, absolute: Absolute) -> OscalDocument:
    """The audit's results: its criteria as reviewed controls, its checked checklist items as
    observations, and one OSCAL finding per finding, targeting its requirement, with its kind,
    who raised it, and links to the evidence it rests on (in back-matter, with SHA-256)."""
    scope = f"audit:{organization.pk}:{audit.pk}"
    parties = Parties(f"org:{organization.slug}")
    lead = parties.person(audit.lead_auditor)
    for member in audit.member_links.all():
        parties.person(member.user)
    items = list(audit.checklist.select_related("checked_by").filter(result__in=CHECKED).order_by("order", "id"))
    observations = {item.pk: _observation(item, scope, parties) for item in items}
    latest = EvidenceVersion.objects.for_org(organization).order_by("evidence_id", "-number")
    findings = list(
        Finding.objects.for_org(organization)
        .filter(audit=audit)
        .select_related("requirement", "raised_by", "system")
        .prefetch_related(
            Prefetch(
                "evidence_links",
                queryset=FindingEvidence.objects.select_related("evidence").prefetch_related(
                    Prefetch("evidence__versions", queryset=latest)
                ),
            )
        )
        .order_by("id")
    )
    resources: dict[str, dict[str, Any]] = {}
    oscal_findings = []
    for finding in findings:
        links = []
        for link in finding.evidence_links.all():
            res = evidence_resource(link.evidence, absolute)
            resources.setdefault(res["uuid"], res)
            links.append({"href": f"#{res['uuid']}", "rel": "evidence", "text": one_line(link.evidence.title)})
        raiser = parties.person(finding.raised_by)
        target_ref = finding.requirement.ref if finding.requirement else "aims"
        oscal_findings.append(
            {
                "uuid": stable_uuid(scope, "finding", finding.pk),
                "title": one_line(f"{finding.ref_code} {finding.title}"),
                "description": finding.description,
                "props": [
                    portal_prop("finding-kind", finding.kind),
                    portal_prop("finding-reference", finding.ref_code),
                    portal_prop("ai-system", finding.system.ref_code if finding.system else None),
                ],
                "links": links,
                "origins": [{"actors": [{"type": "party", "actor-uuid": raiser, "role-id": "auditor"}]}]
                if raiser
                else [],
                "target": {
                    "type": "objective-id",
                    "target-id": f"{oscal_id(target_ref)}_obj",
                    "title": one_line(str(finding.requirement)) if finding.requirement else None,
                    "status": {"state": FINDING_STATES[Finding.Kind(finding.kind)], "reason": finding.kind},
                },
                "related-observations": [{"observation-uuid": observations[finding.checklist_item_id]["uuid"]}]
                if finding.checklist_item_id in observations
                else [],
                "remarks": finding.get_kind_display(),
            }
        )
    criteria = [link.requirement for link in audit.criteria_links.all()]
    selection: dict[str, Any] = (
        {"include-controls": [{"control-id": oscal_id(r.ref)} for r in criteria]} if criteria else {"include-all": {}}
    )
    plan = resource(
        stable_uuid(scope, "plan"),
        f"Audit plan {audit.ref_code}: {audit.title}",
        description=audit.scope,
        href=absolute(reverse("audits:audit_detail", args=[audit.pk])),
        media_type="text/html",
    )
    start = _moment(audit.actual_start or audit.planned_start)
    end = _moment(audit.actual_end, end=True) if audit.is_closed else None
    body = {
        "uuid": stable_uuid(scope, "assessment-results"),
        "metadata": metadata(
            f"{organization.name}: results of internal audit {audit.ref_code} {audit.title}",
            version=audit.status,
            props=[portal_prop("audit-reference", audit.ref_code), portal_prop("audit-status", audit.status)],
            roles=[
                {"id": "auditor", "title": "Auditor"},
                {"id": "lead-auditor", "title": "Lead auditor"},
            ],
            parties=parties,
            responsible_parties=[{"role-id": "lead-auditor", "party-uuids": [lead]}] if lead else [],
        ),
        "import-ap": {"href": f"#{plan['uuid']}"},
        "results": [
            {
                "uuid": stable_uuid(scope, "result"),
                "title": one_line(f"{audit.ref_code} {audit.title}"),
                "description": audit.conclusion or audit.scope,
                "start": start,
                "end": end,
                "props": [portal_prop("audited-area", audit.auditee_area)],
                "reviewed-controls": {
                    "description": "The audit's criteria: the clauses and Annex A controls checked.",
                    "control-selections": [selection],
                },
                "observations": list(observations.values()),
                "findings": oscal_findings,
                "remarks": audit.conclusion,
            }
        ],
        "back-matter": {"resources": [plan, *resources.values()]},
    }
    return document_build("assessment-results", body, f"oscal-assessment-results-{audit.ref_code or audit.pk}".lower())
