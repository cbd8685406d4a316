"""Demo Statement of Applicability: every control decided and justified, an approved version."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from controls.catalogue.models import Requirement
from controls.evidence import services as evidence_services
from controls.evidence.models import Evidence, EvidenceLink
from controls.soa import selectors
from controls.soa import services as soa
from controls.soa.models import ImplementationStatus, SoAVersion

EXCLUDED = {
    "A.10.4": "The organisation does not provide AI systems to customers who integrate them into their own products.",
}
PARTIAL = {"A.6.2.8", "A.7.5", "A.8.3", "A.5.5", "A.4.2", "A.9.3"}
PLANNED = {"A.6.2.7", "A.8.5"}


def soa_demo_seed(organization, users) -> None:
    if SoAVersion.objects.for_org(organization).exists():
        return  # seeded already
    officer, admin = users["officer"], users["admin"]
    today = timezone.localdate()
    relied_on = selectors.control_risk_summaries(organization)
    for row in selectors.soa_rows(organization):
        ref = row.control.ref
        if ref in EXCLUDED:
            row.applicable, row.justification = False, EXCLUDED[ref]
        else:
            row.applicable = True
            reason = (
                "Relied on by risk treatments"
                if row.control_id in relied_on
                else "Needed for the organisation's AI use"
            )
            row.justification = f"{reason}: {row.control.title.lower()} is part of how the AIMS is run."
            if ref in PARTIAL:
                row.implementation_status = ImplementationStatus.PARTIAL
                row.target_date = today + timedelta(days=60)
            elif ref in PLANNED:
                row.implementation_status = ImplementationStatus.PLANNED
                row.target_date = today - timedelta(days=7) if ref == "A.6.2.7" else today + timedelta(days=120)
            else:
                row.implementation_status = ImplementationStatus.IMPLEMENTED
            row.implementation = f"Described in the AIMS manual, section {ref[2:]}."
            row.owner = officer
        soa.soa_row_update(statement=row, acting_user=officer)
    version = soa.soa_submit(organization=organization, acting_user=officer, note="First complete SoA.")
    soa.soa_approve(version=version, acting_user=admin, comment="Approved for the certification audit.")
    _evidence_demo(organization, officer, today)


LINK, NOTE = Evidence.Kind.LINK, Evidence.Kind.NOTE
EVIDENCE = [
    ("AI policy v2.1 (signed by the board)", LINK, "https://intranet.example/policies/ai-policy-v2-1.pdf", 365,
     ["A.2.2", "A.2.3"]),
    ("Annual review of the AI policy, minutes", NOTE, "The board reviewed the AI policy on 12 March; no change "
     "needed apart from the new incident channel.", 300, ["A.2.4"]),
    ("Bias test report, credit scoring, Q3", NOTE, "Approval-rate gap by age band 3.1 % (target < 5 %); "
     "AUC 0.83 on the 2025 hold-out.", 90, ["A.6.2.4", "A.7.4"]),
    ("Data lineage catalogue", LINK, "https://datacatalog.example/lineage/loans", None, ["A.7.5", "A.7.2"]),
    ("Model monitoring dashboard", LINK, "https://grafana.example/d/ml-monitoring", None, ["A.6.2.6"]),
    ("Supplier due diligence, HireFlow 2025", NOTE, "Questionnaire and bias report reviewed; conditions agreed.",
     -20, ["A.10.3"]),
]  # fmt: skip


def _evidence_demo(organization, officer, today) -> None:
    controls = {r.ref: r for r in Requirement.objects.of_framework("ISO42001").controls()}
    for title, kind, content, days, refs in EVIDENCE:
        item = evidence_services.evidence_create(
            organization=organization,
            acting_user=officer,
            title=title,
            kind=kind,
            owner=officer,
            effective_from=today - timedelta(days=30),
            valid_until=today + timedelta(days=days) if days is not None else None,
            url=content if kind == Evidence.Kind.LINK else "",
            note=content if kind == Evidence.Kind.NOTE else "",
        )
        for ref in refs:
            evidence_services.evidence_link(
                evidence=item, target=EvidenceLink.Target.CONTROL, obj=controls[ref], acting_user=officer
            )
