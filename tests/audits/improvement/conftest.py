"""Fixtures of the internal audit, corrective action, review and incident tests."""

from __future__ import annotations

import pytest

from aims.roles import Role
from audits.improvement import services as improvement
from tests.audits.factories import AuditFactory, AuditProgrammeFactory, member


@pytest.fixture
def owen(acme):
    """An AI system owner of Acme: responsible for the audited area."""
    return member(acme, Role.OWNER, "owen@acme.example", "Owen Owner")


@pytest.fixture
def programme(acme, olivia):
    return AuditProgrammeFactory(organization=acme, acting_user=olivia)


@pytest.fixture
def audit(programme, olivia, bob, owen):
    """Bob (auditor) leads an audit of Owen's area; planned."""
    return AuditFactory(programme=programme, acting_user=olivia, lead_auditor=bob, area_owners=[owen])


@pytest.fixture
def started(audit, olivia):
    improvement.audit_start(audit=audit, acting_user=olivia)
    audit.refresh_from_db()
    return audit


@pytest.fixture
def other_audit(programme, olivia, alice, owen):
    """An audit Bob is not assigned to (Alice leads it), started."""
    other = AuditFactory(
        programme=programme,
        acting_user=olivia,
        lead_auditor=alice,
        area_owners=[owen],
        title="Data audit",
        criteria_refs=["A.7.4"],
    )
    improvement.audit_start(audit=other, acting_user=olivia)
    other.refresh_from_db()
    return other
