"""Demo risks and treatments that read like a real organisation's (assessments: :mod:`risk.impact.demo`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from aims.models import Organization, User
from controls.catalogue.models import Requirement
from registry.models import AISystem
from risk import services
from risk.models import Risk, TreatmentAction

Status = TreatmentAction.Status
# The risk the credit scoring assessment's fairness harm is linked to.
UNFAIR_REFUSALS = "Unfair refusals for younger applicants"

RISKS: list[dict[str, Any]] = [
    {
        "system": "sys-credit", "title": UNFAIR_REFUSALS,
        "description": "Thin credit files of applicants under 25 lead the model to over-estimate their default risk, "
        "so they are refused more often than equally solvent older applicants.",
        "source": "C.3.4", "objective": "C.2.5", "inherent": (4, 4), "option": "modify", "residual": (2, 3),
        "treatments": [
            ("Quarterly bias testing by age band", ["A.6.2.4", "A.7.4"], Status.IN_PROGRESS, 20),
            ("Analyst review of every refusal", ["A.9.2"], Status.DONE, -30),
        ],
    },
    {
        "system": "sys-chatbot", "title": "Hallucinated answers about fees and contract terms",
        "description": "The assistant states fees or conditions that do not exist; customers rely on them.",
        "source": "C.3.2", "objective": "C.2.8", "inherent": (4, 3), "option": "modify", "residual": (2, 3),
        "treatments": [
            ("Ground answers on the product catalogue; refuse otherwise", ["A.6.2.4", "A.8.2"], Status.PLANNED, -5)
        ],
    },
    {
        "system": "sys-chatbot", "title": "Prompt injection discloses another customer's data",
        "description": "Crafted messages make the assistant reveal data from other conversations.",
        "source": "C.3.4", "objective": "C.2.10", "inherent": (4, 5), "option": "", "residual": None,
        "treatments": [],
    },
    {
        "system": "sys-demand", "title": "Forecast drift after a shift in buying patterns",
        "description": "Weekly retraining adapts slowly to sudden changes, leading to stock-outs.",
        "source": "C.3.6", "objective": "C.2.8", "inherent": (3, 2), "option": "modify", "residual": (2, 2),
        "treatments": [("Drift alerts on MAPE with a rollback rule", ["A.6.2.6"], Status.DONE, -60)],
        "accept": "Residual impact is limited to stock levels; monitoring with rollback is in place.",
    },
    {
        "system": "sys-cv-screening", "title": "Supplier lock-in and unannounced model updates",
        "description": "HireFlow changes its ranking model without notice; bias testing results may no longer hold.",
        "source": "C.3.7", "objective": "C.2.1", "inherent": (3, 4), "option": "share", "residual": (2, 3),
        "treatments": [("Contract clause: release notes and bias report per model update", ["A.10.2", "A.10.3"],
                        Status.IN_PROGRESS, 45)],
    },
    {
        "system": None, "title": "Staff lack the AI literacy to oversee AI outputs",
        "description": "Analysts and agents may trust outputs without the knowledge to question them.",
        "source": "C.3.3", "objective": "C.2.2", "inherent": (3, 3), "option": "modify", "residual": (2, 2),
        "treatments": [("AI literacy training for every role using AI", ["A.4.6", "A.3.2"], Status.IN_PROGRESS, 90)],
    },
]  # fmt: skip


def _requirement(ref: str) -> Requirement | None:
    return Requirement.objects.filter(framework__code="ISO42001", ref=ref).first()


def risk_demo_seed(organization: Organization, users: dict[str, User]) -> None:
    if Risk.objects.for_org(organization).exists():
        return  # seeded already: keep what people changed
    officer, owner, admin = users["officer"], users["owner"], users["admin"]
    today = timezone.localdate()
    systems = {s.external_id: s for s in AISystem.objects.for_org(organization)}
    services.criteria_for(organization)
    for spec in RISKS:
        risk = Risk(
            organization=organization,
            title=spec["title"],
            description=spec["description"],
            system=systems.get(spec["system"]),
            risk_source=_requirement(spec["source"]),
            objective=_requirement(spec["objective"]),
            owner=owner if spec["system"] else officer,
            inherent_likelihood=spec["inherent"][0],
            inherent_impact=spec["inherent"][1],
            treatment_option=spec["option"],
            next_review_date=today + timedelta(days=90),
        )
        if spec["residual"]:
            risk.residual_likelihood, risk.residual_impact = spec["residual"]
        services.risk_save(instance=risk, acting_user=officer)
        for title, controls, status, due in spec["treatments"]:
            treatment = TreatmentAction(
                organization=organization, risk=risk, title=title, owner=owner, status=status,
                due_date=today + timedelta(days=due),
            )  # fmt: skip
            control_ids = [c.pk for ref in controls if (c := _requirement(ref))]
            services.treatment_save(instance=treatment, acting_user=officer, control_ids=control_ids)
        if spec.get("accept"):
            risk.refresh_from_db()
            services.risk_accept(risk=risk, acting_user=admin, rationale=spec["accept"])
