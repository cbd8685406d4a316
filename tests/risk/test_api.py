"""Risk API: criteria, risks, treatments, impact assessments and items; workflow, roles, tenancy, queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aims.roles import Role
from controls.models import Requirement
from risk import services
from risk.impact import services as impact_services
from risk.models import ImpactAssessment, ImpactItem, Level, Risk, RiskCriteria, TreatmentAction, default_matrix
from tests.aims.factories import MembershipFactory
from tests.registry.factories import AISystemFactory
from tests.risk.factories import ImpactAssessmentFactory, ImpactItemFactory, RiskFactory, TreatmentActionFactory

THREE = [{"label": "Low"}, {"label": "Medium", "description": "Seen elsewhere"}, {"label": "High"}]
JUSTIFICATION = "The service is switched off within the quarter; a workaround covers the remaining weeks."


def url(basename, pk=None, action=None):
    if action is not None:
        return reverse(f"{basename}-{action}", args=[pk])
    return reverse(f"{basename}-detail", args=[pk]) if pk is not None else reverse(f"{basename}-list")


def errors(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}
    return body["errors"]


def catalogue(kind, *refs):
    rows = Requirement.objects.of_framework("ISO42001").filter(kind=kind)
    if refs:
        found = {row.ref: row for row in rows.filter(ref__in=refs)}
        return [found[ref] for ref in refs]
    return list(rows[:2])


@pytest.fixture
def api(api_for, acme, olivia):
    """Olivia's integration token (compliance officer)."""
    return api_for(acme, role=Role.OFFICER, created_by=olivia)


@pytest.fixture
def admin_api(api_for, acme, alice):
    return api_for(acme, role=Role.ADMIN, created_by=alice)


@pytest.fixture
def dana(acme):
    """An AI system owner in Acme."""
    return MembershipFactory(organization=acme, role=Role.OWNER).user


@pytest.fixture
def owner_api(api_for, acme, dana):
    return api_for(acme, role=Role.OWNER, created_by=dana)


@pytest.fixture
def system(acme, olivia):
    return AISystemFactory(organization=acme, owner=olivia, name="Triage assistant")


# --- Criteria ----------------------------------------------------------------------------------


def test_criteria_are_one_object_created_with_defaults(api_for, acme, victor):
    assert not RiskCriteria.objects.for_org(acme).exists()
    response = api_for(acme, role=Role.VIEWER, created_by=victor).get(url("riskcriteria"))
    assert response.status_code == 200
    body = response.json()
    assert len(body["likelihood_levels"]) == 5 and len(body["impact_levels"]) == 5
    assert body["matrix"] == default_matrix() and body["acceptance_threshold"] == "medium"
    criteria = RiskCriteria.objects.for_org(acme).get()
    assert body["id"] == criteria.pk
    assert api_for(acme).get(url("riskcriteria", criteria.pk)).json()["matrix"] == body["matrix"]
    assert RiskCriteria.objects.for_org(acme).count() == 1


def test_criteria_put_rescores_open_risks(api, acme, olivia):
    risk = RiskFactory(organization=acme, owner=olivia, inherent_likelihood=5, inherent_impact=4)
    low = RiskFactory(organization=acme, owner=olivia, inherent_likelihood=1, inherent_impact=1)
    criteria = services.criteria_for(acme)
    response = api.put(
        url("riskcriteria", criteria.pk),
        {
            "likelihood_levels": THREE,
            "impact_levels": THREE,
            "matrix": default_matrix(3, 3),
            "acceptance_threshold": "high",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["rescored"] == 1
    assert body["likelihood_levels"][1] == {"label": "Medium", "description": "Seen elsewhere"}
    assert body["acceptance_threshold"] == "high"
    risk.refresh_from_db()
    assert (risk.inherent_likelihood, risk.inherent_impact, risk.inherent_level) == (3, 3, Level.CRITICAL)
    assert risk.history.first().history_user == olivia
    low.refresh_from_db()
    assert low.inherent_level == Level.LOW
    assert api.get(url("risk", risk.pk)).json()["inherent_likelihood"] == 3


def test_criteria_patch_keeps_fields_not_sent(api, acme):
    criteria = services.criteria_for(acme)
    response = api.patch(url("riskcriteria", criteria.pk), {"acceptance_threshold": "low"}, format="json")
    assert response.status_code == 200
    assert response.json()["rescored"] == 0 and response.json()["acceptance_threshold"] == "low"
    criteria.refresh_from_db()
    assert criteria.acceptance_threshold == Level.LOW and len(criteria.likelihood_levels) == 5


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"likelihood_levels": THREE[:2], "matrix": default_matrix(2, 5)}, "likelihood_levels"),
        ({"impact_levels": [*THREE, *THREE]}, "impact_levels"),
        ({"likelihood_levels": [{"label": " "}, *THREE]}, "likelihood_levels"),
        ({"likelihood_levels": "three"}, "likelihood_levels"),
        ({"likelihood_levels": THREE}, "matrix"),  # a 5 x 5 matrix no longer fits
        ({"matrix": [["low"] * 5] * 4}, "matrix"),
        ({"matrix": [["low"] * 4 + ["extreme"]] * 5}, "matrix"),
        ({"matrix": "low"}, "matrix"),
        ({"acceptance_threshold": "tiny"}, "acceptance_threshold"),
    ],
)
def test_criteria_validation_errors_are_field_errors(api, acme, payload, field):
    criteria = services.criteria_for(acme)
    response = api.patch(url("riskcriteria", criteria.pk), payload, format="json")
    assert field in errors(response)
    criteria.refresh_from_db()
    assert len(criteria.likelihood_levels) == 5 and criteria.matrix == default_matrix()


def test_criteria_put_needs_every_field(api, acme):
    criteria = services.criteria_for(acme)
    missing = errors(api.put(url("riskcriteria", criteria.pk), {"acceptance_threshold": "low"}, format="json"))
    assert {"likelihood_levels", "impact_levels", "matrix"} <= set(missing)


@pytest.mark.parametrize("role", [Role.OWNER, Role.AUDITOR, Role.VIEWER])
def test_criteria_change_needs_approve(api_for, acme, role):
    criteria = services.criteria_for(acme)
    client = api_for(acme, role=role)
    assert client.get(url("riskcriteria")).status_code == 200
    assert client.patch(url("riskcriteria", criteria.pk), {"acceptance_threshold": "low"}).status_code == 403
    criteria.refresh_from_db()
    assert criteria.acceptance_threshold == Level.MEDIUM


def test_criteria_of_another_organisation_are_not_found(api, globex, charlie, api_for):
    theirs = services.criteria_for(globex)
    assert api.get(url("riskcriteria", theirs.pk)).status_code == 404
    assert api.patch(url("riskcriteria", theirs.pk), {"acceptance_threshold": "low"}).status_code == 404
    assert api.put(url("riskcriteria", theirs.pk), {"acceptance_threshold": "low"}).status_code == 404
    assert api.get(url("riskcriteria")).json()["id"] != theirs.pk
    theirs.refresh_from_db()
    assert theirs.acceptance_threshold == Level.MEDIUM


# --- Risks -------------------------------------------------------------------------------------


def test_risk_crud(api, acme, olivia, alice, system):
    source, objective = catalogue("risk_source")[0], catalogue("ai_objective")[0]
    created = api.post(
        url("risk"),
        {
            "title": "Unfair triage of non-native speakers",
            "description": "Language bias in the intake model.",
            "system": system.pk,
            "risk_source": source.pk,
            "objective": objective.pk,
            "owner": alice.pk,
            "inherent_likelihood": 4,
            "inherent_impact": 5,
            "ref_code": "MINE-1",  # read-only: ignored
            "next_review_date": "2030-01-31",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["ref_code"] == "RSK-0001"
    assert body["system"] == system.pk and body["system_ref"] == system.ref_code
    assert body["risk_source"] == source.pk and body["risk_source_ref"] == source.ref
    assert body["objective_ref"] == objective.ref and body["owner"] == alice.pk
    assert body["inherent_level"] == "critical" and body["current_level"] == "critical"
    assert body["status"] == "assessed" and body["treatments"] == [] and body["review_overdue"] is False
    assert "organization" not in body
    risk = Risk.objects.get(pk=body["id"])
    assert risk.organization == acme and risk.history.get().history_user == olivia

    changed = api.patch(
        url("risk", risk.pk),
        {"treatment_option": "modify", "residual_likelihood": 2, "residual_impact": 2},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["residual_level"] == "low" and changed.json()["current_level"] == "low"
    assert changed.json()["inherent_level"] == "critical"
    assert api.get(url("risk", risk.pk)).json()["title"] == "Unfair triage of non-native speakers"
    assert api.get(url("risk")).json()["count"] == 1

    assert api.delete(url("risk", risk.pk)).status_code == 204
    assert not Risk.objects.filter(pk=risk.pk).exists()
    assert Risk.history.filter(id=risk.pk, history_type="-").get().history_user == olivia


def test_risk_owner_defaults_to_the_system_owner_then_the_caller(api, acme, olivia, alice):
    system = AISystemFactory(organization=acme, owner=alice)
    on_system = api.post(url("risk"), {"title": "A", "system": system.pk}, format="json")
    assert on_system.json()["owner"] == alice.pk
    org_level = api.post(url("risk"), {"title": "B"}, format="json")
    assert org_level.status_code == 201 and org_level.json()["owner"] == olivia.pk
    assert org_level.json()["system"] is None and org_level.json()["status"] == "identified"


def test_risk_validation_errors(api, acme, olivia):
    control = catalogue("control", "A.6.2.6")[0]
    source = catalogue("risk_source")[0]
    cases = [
        ({"title": ""}, "title"),
        ({"title": "X", "risk_source": control.pk}, "risk_source"),
        ({"title": "X", "objective": source.pk}, "objective"),
        ({"title": "X", "risk_source": 999999}, "risk_source"),
        ({"title": "X", "inherent_likelihood": 6, "inherent_impact": 2}, "inherent_likelihood"),
        ({"title": "X", "inherent_likelihood": 2}, "inherent_impact"),
        ({"title": "X", "residual_likelihood": 1, "residual_impact": 1}, "treatment_option"),
        ({"title": "X", "status": "accepted", "inherent_likelihood": 1, "inherent_impact": 1}, "status"),
        ({"title": "X", "status": "forgotten"}, "status"),
        ({"title": "X", "owner": None}, "owner"),
    ]
    for payload, field in cases:
        assert field in errors(api.post(url("risk"), payload, format="json")), payload
    assert not Risk.objects.exists()

    risk = RiskFactory(organization=acme, owner=olivia, inherent_likelihood=1, inherent_impact=1)
    response = api.patch(url("risk", risk.pk), {"status": "accepted"}, format="json")
    assert "accept" in errors(response)["status"][0].lower()
    risk.refresh_from_db()
    assert risk.status == Risk.Status.ASSESSED


def test_risk_refuses_another_organisations_ids(api, acme, globex, charlie, olivia):
    theirs = AISystemFactory(organization=globex)
    mine = RiskFactory(organization=acme, owner=olivia)
    assert "system" in errors(api.post(url("risk"), {"title": "X", "system": theirs.pk}, format="json"))
    assert "owner" in errors(api.post(url("risk"), {"title": "X", "owner": charlie.pk}, format="json"))
    assert "system" in errors(api.patch(url("risk", mine.pk), {"system": theirs.pk}, format="json"))
    unknown = errors(api.post(url("risk"), {"title": "X", "system": 999999}, format="json"))["system"]
    foreign = errors(api.post(url("risk"), {"title": "X", "system": theirs.pk}, format="json"))["system"]
    # The same answer as for an id that does not exist: nothing tells that it does.
    assert unknown[0].replace("999999", "N") == foreign[0].replace(str(theirs.pk), "N")


def test_risk_list_shows_treatments_with_control_refs(api, acme, olivia, system):
    risk = RiskFactory(organization=acme, owner=olivia, system=system, inherent_likelihood=3, inherent_impact=3)
    TreatmentActionFactory(risk=risk, owner=olivia, control_refs=("A.6.2.6", "A.6.2.4"), due_date=timezone.localdate())
    row = api.get(url("risk")).json()["results"][0]
    assert row["status"] == "in_treatment"
    [treatment] = row["treatments"]
    assert treatment["title"] == "Drift monitoring" and treatment["status"] == "planned"
    assert treatment["controls"] == ["A.6.2.4", "A.6.2.6"]
    assert treatment["due_date"] == timezone.localdate().isoformat()


def _add_risks(acme, owner, count):
    source, objective = catalogue("risk_source")[0], catalogue("ai_objective")[0]
    for n in range(count):
        system = AISystemFactory(organization=acme, owner=owner)
        risk = RiskFactory(
            organization=acme, owner=owner, title=f"Risk {n}", system=system, risk_source=source, objective=objective,
            inherent_likelihood=1 + n % 5, inherent_impact=1 + n % 3,
        )  # fmt: skip
        TreatmentActionFactory(risk=risk, owner=owner, control_refs=("A.6.2.6", "A.7.4"))
        TreatmentActionFactory(risk=risk, owner=owner, control_refs=("A.9.2",), title="Human review")


def _list_queries(api_for, acme):
    client = api_for(acme)
    cache.clear()  # the risks were added in the test's transaction, whose commit never comes
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url("risk"), {"page_size": 100})
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()["count"]


def test_risk_list_costs_the_same_queries_for_5_and_30_risks(api_for, acme, olivia):
    _add_risks(acme, olivia, 5)
    few, count = _list_queries(api_for, acme)
    assert count == 5
    _add_risks(acme, olivia, 25)
    many, count = _list_queries(api_for, acme)
    assert count == 30
    assert many == few


def _add_assessments(acme, owner, count):
    for _ in range(count):
        system = AISystemFactory(organization=acme, owner=owner)
        assessment = impact_services.impact_assessment_start(system=system, acting_user=owner)
        harm = ImpactItemFactory(assessment=assessment, acting_user=owner)
        ImpactItemFactory(assessment=assessment, acting_user=owner, nature=ImpactItem.Nature.BENEFIT)
        impact_services.impact_item_raise_risk(item=harm, acting_user=owner)  # items show their risk's reference


@pytest.mark.parametrize("basename", ["treatment", "impactassessment", "impactitem"])
def test_other_lists_cost_the_same_queries_for_few_and_many_rows(api_for, acme, olivia, basename):
    _add_risks(acme, olivia, 3)
    _add_assessments(acme, olivia, 3)
    client = api_for(acme)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(basename), {"page_size": 100}).status_code == 200
    _add_risks(acme, olivia, 12)
    _add_assessments(acme, olivia, 12)
    client = api_for(acme)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url(basename), {"page_size": 100})
    assert response.json()["count"] >= 15
    assert len(many.captured_queries) == len(few.captured_queries)


def test_risk_filters(api, acme, globex, olivia, alice):
    today = timezone.localdate()
    mine, other = AISystemFactory(organization=acme), AISystemFactory(organization=acme)
    critical = RiskFactory(
        organization=acme, owner=olivia, title="Critical one", system=mine, inherent_likelihood=5, inherent_impact=5
    )
    treated = RiskFactory(
        organization=acme, owner=alice, title="Treated one", system=other, inherent_likelihood=5, inherent_impact=5,
        treatment_option="modify", residual_likelihood=1, residual_impact=1,
        next_review_date=today - timedelta(days=1),
    )  # fmt: skip
    closed = RiskFactory(
        organization=acme,
        owner=alice,
        title="Closed one",
        status=Risk.Status.CLOSED,
        next_review_date=today - timedelta(days=3),
    )
    future = RiskFactory(
        organization=acme, owner=olivia, title="Later one", next_review_date=today + timedelta(days=30)
    )

    def ids(**params):
        response = api.get(url("risk"), params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(level="critical") == {critical.pk}  # current level: residual once assessed
    assert ids(level=["critical", "low"]) == {critical.pk, treated.pk}
    assert ids(inherent_level="critical") == {critical.pk, treated.pk}
    assert ids(status="closed") == {closed.pk}
    assert ids(status=["identified", "closed"]) == {closed.pk, future.pk}
    assert ids(system=mine.pk) == {critical.pk}
    assert ids(owner=alice.pk) == {treated.pk, closed.pk}
    assert ids(overdue="true") == {treated.pk}
    assert ids(overdue="false") == {critical.pk, closed.pk, future.pk}
    assert ids(q="treated") == {treated.pk}
    assert ids(organisation_level="true") == {closed.pk, future.pk}
    titles = [row["title"] for row in api.get(url("risk"), {"ordering": "-title"}).json()["results"]]
    assert titles == sorted(titles, reverse=True)

    theirs = AISystemFactory(organization=globex)
    assert "system" in errors(api.get(url("risk"), {"system": theirs.pk}))
    assert "level" in errors(api.get(url("risk"), {"level": "extreme"}))


def test_risk_list_is_paginated(api, acme, olivia):
    for n in range(5):
        RiskFactory(organization=acme, owner=olivia, title=f"Risk {n}")
    first = api.get(url("risk"), {"page_size": 2}).json()
    assert first["count"] == 5 and len(first["results"]) == 2 and first["next"] and first["previous"] is None
    last = api.get(url("risk"), {"page_size": 2, "page": 3}).json()
    assert [row["ref_code"] for row in last["results"]] == ["RSK-0005"] and last["next"] is None
    assert api.get(url("risk"), {"page_size": 2, "page": 9}).status_code == 404


def test_accept_within_threshold(api, acme, olivia):
    risk = RiskFactory(organization=acme, owner=olivia, inherent_likelihood=2, inherent_impact=2)
    assert "rationale" in errors(api.post(url("risk", risk.pk, "accept"), {}, format="json"))
    response = api.post(url("risk", risk.pk, "accept"), {"rationale": "Low and monitored."}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "accepted" and body["accepted_by"] == olivia.pk and body["accepted_at"]
    assert body["acceptance_rationale"] == "Low and monitored." and body["acceptance_override"] is False


def test_accept_above_threshold_needs_a_justified_override(api, acme, olivia):
    risk = RiskFactory(organization=acme, owner=olivia, inherent_likelihood=4, inherent_impact=5)
    accept = url("risk", risk.pk, "accept")
    assert "override" in errors(api.post(accept, {"rationale": JUSTIFICATION}, format="json"))
    assert "rationale" in errors(api.post(accept, {"rationale": "Fine.", "override": True}, format="json"))
    risk.refresh_from_db()
    assert risk.status == Risk.Status.ASSESSED
    response = api.post(accept, {"rationale": JUSTIFICATION, "override": True}, format="json")
    assert response.status_code == 200
    assert response.json()["acceptance_override"] is True and response.json()["status"] == "accepted"

    # A new score is no longer covered by the acceptance.
    rescored = api.patch(url("risk", risk.pk), {"inherent_likelihood": 1, "inherent_impact": 1}, format="json")
    assert rescored.status_code == 200
    assert rescored.json()["status"] == "assessed" and rescored.json()["accepted_by"] is None


@pytest.mark.parametrize("role", [Role.OWNER, Role.AUDITOR, Role.VIEWER])
def test_accept_needs_approve(api_for, acme, dana, role):
    risk = RiskFactory(organization=acme, owner=dana, inherent_likelihood=1, inherent_impact=1)  # dana's own risk
    client = api_for(acme, role=role, created_by=dana)
    response = client.post(url("risk", risk.pk, "accept"), {"rationale": "Low."}, format="json")
    assert response.status_code == 403
    risk.refresh_from_db()
    assert risk.status == Risk.Status.ASSESSED


def test_owner_changes_only_own_risks(owner_api, acme, dana, olivia):
    created = owner_api.post(url("risk"), {"title": "Mine"}, format="json")
    assert created.status_code == 201 and created.json()["owner"] == dana.pk
    mine = created.json()["id"]
    assert owner_api.patch(url("risk", mine), {"title": "Still mine"}, format="json").status_code == 200

    # Handing it to someone else would leave the owner unable to change it: refused.
    assert owner_api.patch(url("risk", mine), {"owner": olivia.pk}, format="json").status_code == 403
    assert Risk.objects.get(pk=mine).owner == dana
    assert owner_api.post(url("risk"), {"title": "For her", "owner": olivia.pk}, format="json").status_code == 403

    hers = RiskFactory(organization=acme, owner=olivia, title="Hers")
    assert owner_api.get(url("risk", hers.pk)).status_code == 200
    assert owner_api.patch(url("risk", hers.pk), {"title": "Taken"}, format="json").status_code == 403
    assert owner_api.delete(url("risk", hers.pk)).status_code == 403
    hers.refresh_from_db()
    assert hers.title == "Hers"

    # A risk of a system the owner owns is theirs to change, whoever owns the risk.
    on_my_system = RiskFactory(organization=acme, owner=olivia, system=AISystemFactory(organization=acme, owner=dana))
    assert owner_api.patch(url("risk", on_my_system.pk), {"title": "Mine too"}, format="json").status_code == 200
    assert owner_api.delete(url("risk", mine)).status_code == 204


# --- Treatments --------------------------------------------------------------------------------


def test_treatment_crud_with_controls_and_refs(api, acme, olivia, alice):
    risk = RiskFactory(organization=acme, owner=olivia, inherent_likelihood=4, inherent_impact=4)
    a626, a74, a92 = catalogue("control", "A.6.2.6", "A.7.4", "A.9.2")
    created = api.post(
        url("treatment"),
        {"risk": risk.pk, "title": "Drift monitoring", "due_date": "2030-06-30", "control_refs": ["A.6.2.6", "A.7.4"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["controls"] == [a626.pk, a74.pk] and body["control_refs"] == ["A.6.2.6", "A.7.4"]
    assert body["owner"] == olivia.pk and body["status"] == "planned" and body["overdue"] is False
    risk.refresh_from_db()
    assert risk.status == Risk.Status.IN_TREATMENT
    treatment = TreatmentAction.objects.get(pk=body["id"])
    assert treatment.organization == acme

    changed = api.patch(url("treatment", treatment.pk), {"controls": [a92.pk], "owner": alice.pk}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["control_refs"] == ["A.9.2"] and changed.json()["owner"] == alice.pk
    untouched = api.patch(url("treatment", treatment.pk), {"status": "in_progress"}, format="json")
    assert untouched.json()["controls"] == [a92.pk] and untouched.json()["status"] == "in_progress"
    assert api.get(url("risk", risk.pk)).json()["treatments"][0]["controls"] == ["A.9.2"]

    assert api.delete(url("treatment", treatment.pk)).status_code == 204
    assert not TreatmentAction.objects.filter(pk=treatment.pk).exists()


def test_treatment_validation_errors(api, acme, globex, olivia):
    risk = RiskFactory(organization=acme, owner=olivia)
    other_risk = RiskFactory(organization=acme, owner=olivia, title="Other")
    theirs = RiskFactory(organization=globex, owner=MembershipFactory(organization=globex).user)
    source = catalogue("risk_source")[0]
    base = {"risk": risk.pk, "title": "Review"}
    assert "control_refs" in errors(api.post(url("treatment"), {**base, "control_refs": ["A.99.1"]}, format="json"))
    assert "control_refs" in errors(api.post(url("treatment"), {**base, "control_refs": "A.6.2.6"}, format="json"))
    assert "controls" in errors(api.post(url("treatment"), {**base, "controls": [source.pk]}, format="json"))
    assert "controls" in errors(api.post(url("treatment"), {**base, "controls": ["x"]}, format="json"))
    both = {**base, "controls": [], "control_refs": ["A.6.2.6"]}
    assert "control_refs" in errors(api.post(url("treatment"), both, format="json"))
    assert "risk" in errors(api.post(url("treatment"), {**base, "risk": theirs.pk}, format="json"))
    assert "risk" in errors(api.post(url("treatment"), {"title": "No risk"}, format="json"))
    assert "status" in errors(api.post(url("treatment"), {**base, "status": "someday"}, format="json"))
    assert not TreatmentAction.objects.exists()

    treatment = TreatmentActionFactory(risk=risk, owner=olivia)
    assert "risk" in errors(api.patch(url("treatment", treatment.pk), {"risk": other_risk.pk}, format="json"))


def test_treatment_filters(api, acme, olivia, alice):
    risk, other = (
        RiskFactory(organization=acme, owner=olivia),
        RiskFactory(organization=acme, owner=olivia, title="Other"),
    )
    late = TreatmentActionFactory(risk=risk, owner=olivia, due_date=timezone.localdate() - timedelta(days=2))
    done_late = TreatmentActionFactory(
        risk=risk, owner=alice, due_date=timezone.localdate() - timedelta(days=2), status=TreatmentAction.Status.DONE
    )
    elsewhere = TreatmentActionFactory(risk=other, owner=olivia)

    def ids(**params):
        return {row["id"] for row in api.get(url("treatment"), params).json()["results"]}

    assert ids(risk=risk.pk) == {late.pk, done_late.pk}
    assert ids(overdue="true") == {late.pk}
    assert ids(overdue="false") == {done_late.pk, elsewhere.pk}
    assert ids(owner=alice.pk) == {done_late.pk}
    assert ids(status="done") == {done_late.pk}


def test_owner_changes_treatments_of_own_risks_only(owner_api, acme, dana, olivia):
    mine = RiskFactory(organization=acme, owner=dana, title="Mine")
    hers = RiskFactory(organization=acme, owner=olivia, title="Hers")
    created = owner_api.post(url("treatment"), {"risk": mine.pk, "title": "Fix it"}, format="json")
    assert created.status_code == 201 and created.json()["owner"] == dana.pk
    assert owner_api.post(url("treatment"), {"risk": hers.pk, "title": "Meddle"}, format="json").status_code == 403
    theirs = TreatmentActionFactory(risk=hers, owner=olivia)
    assert owner_api.patch(url("treatment", theirs.pk), {"title": "Meddle"}, format="json").status_code == 403
    assert owner_api.delete(url("treatment", theirs.pk)).status_code == 403
    # A treatment the owner carries out is theirs to update, even on someone else's risk.
    assigned = TreatmentActionFactory(risk=hers, owner=dana, title="Assigned to dana")
    assert owner_api.patch(url("treatment", assigned.pk), {"status": "done"}, format="json").status_code == 200


# --- Impact assessments and items --------------------------------------------------------------


def test_impact_assessment_workflow_through_the_api(api, admin_api, acme, olivia, alice, system):
    created = api.post(url("impactassessment"), {"system": system.pk}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["version"] == 1 and body["status"] == "draft" and body["author"] == olivia.pk
    assert body["system"] == system.pk and body["system_ref"] == system.ref_code and body["items"] == []
    assert body["system_information"]["name"] == "Triage assistant"
    pk = body["id"]

    not_ready = errors(api.post(url("impactassessment", pk, "submit")))
    assert {"non_field_errors", "conclusion"} <= set(not_ready)

    item = api.post(
        url("impactitem"),
        {
            "assessment": pk,
            "affected_party": "individuals",
            "dimension": "fairness",
            "description": "Lower triage priority for non-native speakers.",
            "severity": 4,
            "likelihood": 3,
            "measures": "Language-balanced evaluation set.",
        },
        format="json",
    )
    assert item.status_code == 201, item.content
    assert item.json()["order"] == 1 and item.json()["nature"] == "harm" and item.json()["risk"] is None
    patched = api.patch(url("impactassessment", pk), {"conclusion": "Acceptable with measures."}, format="json")
    assert patched.status_code == 200 and patched.json()["conclusion"] == "Acceptable with measures."
    assert [i["description"] for i in patched.json()["items"]] == ["Lower triage priority for non-native speakers."]

    submitted = api.post(url("impactassessment", pk, "submit"))
    assert submitted.status_code == 200 and submitted.json()["status"] == "in_review"
    assert submitted.json()["submitted_at"]
    # Only drafts change.
    assert "non_field_errors" in errors(api.patch(url("impactassessment", pk), {"scope": "x"}, format="json"))
    assert "non_field_errors" in errors(api.patch(url("impactitem", item.json()["id"]), {"severity": 1}))

    assert "comment" in errors(admin_api.post(url("impactassessment", pk, "return"), {}, format="json"))
    returned = admin_api.post(url("impactassessment", pk, "return"), {"comment": "Add privacy."}, format="json")
    assert returned.status_code == 200
    assert returned.json()["status"] == "draft" and returned.json()["review_comment"] == "Add privacy."
    assert api.post(url("impactassessment", pk, "submit")).status_code == 200

    own = errors(api.post(url("impactassessment", pk, "approve")))  # olivia wrote it
    assert "author" in own["non_field_errors"][0]
    approved = admin_api.post(url("impactassessment", pk, "approve"))
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved" and approved.json()["approved_by"] == alice.pk
    assert approved.json()["approved_at"]
    assert "non_field_errors" in errors(api.delete(url("impactassessment", pk)))

    # Creating again starts the next version from the approved one.
    again = api.post(url("impactassessment"), {"system": system.pk}, format="json")
    assert again.status_code == 201
    assert again.json()["version"] == 2 and len(again.json()["items"]) == 1
    refused = errors(api.post(url("impactassessment", pk, "new-version")))  # v2 is a draft now
    assert "non_field_errors" in refused


def test_new_version_action_copies_items_and_supersedes_on_approval(api, admin_api, acme, olivia, system):
    first = ImpactAssessmentFactory(system=system, author=olivia, in_review=True)
    impact_services.impact_assessment_approve(assessment=first, acting_user=MembershipFactory(organization=acme).user)
    response = api.post(url("impactassessment", first.pk, "new-version"))
    assert response.status_code == 201, response.content
    second = response.json()
    assert second["version"] == 2 and second["status"] == "draft" and len(second["items"]) == 1
    assert second["items"][0]["id"] != first.items.get().pk
    assert second["conclusion"] == first.conclusion

    assert api.post(url("impactassessment", second["id"], "submit")).status_code == 200
    assert admin_api.post(url("impactassessment", second["id"], "approve")).status_code == 200
    first.refresh_from_db()
    assert first.status == ImpactAssessment.Status.SUPERSEDED
    statuses = {row["version"]: row["status"] for row in api.get(url("impactassessment")).json()["results"]}
    assert statuses == {1: "superseded", 2: "approved"}


def test_draft_assessment_can_be_deleted(api, acme, olivia, system):
    assessment = impact_services.impact_assessment_start(system=system, acting_user=olivia)
    item = ImpactItemFactory(assessment=assessment, acting_user=olivia)
    assert api.delete(url("impactassessment", assessment.pk)).status_code == 204
    assert not ImpactAssessment.objects.filter(pk=assessment.pk).exists()
    assert not ImpactItem.objects.filter(pk=item.pk).exists()
    assert ImpactAssessment.history.filter(id=assessment.pk, history_type="-").get().history_user == olivia


def test_impact_assessment_put_is_not_offered(api, acme, olivia, system):
    assessment = impact_services.impact_assessment_start(system=system, acting_user=olivia)
    assert api.put(url("impactassessment", assessment.pk), {"title": "x"}, format="json").status_code == 405


def test_impact_assessment_refuses_other_organisations_systems(api, globex):
    theirs = AISystemFactory(organization=globex)
    assert "system" in errors(api.post(url("impactassessment"), {"system": theirs.pk}, format="json"))
    assert "system" in errors(api.post(url("impactassessment"), {}, format="json"))
    assert not ImpactAssessment.objects.exists()


def test_impact_assessment_filters(api, acme, olivia, system):
    other = AISystemFactory(organization=acme)
    draft = impact_services.impact_assessment_start(system=other, acting_user=olivia)
    in_review = ImpactAssessmentFactory(system=system, author=olivia, in_review=True)

    def ids(**params):
        response = api.get(url("impactassessment"), params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(status="draft") == {draft.pk}
    assert ids(status=["draft", "in_review"]) == {draft.pk, in_review.pk}
    assert ids(system=system.pk) == {in_review.pk}
    assert ids(search=other.ref_code) == {draft.pk}
    items = api.get(url("impactitem"), {"assessment": in_review.pk}).json()
    assert items["count"] == 1 and items["results"][0]["assessment"] == in_review.pk


def test_impact_items_crud_and_draft_rule(api, acme, olivia, globex, system):
    assessment = impact_services.impact_assessment_start(system=system, acting_user=olivia)
    payload = {"assessment": assessment.pk, "affected_party": "society", "dimension": "misuse", "description": "Spam"}
    created = api.post(url("impactitem"), payload, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert api.patch(url("impactitem", pk), {"severity": 3}, format="json").json()["severity"] == 3
    assert "severity" in errors(api.patch(url("impactitem", pk), {"severity": 9}, format="json"))
    assert "dimension" in errors(api.post(url("impactitem"), {**payload, "dimension": "mood"}, format="json"))

    other = impact_services.impact_assessment_start(system=AISystemFactory(organization=acme), acting_user=olivia)
    assert "assessment" in errors(api.patch(url("impactitem", pk), {"assessment": other.pk}, format="json"))
    theirs = impact_services.impact_assessment_start(
        system=AISystemFactory(organization=globex), acting_user=MembershipFactory(organization=globex).user
    )
    foreign = errors(api.post(url("impactitem"), {**payload, "assessment": theirs.pk}, format="json"))
    assert "assessment" in foreign and not theirs.items.exists()

    assert api.delete(url("impactitem", pk)).status_code == 204
    in_review = ImpactAssessmentFactory(system=AISystemFactory(organization=acme), author=olivia, in_review=True)
    assert "non_field_errors" in errors(
        api.post(url("impactitem"), {**payload, "assessment": in_review.pk}, format="json")
    )
    locked = in_review.items.get()
    assert "non_field_errors" in errors(api.delete(url("impactitem", locked.pk)))
    assert ImpactItem.objects.filter(pk=locked.pk).exists()


def test_raise_risk_from_an_item(api, acme, olivia, system):
    assessment = impact_services.impact_assessment_start(system=system, acting_user=olivia)
    harm = ImpactItemFactory(assessment=assessment, acting_user=olivia, severity=4, likelihood=3)
    benefit = ImpactItemFactory(assessment=assessment, acting_user=olivia, nature=ImpactItem.Nature.BENEFIT)
    response = api.post(url("impactitem", harm.pk, "raise-risk"))
    assert response.status_code == 201, response.content
    risk = response.json()
    assert risk["system"] == system.pk and risk["owner"] == olivia.pk and risk["ref_code"] == "RSK-0001"
    assert (risk["inherent_likelihood"], risk["inherent_impact"], risk["inherent_level"]) == (4, 5, "critical")
    item = api.get(url("impactitem", harm.pk)).json()
    assert item["risk"] == risk["id"] and item["risk_ref"] == "RSK-0001"
    assert "non_field_errors" in errors(api.post(url("impactitem", harm.pk, "raise-risk")))
    assert "non_field_errors" in errors(api.post(url("impactitem", benefit.pk, "raise-risk")))
    assert Risk.objects.for_org(acme).count() == 1


def test_owner_and_impact_assessments(owner_api, api_for, acme, dana, olivia):
    my_system = AISystemFactory(organization=acme, owner=dana)
    her_system = AISystemFactory(organization=acme, owner=olivia)
    assert owner_api.post(url("impactassessment"), {"system": her_system.pk}, format="json").status_code == 403
    created = owner_api.post(url("impactassessment"), {"system": my_system.pk}, format="json")
    assert created.status_code == 201
    pk = created.json()["id"]
    item = {"assessment": pk, "affected_party": "groups", "dimension": "privacy", "description": "Re-identification"}
    assert owner_api.post(url("impactitem"), item, format="json").status_code == 201
    assert owner_api.patch(url("impactassessment", pk), {"conclusion": "OK."}, format="json").status_code == 200
    assert owner_api.post(url("impactassessment", pk, "submit")).status_code == 200
    # Deciding on an assessment needs the approve capability, even for the system's owner.
    assert owner_api.post(url("impactassessment", pk, "approve")).status_code == 403
    assert owner_api.post(url("impactassessment", pk, "return"), {"comment": "x"}, format="json").status_code == 403
    assert ImpactAssessment.objects.get(pk=pk).status == ImpactAssessment.Status.IN_REVIEW

    hers = impact_services.impact_assessment_start(system=her_system, acting_user=olivia)
    her_item = ImpactItemFactory(assessment=hers, acting_user=olivia)
    assert owner_api.patch(url("impactassessment", hers.pk), {"scope": "x"}, format="json").status_code == 403
    assert owner_api.delete(url("impactassessment", hers.pk)).status_code == 403
    assert owner_api.post(url("impactitem"), {**item, "assessment": hers.pk}, format="json").status_code == 403
    assert owner_api.patch(url("impactitem", her_item.pk), {"severity": 1}, format="json").status_code == 403
    assert owner_api.post(url("impactitem", her_item.pk, "raise-risk")).status_code == 403
    assert owner_api.get(url("impactassessment", hers.pk)).status_code == 200


# --- Roles and tenancy for every resource ------------------------------------------------------


@pytest.fixture
def records(acme, olivia, system):
    """One of everything in Acme; the assessment in review has one item."""
    risk = RiskFactory(organization=acme, owner=olivia, system=system, inherent_likelihood=2, inherent_impact=2)
    treatment = TreatmentActionFactory(risk=risk, owner=olivia, control_refs=("A.6.2.6",))
    assessment = ImpactAssessmentFactory(system=system, author=olivia, in_review=True)
    draft = impact_services.impact_assessment_start(
        system=AISystemFactory(organization=acme, owner=olivia), acting_user=olivia
    )
    draft_item = ImpactItemFactory(assessment=draft, acting_user=olivia)
    return {
        "criteria": services.criteria_for(acme),
        "risk": risk,
        "treatment": treatment,
        "assessment": assessment,
        "draft": draft,
        "item": draft_item,
        "system": system,
    }


def _writes(r):
    """Every write the API offers, as (method, url, body)."""
    item_body = {"assessment": r["draft"].pk, "affected_party": "society", "dimension": "misuse", "description": "x"}
    return [
        ("patch", url("riskcriteria", r["criteria"].pk), {"acceptance_threshold": "low"}),
        ("put", url("riskcriteria", r["criteria"].pk), {"acceptance_threshold": "low"}),
        ("post", url("risk"), {"title": "New"}),
        ("patch", url("risk", r["risk"].pk), {"title": "Changed"}),
        ("put", url("risk", r["risk"].pk), {"title": "Changed"}),
        ("delete", url("risk", r["risk"].pk), None),
        ("post", url("risk", r["risk"].pk, "accept"), {"rationale": "Low."}),
        ("post", url("treatment"), {"risk": r["risk"].pk, "title": "New"}),
        ("patch", url("treatment", r["treatment"].pk), {"title": "Changed"}),
        ("delete", url("treatment", r["treatment"].pk), None),
        ("post", url("impactassessment"), {"system": r["system"].pk}),
        ("patch", url("impactassessment", r["draft"].pk), {"scope": "Changed"}),
        ("delete", url("impactassessment", r["draft"].pk), None),
        ("post", url("impactassessment", r["draft"].pk, "submit"), None),
        ("post", url("impactassessment", r["assessment"].pk, "return"), {"comment": "Redo."}),
        ("post", url("impactassessment", r["assessment"].pk, "approve"), None),
        ("post", url("impactassessment", r["assessment"].pk, "new-version"), None),
        ("post", url("impactitem"), item_body),
        ("patch", url("impactitem", r["item"].pk), {"severity": 1}),
        ("delete", url("impactitem", r["item"].pk), None),
        ("post", url("impactitem", r["item"].pk, "raise-risk"), None),
    ]


def _snapshot(acme):
    return (
        list(Risk.objects.for_org(acme).values_list("pk", "title", "status")),
        list(TreatmentAction.objects.for_org(acme).values_list("pk", "title")),
        list(ImpactAssessment.objects.for_org(acme).values_list("pk", "status", "scope")),
        list(ImpactItem.objects.for_org(acme).values_list("pk", "severity", "risk_id")),
        list(RiskCriteria.objects.for_org(acme).values_list("acceptance_threshold", flat=True)),
    )


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR])
def test_viewers_and_auditors_read_but_every_write_is_forbidden(api_for, acme, records, role):
    client = api_for(acme, role=role)
    for basename in ("risk", "treatment", "impactassessment", "impactitem", "riskcriteria"):
        assert client.get(url(basename)).status_code == 200
    assert client.get(url("risk", records["risk"].pk)).status_code == 200
    before = _snapshot(acme)
    for method, target, body in _writes(records):
        response = getattr(client, method)(target, body, format="json")
        assert response.status_code == 403, (method, target, response.content)
        assert set(response.json()) == {"detail"}
    assert _snapshot(acme) == before


def test_another_organisations_records_are_not_found(api_for, acme, globex, records, charlie):
    """Acme's records seen from Globex (an administrator, who may do everything in their own organisation)."""
    client = api_for(globex, role=Role.ADMIN, created_by=charlie)
    before = _snapshot(acme)
    reads = [
        url("riskcriteria", records["criteria"].pk),
        url("risk", records["risk"].pk),
        url("treatment", records["treatment"].pk),
        url("impactassessment", records["assessment"].pk),
        url("impactitem", records["item"].pk),
    ]
    for target in reads:
        assert client.get(target).status_code == 404, target
    for method, target, body in _writes(records):
        if target.endswith(("/risk-criteria/", "/risks/", "/treatments/", "/impact-assessments/", "/impact-items/")):
            continue  # creations: covered by the payload checks below
        response = getattr(client, method)(target, body, format="json")
        assert response.status_code == 404, (method, target, response.content)
    # Acme's ids in Globex's payloads are unknown ids: field errors.
    assert "risk" in errors(client.post(url("treatment"), {"risk": records["risk"].pk, "title": "x"}, format="json"))
    assert "system" in errors(client.post(url("impactassessment"), {"system": records["system"].pk}, format="json"))
    assert "system" in errors(client.post(url("risk"), {"title": "x", "system": records["system"].pk}, format="json"))
    item_body = {"assessment": records["draft"].pk, "affected_party": "society", "dimension": "misuse"}
    assert "assessment" in errors(client.post(url("impactitem"), {**item_body, "description": "x"}, format="json"))
    # Lists show none of Acme's rows, and Globex gets criteria of its own.
    for basename in ("risk", "treatment", "impactassessment", "impactitem"):
        assert client.get(url(basename)).json()["count"] == 0, basename
    assert client.get(url("riskcriteria")).json()["id"] != records["criteria"].pk
    assert _snapshot(acme) == before
