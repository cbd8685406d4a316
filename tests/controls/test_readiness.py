"""Certification readiness: exact figures per clause and per Annex A area on a known organisation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from controls.models import ApplicabilityStatement, Requirement
from controls.readiness import readiness
from controls.soa import services as soa
from registry import services as registry_services
from registry.models import RoleAssignment
from risk import services as risk_services
from risk.models import Risk, TreatmentAction
from tests.controls.factories import evidence_on
from tests.registry.factories import AISystemFactory
from tests.risk.factories import RiskFactory

JUSTIFICATION = "Decided in the AIMS scoping workshop."
EXCLUDED = {"A.3.3", "A.10.4"}
IMPLEMENTED = {"A.2.2", "A.2.3", "A.3.2", "A.6.2.6"}


def control(ref: str) -> Requirement:
    return Requirement.objects.of_framework("ISO42001").controls().get(ref=ref)


def set_row(org, ref: str, user, **fields) -> None:
    statement = ApplicabilityStatement.objects.for_org(org).select_related("control").get(control__ref=ref)
    for name, value in fields.items():
        setattr(statement, name, value)
    soa.soa_row_update(statement=statement, acting_user=user)


def make_risk(org, user, title: str, likelihood: int, impact: int, system=None) -> Risk:
    return RiskFactory(
        organization=org, owner=user, title=title, system=system, inherent_likelihood=likelihood, inherent_impact=impact
    )


@pytest.fixture
def known(acme, alice):
    """Two active systems (one without an Accountable person), three risks (one critical and untreated),
    all 38 controls decided (2 excluded, 4 implemented, A.2.4 partly), evidence on four controls (one expired)."""
    today = timezone.localdate()
    triage = AISystemFactory(organization=acme, ref_code="AIS-0001", status="active", name="Triage")
    chatbot = AISystemFactory(organization=acme, ref_code="AIS-0002", status="active", name="Chatbot")
    AISystemFactory(organization=acme, ref_code="AIS-0003", status="retired", name="Old scorer")
    registry_services.role_assign(system=triage, raci=RoleAssignment.Raci.ACCOUNTABLE, acting_user=alice, member=alice)

    critical = make_risk(acme, alice, "Wrong triage priority", 5, 5, system=triage)
    make_risk(acme, alice, "Chatbot tone", 1, 1, system=chatbot)
    treated = make_risk(acme, alice, "Model drift", 4, 4)
    risk_services.treatment_save(
        instance=TreatmentAction(organization=acme, risk=treated, owner=alice, title="Drift monitoring"),
        acting_user=alice,
        control_ids=[control("A.6.2.6").pk],
    )

    soa.soa_rows_ensure(acme)
    for statement in ApplicabilityStatement.objects.for_org(acme).select_related("control"):
        ref = statement.control.ref
        statement.applicable = ref not in EXCLUDED
        statement.justification = JUSTIFICATION
        statement.implementation_status = "implemented" if ref in IMPLEMENTED else "not_started"
        soa.soa_row_update(statement=statement, acting_user=alice)
    set_row(acme, "A.2.4", alice, implementation_status="partial")

    evidence_on(acme, "AI policy and monitoring", "A.2.2", "A.6.2.6", "A.6.2.4", valid_until=today + timedelta(days=90))
    evidence_on(acme, "Old roles memo", "A.2.3", valid_until=today - timedelta(days=1))
    return {"triage": triage, "chatbot": chatbot, "critical": critical}


def checks_of(result) -> dict[tuple[str, str], object]:
    return {(check.clause, check.label): check for clause in result.clauses for check in clause.checks}


def area(result, ref: str):
    return next(a for a in result.areas if a.ref == ref)


def figures(a) -> tuple[int, ...]:
    return (a.total, a.decided, a.applicable, a.excluded, a.implemented, a.evidenced, a.score)


def test_annex_a_figures_per_area(known, acme):
    result = readiness(acme)
    assert [a.ref for a in result.areas] == [f"A.{n}" for n in range(2, 11)]
    # total, decided, applicable, excluded, implemented, evidenced, score
    assert figures(area(result, "A.2")) == (3, 3, 3, 0, 2, 1, 67)  # (1 + 2/3 + 1/3) / 3
    assert figures(area(result, "A.3")) == (2, 2, 1, 1, 1, 0, 67)  # (1 + 1 + 0) / 3
    assert figures(area(result, "A.4")) == (5, 5, 5, 0, 0, 0, 33)
    assert figures(area(result, "A.5")) == (4, 4, 4, 0, 0, 0, 33)
    assert figures(area(result, "A.6")) == (9, 9, 9, 0, 1, 2, 44)  # (1 + 1/9 + 2/9) / 3
    assert figures(area(result, "A.7")) == (5, 5, 5, 0, 0, 0, 33)
    assert figures(area(result, "A.8")) == (4, 4, 4, 0, 0, 0, 33)
    assert figures(area(result, "A.9")) == (3, 3, 3, 0, 0, 0, 33)
    assert figures(area(result, "A.10")) == (3, 3, 2, 1, 0, 0, 33)
    assert sum(a.total for a in result.areas) == 38
    assert [what for what, _ in area(result, "A.2").missing] == [
        "A.2.3: no valid evidence",  # its only evidence has expired
        "A.2.4: partially implemented",
        "A.2.4: no valid evidence",
    ]
    assert area(result, "A.2").missing[0][1] == "/controls/soa/A.2.3/"
    assert result.annex_score == 42  # 376 / 9


def test_clause_checks_and_scores(known, acme):
    result = readiness(acme)
    checks = checks_of(result)
    accountable = checks[("5.3", "Every active AI system has an Accountable person")]
    assert not accountable.ok and accountable.detail == "Missing for AIS-0002"
    assert not checks[("5.2", "An approved AI policy is in force")].ok  # evidence on A.2.2 is not a policy
    assert checks[("4.3", "AI systems in scope are recorded in the inventory")].detail == "2 active system(s)"
    assert checks[("6.1.2", "Every active AI system has assessed risks")].ok
    untreated = checks[("6.1.3", "Risks above the acceptance threshold are treated or accepted")]
    assert not untreated.ok and untreated.detail == f"Untreated: {known['critical'].ref_code}"
    assert not checks[("6.1.3", "The Statement of Applicability is approved")].ok
    assessments = checks[("6.1.4", "Every active AI system has an approved impact assessment")]
    assert not assessments.ok and assessments.detail == "Missing for AIS-0001, AIS-0002"
    assert checks[("7.5", "Documented evidence is recorded")].ok
    expired = checks[("7.5", "No evidence has expired")]
    assert not expired.ok and expired.detail == "1 expired item(s)" and expired.url == "/evidence/?status=expired"
    assert all(checks[key].ok for key in checks if key[0] in ("8.2", "8.3"))
    # No approved impact assessment, so none can be past its review: not counted either way.
    reviews = checks[("8.4", "No impact assessment is past its review date")]
    assert not reviews.measured and not reviews.ok

    scores = {clause.ref: clause.score for clause in result.clauses}
    # 4: inventory only (1/4); 5: nothing (0/3); 6: criteria and assessed risks (2/6: no objective, so
    # "none missed" is not counted); 7: evidence recorded (1/3); 8: 2/2; 9: no programme, audit or
    # review (0/3); 10: no nonconformity, corrective or review action yet, nothing counted.
    assert scores == {"4": 25, "5": 0, "6": 33, "7": 33, "8": 100, "9": 0, "10": None}
    assert [c.clause for c in next(c for c in result.clauses if c.ref == "6").missing] == [
        "6.1.3", "6.1.3", "6.1.4", "6.2",
    ]  # fmt: skip
    assert result.clause_score == 32  # 191 / 6, clause 10 not measured
    assert result.overall == 37  # (32 + 42) / 2


def test_clauses_9_and_10_are_answered_by_audits_reviews_and_corrective_actions(known, acme):
    result = readiness(acme)
    nine = next(c for c in result.clauses if c.ref == "9")
    assert [c.clause for c in nine.missing] == ["9.2", "9.2", "9.3"]
    ten = next(c for c in result.clauses if c.ref == "10")
    # Nothing to check yet (no nonconformity, corrective or review action): not a 100 % for free.
    assert ten.score is None and len(ten.checks) == 3 and not any(c.measured for c in ten.checks)


def test_figures_rise_when_a_control_is_implemented_and_evidenced(known, acme, alice):
    set_row(acme, "A.2.4", alice, implementation_status="implemented")
    evidence_on(acme, "Roles memo 2025", "A.2.3", valid_until=timezone.localdate() + timedelta(days=365))
    result = readiness(acme)
    assert figures(area(result, "A.2")) == (3, 3, 3, 0, 3, 2, 89)  # (1 + 1 + 2/3) / 3
    assert [what for what, _ in area(result, "A.2").missing] == ["A.2.4: no valid evidence"]
    assert result.annex_score == 44  # 398 / 9
    # The expired memo is still on record, so 7.5 still fails.
    assert {c.ref: c.score for c in result.clauses}["7"] == 33
    assert result.overall == 38  # (32 + 44) / 2

    registry_services.role_assign(
        system=known["chatbot"], raci=RoleAssignment.Raci.ACCOUNTABLE, acting_user=alice, member=alice
    )
    result = readiness(acme)
    assert {c.ref: c.score for c in result.clauses}["5"] == 33  # Accountable everywhere; no policy, no roles
    assert result.clause_score == 37  # (25 + 33 + 33 + 33 + 100 + 0) / 6, clause 10 not measured
    assert result.overall == 40  # (37 + 44) / 2, rounded half to even


def test_excluding_a_control_takes_it_out_of_implementation_and_evidence(known, acme, alice):
    set_row(acme, "A.2.4", alice, applicable=False, justification="Covered by the group's policy review.")
    assert figures(area(readiness(acme), "A.2")) == (3, 3, 2, 1, 2, 1, 83)  # (1 + 1 + 1/2) / 3


def test_undecided_controls_count_as_missing_decisions(known, acme):
    # A row decided before the justification rule (or imported) without a reason is not decided.
    ApplicabilityStatement.objects.for_org(acme).filter(control__ref="A.9.4").update(justification="")
    ApplicabilityStatement.objects.for_org(acme).filter(control__ref="A.9.3").update(applicable=None)
    a9 = area(readiness(acme), "A.9")
    assert figures(a9) == (3, 1, 1, 0, 0, 0, 11)  # (1/3 + 0 + 0) / 3
    assert [what for what, _ in a9.missing] == [
        "A.9.2: not started",
        "A.9.2: no valid evidence",
        f"A.9.3 {control('A.9.3').title}: decide and justify",
        f"A.9.4 {control('A.9.4').title}: decide and justify",
    ]


def test_readiness_reads_only_the_organisations_own_records(known, acme, globex, charlie):
    evidence_on(globex, "Their expired memo", "A.2.2", valid_until=timezone.localdate() - timedelta(days=3))
    AISystemFactory(organization=globex, status="active")
    mine = readiness(acme)
    assert mine.overall == 37 and figures(area(mine, "A.2")) == (3, 3, 3, 0, 2, 1, 67)
    theirs = readiness(globex)
    assert checks_of(theirs)[("7.5", "No evidence has expired")].detail == "1 expired item(s)"
    assert checks_of(theirs)[("4.3", "AI systems in scope are recorded in the inventory")].detail == (
        "1 active system(s)"
    )
    assert all(a.decided == 0 for a in theirs.areas)
