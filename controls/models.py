"""Models of the controls app, collected here for Django.

They are defined in the sub-packages: the catalogue (``controls.catalogue``), the Statement of
Applicability (``controls.soa.services``), evidence (``controls.evidence.services``) and
OSCAL catalogue imports (``controls.oscal``).
"""

from __future__ import annotations

from controls.catalogue.models import (
    Framework,
    Mapping,
    Requirement,
    RequirementQuerySet,
)
from controls.evidence.models import (
    Evidence,
    EvidenceDownload,
    EvidenceLink,
    EvidenceQuerySet,
    EvidenceVersion,
    Reminder,
    evidence_upload_to,
)
from controls.oscal.models import CatalogueImport
from controls.soa.models import (
    ApplicabilityStatement,
    ApplicabilityStatementQuerySet,
    ImplementationStatus,
    SoASystem,
    SoAVersion,
)

__all__ = [
    "ApplicabilityStatement",
    "ApplicabilityStatementQuerySet",
    "CatalogueImport",
    "Evidence",
    "EvidenceDownload",
    "EvidenceLink",
    "EvidenceQuerySet",
    "EvidenceVersion",
    "Framework",
    "ImplementationStatus",
    "Mapping",
    "Reminder",
    "Requirement",
    "RequirementQuerySet",
    "SoASystem",
    "SoAVersion",
    "evidence_upload_to",
]
