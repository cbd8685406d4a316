"""An integrator drives the portal through the API with the codes people read on the pages.

An ML pipeline knows its system as ``AIS-0001``, its risks as ``RSK-0001`` and the controls as
``A.6.2.4``; it should never have to download a list to find a numeric id. Each step below
names records by reference only, and the list filters answer to a system's reference.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from aims.roles import Role
from audits.models import Finding, Incident
from registry.models import AISystem, SystemDataset
from risk.impact.models import ImpactAssessment
from risk.models import Risk

pytestmark = pytest.mark.django_db

API = "/api/v1"


def created(response) -> dict:
    assert response.status_code in (200, 201), response.json()
    body: dict = response.json()
    return body


def test_an_integrator_names_every_record_by_its_reference(api_for, acme, olivia, bob):
    api = api_for(acme, role=Role.OFFICER, created_by=olivia)

    # The inventory: a credit-scoring system under Annex III point 5(b), a dataset it reads directly.
    dataset = created(api.post(f"{API}/datasets/", {"external_id": "bureau-2026", "name": "Bureau data"}))
    system = created(api.post(f"{API}/systems/", {
        "name": "Credit scoring", "purpose": "Score loan applications.", "eu_ai_act_tier": "high",
        "tier_rationale": "Creditworthiness of natural persons.", "annex_iii_point": "5(b)",
        "dataset_external_ids": ["bureau-2026"],
    }, format="json"))  # fmt: skip
    assert system["ref_code"] == "AIS-0001" and system["annex_iii_point"] == "5(b)"
    assert system["annex_iii_area"] == 5, "the point sets its area"
    assert system["datasets"] == [dataset["id"]]
    assert SystemDataset.objects.get().system.ref_code == "AIS-0001"
    model = created(api.post(f"{API}/models/", {"name": "Scorecard", "version": "v3"}, format="json"))

    # Risks and treatments by system code, catalogue identifiers and risk code.
    risk = created(api.post(f"{API}/risks/", {
        "title": "Proxy discrimination", "description": "Postcode stands in for ethnicity.", "system": "AIS-0001",
        "risk_source": "C.3.1", "objective": "C.2.1", "owner": olivia.pk,
        "inherent_likelihood": 3, "inherent_impact": 4,
    }, format="json"))  # fmt: skip
    assert risk["system_ref"] == "AIS-0001" and risk["risk_source_ref"] == "C.3.1" and risk["objective_ref"] == "C.2.1"
    created(api.post(f"{API}/treatments/", {
        "risk": risk["ref_code"], "title": "Fairness testing", "owner": olivia.pk, "control_refs": ["A.6.2.4"],
    }, format="json"))  # fmt: skip

    # The impact assessment of the system, for the model version it assessed.
    assessment = created(api.post(f"{API}/impact-assessments/", {"system": "AIS-0001"}, format="json"))
    updated = created(api.patch(f"{API}/impact-assessments/{assessment['id']}/", {
        "assessed_model": model["id"], "scope": "Retail lending."}, format="json"))  # fmt: skip
    assert updated["assessed_model"] == model["id"] and updated["assessed_model_version"] == "v3"
    pinned = created(api.patch(f"{API}/impact-assessments/{assessment['id']}/", {"assessed_model_version": "v3.1"},
                               format="json"))  # fmt: skip
    assert ImpactAssessment.objects.get().assessed_model_version == pinned["assessed_model_version"] == "v3.1"

    # Monitoring, incidents, evidence and audit findings, all naming the system by its code.
    metric = created(api.post(f"{API}/metrics/", {
        "system": "AIS-0001", "key": "approval_gap", "name": "Approval rate gap", "kind": "fairness_gap",
        "direction": "lower", "target": 0.05, "alert_threshold": 0.1, "expected_every_minutes": 1440,
    }, format="json"))  # fmt: skip
    now = timezone.now()
    batch = api.post(f"{API}/measurements/batch/", {"items": [
        {"system": "AIS-0001", "metric_key": "approval_gap", "measured_at": (now - timedelta(hours=h)).isoformat(),
         "value": 0.03} for h in range(3)]}, format="json")  # fmt: skip
    assert batch.status_code == 200, batch.json()
    created(api.post(f"{API}/incidents/", {
        "system": "AIS-0001", "title": "Scores drifted", "severity": "medium", "description": "Drift after release.",
        "occurred_at": now.isoformat(),
    }, format="json"))  # fmt: skip
    evidence = created(api.post(f"{API}/evidence/", {"title": "Fairness report", "kind": "note", "note": "Passed."}))
    for target, ref in (("system", "AIS-0001"), ("risk", risk["ref_code"]), ("control", "A.6.2.4")):
        created(api.post(f"{API}/evidence/{evidence['id']}/links/", {"target": target, "id": ref}, format="json"))
    programme = created(api.post(f"{API}/audit-programmes/", {"year": 2026, "objectives": "Yearly."}, format="json"))
    audit = created(api.post(f"{API}/audits/", {
        "programme": programme["id"], "title": "Lending audit", "scope": "Credit scoring.", "lead_auditor": bob.pk,
        "criteria_refs": ["A.6.2.4"], "planned_start": "2026-05-04", "planned_end": "2026-05-08",
    }, format="json"))  # fmt: skip
    created(api.post(f"{API}/audits/{audit['id']}/start/"))
    finding = created(api.post(f"{API}/audit-findings/", {
        "audit": audit["id"], "kind": "minor_nc", "title": "No retest", "description": "Not retested after v3.",
        "requirement": "A.6.2.4", "system": "AIS-0001",
    }, format="json"))  # fmt: skip
    assert finding["requirement_ref"] == "A.6.2.4" and finding["system_ref"] == "AIS-0001"

    # A second system, so that each filter below has something to leave out.
    other = created(api.post(f"{API}/systems/", {"name": "Chat assistant", "purpose": "Answer questions."}))
    created(api.post(f"{API}/risks/", {"title": "Hallucination", "system": other["ref_code"], "owner": olivia.pk,
                                       "inherent_likelihood": 2, "inherent_impact": 2}, format="json"))  # fmt: skip
    created(api.post(f"{API}/incidents/", {"system": other["ref_code"], "title": "Wrong answer", "severity": "low",
                                           "description": "A wrong answer.", "occurred_at": now.isoformat()},
                     format="json"))  # fmt: skip

    def listed(route: str, **query) -> int:
        response = api.get(f"{API}/{route}/", query)
        assert response.status_code == 200, response.json()
        return int(response.json()["count"])

    assert listed("risks", system="AIS-0001") == 1 and listed("risks") == 2
    assert listed("incidents", system="AIS-0001") == 1 and listed("incidents") == 2
    assert listed("measurements", system="AIS-0001") == 3 and listed("measurements", system=other["ref_code"]) == 0
    assert listed("metrics", system="AIS-0001") == 1 and metric["system"] == system["id"]
    assert listed("evidence", system="AIS-0001") == 1 and listed("evidence", system=other["ref_code"]) == 0
    assert listed("audit-findings", system="AIS-0001") == 1 and listed("audit-findings", system=other["ref_code"]) == 0
    # An id still works wherever a reference does.
    assert listed("risks", system=system["id"]) == 1
    assert Risk.objects.filter(system__ref_code="AIS-0001").count() == 1
    drifted = Incident.objects.get(title="Scores drifted")
    assert Finding.objects.get().system.ref_code == drifted.system.ref_code == "AIS-0001"


def test_references_of_another_organisation_or_unknown_ones_are_field_errors(api_for, acme, globex, olivia, charlie):
    theirs = AISystem.objects.create(organization=globex, name="Theirs", ref_code="AIS-0001")
    api = api_for(acme, role=Role.OFFICER, created_by=olivia)
    risk = api.post(f"{API}/risks/", {"title": "R", "system": theirs.ref_code, "owner": olivia.pk,
                                      "inherent_likelihood": 1, "inherent_impact": 1}, format="json")  # fmt: skip
    assert risk.status_code == 400 and "AIS-0001" in risk.json()["errors"]["system"][0]
    source = api.post(f"{API}/risks/", {"title": "R", "risk_source": "C.9.9", "owner": olivia.pk,
                                        "inherent_likelihood": 1, "inherent_impact": 1}, format="json")  # fmt: skip
    assert source.status_code == 400 and "C.9.9" in source.json()["errors"]["risk_source"][0]
    # A filter by a code outside the organisation is a field error, never another tenant's rows.
    listed = api.get(f"{API}/risks/", {"system": theirs.ref_code})
    assert listed.status_code == 400 and "system" in listed.json()["errors"]
    assert api.get(f"{API}/measurements/", {"system": "AIS-9999"}).status_code == 400


def test_an_annex_iii_point_must_fit_its_area_and_a_high_risk_tier(api_for, acme, olivia):
    api = api_for(acme, role=Role.OFFICER, created_by=olivia)
    base = {"name": "Hiring", "purpose": "Rank CVs.", "tier_rationale": "Recruitment."}
    mismatch = api.post(f"{API}/systems/", {**base, "eu_ai_act_tier": "high", "annex_iii_area": 5,
                                            "annex_iii_point": "4(a)"}, format="json")  # fmt: skip
    assert mismatch.status_code == 400 and "annex_iii_point" in mismatch.json()["errors"]
    unknown = api.post(f"{API}/systems/", {**base, "eu_ai_act_tier": "high", "annex_iii_point": "9(z)"}, format="json")
    assert unknown.status_code == 400 and "annex_iii_point" in unknown.json()["errors"]
    limited = api.post(f"{API}/systems/", {**base, "eu_ai_act_tier": "limited", "annex_iii_point": "4(a)"},
                       format="json")  # fmt: skip
    assert limited.status_code == 400 and "annex_iii_area" in limited.json()["errors"]
    ok = api.post(f"{API}/systems/", {**base, "eu_ai_act_tier": "high", "annex_iii_point": "4(a)"}, format="json")
    assert ok.status_code == 201 and ok.json()["annex_iii_area"] == 4
