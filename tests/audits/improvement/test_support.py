"""Fixtures and builders shared by the internal audit, corrective action, review and incident tests.

No tests here: the test modules import what they need, so the builders live in one place.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from aims.roles import Role
from audits.improvement import services as improvement
from audits.models import Audit, AuditProgramme, CorrectiveAction, Finding, Incident
from controls.models import Requirement
from tests.factories import MembershipFactory, UserFactory

CRITERIA = ["8.2", "A.6.2.6", "A.6.2.8"]


def req(ref: str) -> Requirement:
    return Requirement.objects.get(framework__code="ISO42001", ref=ref)


def member(org, role, email, name=""):
    user = UserFactory(email=email, full_name=name or email.split("@")[0].capitalize())
    MembershipFactory(organization=org, user=user, role=role)
    return user


@pytest.fixture
def owen(acme):
    """An AI system owner of Acme: responsible for the audited area."""
    return member(acme, Role.OWNER, "owen@acme.example", "Owen Owner")


@pytest.fixture
def programme(acme, olivia):
    return improvement.programme_save(
        programme=AuditProgramme(organization=acme, year=2026, objectives="Cover every clause."), acting_user=olivia
    )


def make_audit(programme, user, *, lead=None, auditors=(), area_owners=(), refs=CRITERIA, title="Life cycle audit"):
    audit = Audit(
        organization=programme.organization,
        programme=programme,
        title=title,
        scope="Development and operation of AI systems.",
        auditee_area="AI engineering",
        lead_auditor=lead,
        planned_start=date(2026, 3, 9),
        planned_end=date(2026, 3, 13),
    )
    return improvement.audit_save(
        audit=audit,
        acting_user=user,
        criteria=[req(ref) for ref in refs],
        auditors=list(auditors),
        area_owners=list(area_owners),
    )


@pytest.fixture
def audit(programme, olivia, bob, owen):
    """Bob (auditor) leads an audit of Owen's area; planned."""
    return make_audit(programme, olivia, lead=bob, area_owners=[owen])


@pytest.fixture
def started(audit, olivia):
    improvement.audit_start(audit=audit, acting_user=olivia)
    audit.refresh_from_db()
    return audit


@pytest.fixture
def other_audit(programme, olivia, alice, owen):
    """An audit Bob is not assigned to (Alice leads it), started."""
    other = make_audit(programme, olivia, lead=alice, area_owners=[owen], title="Data audit", refs=["A.7.4"])
    improvement.audit_start(audit=other, acting_user=olivia)
    other.refresh_from_db()
    return other


def make_finding(audit, user, role=Role.AUDITOR, kind=Finding.Kind.MINOR_NC, ref="A.6.2.8", title="Logs kept 7 days"):
    finding = Finding(
        organization=audit.organization,
        audit=audit,
        kind=kind,
        requirement=req(ref) if ref else None,
        title=title,
        description="The logging procedure asks for 90 days.",
    )
    return improvement.finding_save(finding=finding, acting_user=user, acting_role=role)


def make_action(user, owner, *, finding=None, incident=None, due=None, title="Keep logs 90 days"):
    action = CorrectiveAction(
        organization=(finding or incident).organization,
        finding=finding,
        incident=incident,
        title=title,
        correction="Retention raised at once.",
        root_cause="Platform default retention never changed.",
        action="Retention as code; deployment checklist item.",
        owner=owner,
        due_date=due,
    )
    return improvement.corrective_action_save(action=action, acting_user=user)


def make_incident(org, user, system=None, **fields):
    values = {
        "title": "Assistant quoted a non-existent fee",
        "severity": Incident.Severity.HIGH,
        "description": "A customer was told about a 3 % fee that does not exist.",
        "detected_at": timezone.now() - timedelta(days=1),
    }
    values.update(fields)
    return improvement.incident_save(incident=Incident(organization=org, system=system, **values), acting_user=user)
