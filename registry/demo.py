"""A realistic demo inventory: four AI systems with models, datasets, suppliers and RACI."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from registry import services
from registry.models import (
    AIModel,
    AISystem,
    Dataset,
    ModelDataset,
    Resource,
    RoleAssignment,
    Supplier,
)


def _upsert(model, organization, lookup: dict, fields: dict, user):
    obj = model.objects.for_org(organization).filter(**lookup).first()
    if obj is not None and all(getattr(obj, name) == value for name, value in fields.items()):
        return obj  # unchanged: seeding again adds no history
    obj = obj or model(organization=organization, **lookup)
    for name, value in fields.items():
        setattr(obj, name, value)
    return services.inventory_record_save(instance=obj, acting_user=user)


def inventory_demo_seed(organization, users) -> None:
    officer, owner, admin = users["officer"], users["owner"], users["admin"]
    today = timezone.localdate()

    bureau = _upsert(Supplier, organization, {"external_id": "sup-credit-bureau"}, {
        "name": "Nordic Credit Bureau", "kind": Supplier.Kind.DATA,
        "due_diligence_status": Supplier.DueDiligence.APPROVED,
        "due_diligence_date": today - timedelta(days=120), "contract_reference": "CTR-2025-014",
        "organisation_responsibilities": "Lawful basis for each query; accuracy complaints from applicants.",
        "supplier_responsibilities": "Data accuracy, update frequency, notification of data incidents within 48 h.",
    }, officer)  # fmt: skip
    talentsoft = _upsert(Supplier, organization, {"external_id": "sup-hireflow"}, {
        "name": "HireFlow Ltd", "kind": Supplier.Kind.MODEL,
        "due_diligence_status": Supplier.DueDiligence.APPROVED_WITH_CONDITIONS,
        "due_diligence_date": today - timedelta(days=40), "contract_reference": "SaaS-2026-003",
        "organisation_responsibilities": "Human review of every rejection; informing candidates.",
        "supplier_responsibilities": "Bias testing per release, model documentation, EU AI Act provider duties.",
    }, officer)  # fmt: skip
    cloud = _upsert(Supplier, organization, {"external_id": "sup-cloud"}, {
        "name": "EuroCloud Compute", "kind": Supplier.Kind.CLOUD,
        "due_diligence_status": Supplier.DueDiligence.APPROVED,
        "due_diligence_date": today - timedelta(days=300), "contract_reference": "MSA-2024-101",
    }, officer)  # fmt: skip
    llm_vendor = _upsert(Supplier, organization, {"external_id": "sup-llm"}, {
        "name": "Open Weights Foundation", "kind": Supplier.Kind.MODEL,
        "due_diligence_status": Supplier.DueDiligence.IN_PROGRESS,
    }, officer)  # fmt: skip

    loans = _upsert(Dataset, organization, {"external_id": "ds-loans-2019-2025"}, {
        "name": "Loan applications 2019-2025", "purpose": Dataset.Purpose.TRAINING, "source": "Core banking system",
        "provenance": "Extracted monthly from the loan origination database; lineage kept in the data catalogue.",
        "acquisition": "Own customer data, contract and legitimate interest.",
        "quality_checks": "Completeness > 98 %, label audit of 1,000 files, representation by age band and region.",
        "preparation": "Outlier capping, target = default within 12 months.", "contains_personal_data": True,
        "sensitive_data": "None of the special categories; age is used for fairness testing only.",
        "retention": "7 years after the end of the loan", "supplier": None,
    }, officer)  # fmt: skip
    bureau_scores = _upsert(Dataset, organization, {"external_id": "ds-bureau"}, {
        "name": "Credit bureau scores", "purpose": Dataset.Purpose.PRODUCTION, "supplier": bureau,
        "source": "Nordic Credit Bureau API", "contains_personal_data": True, "licence": "Commercial licence",
    }, officer)  # fmt: skip
    holdout = _upsert(Dataset, organization, {"external_id": "ds-loans-holdout"}, {
        "name": "Loan applications hold-out 2025", "purpose": Dataset.Purpose.TEST, "contains_personal_data": True,
        "quality_checks": "Time-based split; drift checked against training data.",
    }, officer)  # fmt: skip
    tickets = _upsert(Dataset, organization, {"external_id": "ds-support-tickets"}, {
        "name": "Support tickets (anonymised)", "purpose": Dataset.Purpose.TRAINING,
        "preparation": "Personal data removed with a named-entity filter; 5 % manually checked.",
        "licence": "Internal",
    }, officer)  # fmt: skip
    sales = _upsert(Dataset, organization, {"external_id": "ds-sales"}, {
        "name": "Daily sales by store", "purpose": Dataset.Purpose.TRAINING, "source": "Data warehouse",
    }, officer)  # fmt: skip

    scorecard = _upsert(AIModel, organization, {"external_id": "mlflow:credit-gbm"}, {
        "name": "credit-default-gbm", "version": "3.2", "kind": AIModel.Kind.CLASSIFICATION,
        "framework": "LightGBM 4.5", "source": AIModel.Source.IN_HOUSE,
        "evaluation_results": "AUC 0.83 on hold-out 2025; approval-rate gap by age band 3.1 %.",
    }, owner)  # fmt: skip
    chat_llm = _upsert(AIModel, organization, {"external_id": "hf:assistant-7b"}, {
        "name": "assistant-7b-instruct", "version": "2026.09", "kind": AIModel.Kind.GENERATIVE,
        "framework": "vLLM", "source": AIModel.Source.OPEN, "supplier": llm_vendor,
    }, owner)  # fmt: skip
    screening = _upsert(AIModel, organization, {"external_id": "hireflow:screen"}, {
        "name": "HireFlow Screen", "version": "5", "kind": AIModel.Kind.RANKING,
        "source": AIModel.Source.THIRD_PARTY, "supplier": talentsoft,
    }, officer)  # fmt: skip
    forecast = _upsert(AIModel, organization, {"external_id": "mlflow:demand"}, {
        "name": "demand-forecast", "version": "1.4", "kind": AIModel.Kind.FORECASTING, "framework": "Prophet",
    }, owner)  # fmt: skip
    for model, dataset, usage in [
        (scorecard, loans, ModelDataset.Usage.TRAINING),
        (scorecard, holdout, ModelDataset.Usage.EVALUATION),
        (scorecard, bureau_scores, ModelDataset.Usage.TRAINING),
        (chat_llm, tickets, ModelDataset.Usage.TRAINING),
        (forecast, sales, ModelDataset.Usage.TRAINING),
    ]:
        services.model_dataset_add(model=model, dataset=dataset, usage=usage, acting_user=owner)

    common = {"status": "active", "lifecycle_stage": "operation"}
    credit = _upsert(AISystem, organization, {"external_id": "sys-credit"}, {
        **common, "name": "Consumer credit scoring", "owner": owner, "business_unit": "Retail lending",
        "purpose": "Estimate the probability of default of consumer loan applicants.",
        "intended_use": "Credit analysts use the score and reasons to decide applications up to EUR 50,000.",
        "foreseeable_misuse": "Using the score for marketing or for employees' own loans.",
        "is_provider": True, "is_producer": True, "deployment_context": "customer_facing",
        "automation_level": "human_in_loop", "human_oversight": "An analyst approves every refusal.",
        "people_decisions": "supports", "personal_data": "Income, employment, credit history, age.",
        "affected_stakeholders": "Loan applicants, analysts, the bank's risk function.",
        "eu_ai_act_tier": "high", "annex_iii_area": 5,
        "tier_rationale": "Creditworthiness assessment of natural persons (Annex III, point 5(b)).",
        "justification": "Consistent decisions and shorter waiting times than manual scoring.",
        "performance_metrics": [{"name": "AUC", "target": "≥ 0.80"}, {"name": "Approval-rate gap", "target": "< 5 %"}],
        "design_choices": "Gradient-boosted trees with monotonic constraints; SHAP reasons for each decision.",
        "next_review_date": today + timedelta(days=60),
    }, officer)  # fmt: skip
    chatbot = _upsert(AISystem, organization, {"external_id": "sys-chatbot"}, {
        **common, "name": "Customer service assistant", "owner": owner, "business_unit": "Customer service",
        "purpose": "Answer customers' questions about accounts and products in the web chat.",
        "intended_use": "Customers ask general questions; account actions are handed to a person.",
        "foreseeable_misuse": "Customers asking for financial advice; prompt injection.",
        "is_provider": True, "deployment_context": "public", "automation_level": "human_on_loop",
        "human_oversight": "Hand-over to an agent on request or low confidence; daily transcript sampling.",
        "eu_ai_act_tier": "limited", "tier_rationale": "Interacts with people: they are told it is an AI (Art. 50).",
        "continuous_learning": False, "next_review_date": today - timedelta(days=10),
    }, officer)  # fmt: skip
    cv = _upsert(AISystem, organization, {"external_id": "sys-cv-screening"}, {
        **common, "name": "CV screening", "owner": officer, "business_unit": "HR",
        "purpose": "Rank applications for open positions.", "is_customer": True, "lifecycle_stage": "deployment",
        "intended_use": "Recruiters use the ranking to prioritise reading; they read every application.",
        "deployment_context": "internal", "automation_level": "assistive", "people_decisions": "supports",
        "personal_data": "CV content, education, work history.", "eu_ai_act_tier": "high", "annex_iii_area": 4,
        "tier_rationale": "Recruitment and selection of persons (Annex III, point 4(a)).",
        "justification": "Bought from HireFlow to cope with 3,000 applications a month.",
        "next_review_date": today + timedelta(days=20),
    }, officer)  # fmt: skip
    demand = _upsert(AISystem, organization, {"external_id": "sys-demand"}, {
        **common, "name": "Demand forecasting", "owner": owner, "business_unit": "Supply chain",
        "purpose": "Forecast daily demand per store to plan stock.", "is_producer": True, "is_customer": True,
        "automation_level": "human_on_loop", "eu_ai_act_tier": "minimal",
        "tier_rationale": "No effect on people's rights; no Annex III use.", "continuous_learning": True,
        "continuous_learning_controls": "Weekly retraining; promoted only if MAPE does not worsen by > 2 points.",
        "performance_metrics": [{"name": "MAPE", "target": "< 12 %"}], "next_review_date": today + timedelta(days=180),
    }, officer)  # fmt: skip

    services.system_models_set(system=credit, models=[scorecard], acting_user=officer)
    services.system_models_set(system=chatbot, models=[chat_llm], acting_user=officer)
    services.system_models_set(system=cv, models=[screening], acting_user=officer)
    services.system_models_set(system=demand, models=[forecast], acting_user=officer)
    services.system_link_add(system=credit, target=bureau, note="Bureau scores at decision time", acting_user=officer)
    services.system_link_add(system=credit, target=cloud, note="Model hosting", acting_user=officer)
    services.system_link_add(system=cv, target=talentsoft, note="SaaS screening service", acting_user=officer)
    services.system_link_add(system=chatbot, target=cloud, note="GPU inference", acting_user=officer)

    if not credit.resources.exists():
        for kind, name in [
            (Resource.Kind.COMPUTING, "Inference cluster (2 nodes)"),
            (Resource.Kind.HUMAN, "Credit analysts (12) trained on the score"),
            (Resource.Kind.TOOLING, "MLflow registry and SHAP reports"),
        ]:
            services.resource_add(system=credit, kind=kind, name=name, description="", acting_user=officer)
    raci = {
        credit: [("A", admin), ("R", owner), ("C", officer), ("I", users["auditor"])],
        chatbot: [("R", owner), ("C", officer)],  # no Accountable yet: the dashboard shows it
        cv: [("A", officer), ("R", owner)],
        demand: [("A", owner)],
    }
    for system, assignments in raci.items():
        if system.role_assignments.exists():
            continue
        for letter, member in assignments:
            services.role_assign(system=system, raci=letter, member=member, acting_user=officer)
        if system == cv:
            services.role_assign(
                system=system, raci=RoleAssignment.Raci.CONSULTED, external_party="Works council", acting_user=officer
            )
