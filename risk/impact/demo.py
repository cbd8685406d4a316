"""Demo impact assessments: an approved one of the credit scoring system, a draft of the chatbot's.

Seeded after the risk register's demo (:mod:`risk.demo`), whose risk a harm is linked to.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from aims.models import Organization, User
from aims.records import record_save
from registry.models import AISystem
from risk.demo import UNFAIR_REFUSALS
from risk.impact import services
from risk.impact.models import ImpactAssessment, ImpactItem
from risk.models import Risk

HARM, BENEFIT = ImpactItem.Nature.HARM, ImpactItem.Nature.BENEFIT


def impact_demo_seed(organization: Organization, users: dict[str, User]) -> None:
    if ImpactAssessment.objects.for_org(organization).exists():
        return  # seeded already: keep what people changed
    officer, owner = users["officer"], users["owner"]
    today = timezone.localdate()
    systems = {s.external_id: s for s in AISystem.objects.for_org(organization)}

    credit = systems.get("sys-credit")
    if credit is not None:
        assessment = services.impact_assessment_start(system=credit, acting_user=owner)
        assessment.conclusion = (
            "Benefits (faster, more consistent decisions) outweigh the residual harms given human review of "
            "refusals, reasons given to applicants and quarterly bias testing."
        )
        assessment.next_review_date = today + timedelta(days=180)
        services.impact_assessment_save(assessment=assessment, acting_user=owner)
        items = [
            ("groups", "fairness", HARM, "Younger applicants refused more often than equally solvent others.", 3, 2,
             "partly", "Bias testing by age band; monotonic constraints; analyst review of refusals."),
            ("individuals", "transparency", HARM, "Applicants cannot understand why they were refused.", 2, 3,
             "reversible", "Top reasons from SHAP values given with every refusal."),
            ("individuals", "economic", BENEFIT, "Decisions within minutes instead of days.", 2, 4, "reversible", ""),
            ("society", "human_rights", HARM, "Access to credit narrowed for groups with thin credit files.", 3, 1,
             "partly", "Alternative data considered only with consent; yearly review with the works council."),
        ]  # fmt: skip
        for party, dimension, nature, description, severity, likelihood, reversibility, measures in items:
            services.impact_item_save(
                item=ImpactItem(
                    organization=organization, assessment=assessment, affected_party=party, dimension=dimension,
                    nature=nature, description=description, severity=severity, likelihood=likelihood,
                    reversibility=reversibility, measures=measures,
                ),
                acting_user=owner,
            )  # fmt: skip
        fairness = assessment.items.get(dimension="fairness")
        fairness.risk = Risk.objects.for_org(organization).filter(title=UNFAIR_REFUSALS).first()
        record_save(fairness, acting_user=owner)
        services.impact_assessment_submit(assessment=assessment, acting_user=owner)
        services.impact_assessment_approve(assessment=assessment, acting_user=officer)

    chatbot = systems.get("sys-chatbot")
    if chatbot is not None and not ImpactAssessment.objects.filter(system=chatbot).exists():
        draft = services.impact_assessment_start(system=chatbot, acting_user=owner)
        services.impact_item_save(
            item=ImpactItem(
                organization=organization, assessment=draft, affected_party="individuals", dimension="misuse",
                nature=HARM, description="Customers act on invented fees or conditions.", severity=2,
                likelihood=3, reversibility="reversible", measures="Grounding and refusal policy; disclaimers.",
            ),
            acting_user=owner,
        )  # fmt: skip
