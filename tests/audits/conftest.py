from __future__ import annotations

import re
from io import BytesIO

import pytest
from pypdf import PdfReader

from registry import services as registry_services
from registry.models import AIModel, AISystem, Dataset, Supplier


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Each test writes packs into its own private directory."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return tmp_path


@pytest.fixture
def inventory(acme, olivia, victor):
    """Three systems with a model, a dataset, a supplier and RACI."""
    save = registry_services.inventory_record_save
    supplier = save(instance=Supplier(organization=acme, name="EuroCloud"), acting_user=olivia)
    dataset = save(instance=Dataset(organization=acme, name="Loans 2019-2025"), acting_user=olivia)
    model = save(instance=AIModel(organization=acme, name="credit-gbm", version="3"), acting_user=olivia)
    registry_services.model_dataset_add(model=model, dataset=dataset, usage="training", acting_user=olivia)
    systems = []
    for n, tier in enumerate(["high", "limited", "minimal"], start=1):
        system = save(
            instance=AISystem(
                organization=acme,
                name=f"System {n}",
                purpose="Decide faster.",
                owner=olivia,
                status="active",
                eu_ai_act_tier=tier,
                tier_rationale="Reasoned.",
                annex_iii_area=5 if tier == "high" else None,
            ),
            acting_user=olivia,
        )
        registry_services.system_models_set(system=system, models=[model], acting_user=olivia)
        registry_services.system_link_add(system=system, target=supplier, acting_user=olivia)
        registry_services.role_assign(system=system, raci="A", member=victor, acting_user=olivia)
        systems.append(system)
    return systems


def pdf_text(content: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(BytesIO(content))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return reader, re.sub(r"\s+", " ", text)


@pytest.fixture
def risk_register(acme, olivia, alice, inventory):
    """Two risks (one treated with two Annex A controls) and an approved impact assessment."""
    from risk.impact import services as impact_services
    from tests.risk.factories import ImpactAssessmentFactory, ImpactItemFactory, RiskFactory, TreatmentActionFactory

    risks = [
        RiskFactory(
            organization=acme,
            title=title,
            system=inventory[0],
            owner=olivia,
            inherent_likelihood=likelihood,
            inherent_impact=impact,
        )
        for title, likelihood, impact in (("Bias against young applicants", 4, 4), ("Drift after retraining", 2, 3))
    ]
    TreatmentActionFactory(
        risk=risks[0], title="Quarterly bias tests", owner=None, acting_user=olivia, control_refs=("A.6.2.4", "A.7.4")
    )

    def fairness_harm(**kwargs):
        return ImpactItemFactory(**kwargs, affected_party="groups", dimension="fairness", severity=3, likelihood=2,
                                 description="Younger applicants refused more often.")  # fmt: skip

    assessment = ImpactAssessmentFactory(
        system=inventory[0], author=olivia, in_review=True, item_factory=fairness_harm,
        conclusion="Benefits outweigh the residual harms.",
    )  # fmt: skip
    impact_services.impact_assessment_approve(assessment=assessment, acting_user=alice)
    return risks
