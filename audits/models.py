"""Models of the audits app, collected here for Django.

They are defined in the sub-packages: evidence packs (``audits.packs``), internal audits and
improvement (``audits.improvement.services``).
"""

from __future__ import annotations

from audits.improvement.models import (
    Audit,
    AuditCriterion,
    AuditMember,
    AuditProgramme,
    ChecklistItem,
    CorrectiveAction,
    CorrectiveActionQuerySet,
    Finding,
    FindingEvidence,
    Incident,
    ManagementReview,
    ReviewAction,
    ReviewAttendee,
)
from audits.packs.models import (
    AUDIT_SECTIONS,
    EvidencePack,
    EvidencePackDownload,
    EvidencePackPart,
    EvidencePackQuerySet,
    PackDetail,
    PackSection,
)

__all__ = [
    "AUDIT_SECTIONS",
    "Audit",
    "AuditCriterion",
    "AuditMember",
    "AuditProgramme",
    "ChecklistItem",
    "CorrectiveAction",
    "CorrectiveActionQuerySet",
    "EvidencePack",
    "EvidencePackDownload",
    "EvidencePackPart",
    "EvidencePackQuerySet",
    "Finding",
    "FindingEvidence",
    "Incident",
    "ManagementReview",
    "PackDetail",
    "PackSection",
    "ReviewAction",
    "ReviewAttendee",
]
