"""SoA API: rows, versions and their workflow, crosswalks, coverage and readiness; roles, tenancy, queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aims.roles import Role
from controls.models import ApplicabilityStatement, Mapping, Requirement, SoAVersion
from controls.readiness import readiness
from controls.soa import selectors
from controls.soa import services as soa
from risk import services as risk_services
from risk.models import Risk
from tests.aims.factories import MembershipFactory
from tests.controls.factories import EvidenceFactory, EvidenceLinkFactory, evidence_on
from tests.registry.factories import AISystemFactory
from tests.risk.factories import RiskFactory, TreatmentActionFactory

JUSTIFICATION = "Needed for the systems in scope; see the risk register."


def url(basename, key=None, action=None):
    if action is not None:
        return reverse(f"{basename}-{action}", args=[key] if key is not None else [])
    return reverse(f"{basename}-detail", args=[key]) if key is not None else reverse(f"{basename}-list")


def errors(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}
    return body["errors"]


def control(ref: str) -> Requirement:
    return Requirement.objects.of_framework("ISO42001").controls().get(ref=ref)


def stored(org, ref: str) -> ApplicabilityStatement:
    return ApplicabilityStatement.objects.for_org(org).get(control__ref=ref)


def decide_all(org, user) -> None:
    soa.soa_rows_ensure(org)
    for statement in ApplicabilityStatement.objects.for_org(org).select_related("control"):
        statement.applicable, statement.justification = True, JUSTIFICATION
        soa.soa_row_update(statement=statement, acting_user=user)


def risk_relying_on(org, user, *refs: str) -> Risk:
    risk = RiskFactory(organization=org, owner=user, title="Model drift", inherent_likelihood=3, inherent_impact=3)
    TreatmentActionFactory(organization=org, risk=risk, owner=user, title="Drift monitoring", control_refs=refs)
    return risk


@pytest.fixture
def api(api_for, acme, olivia):
    """Olivia's integration token (compliance officer)."""
    return api_for(acme, role=Role.OFFICER, created_by=olivia)


@pytest.fixture
def admin_api(api_for, acme, alice):
    return api_for(acme, role=Role.ADMIN, created_by=alice)


@pytest.fixture
def viewer_api(api_for, acme, victor):
    return api_for(acme, role=Role.VIEWER, created_by=victor)


@pytest.fixture
def auditor_api(api_for, acme, bob):
    return api_for(acme, role=Role.AUDITOR, created_by=bob)


@pytest.fixture
def dana(acme):
    """An AI system owner in Acme."""
    return MembershipFactory(organization=acme, role=Role.OWNER).user


@pytest.fixture
def owner_api(api_for, acme, dana):
    return api_for(acme, role=Role.OWNER, created_by=dana)


@pytest.fixture
def globex_api(api_for, globex, charlie):
    return api_for(globex, role=Role.ADMIN, created_by=charlie)


# --- Rows ----------------------------------------------------------------------------------------


def test_the_list_holds_all_38_rows_created_on_first_read(viewer_api, acme):
    assert not ApplicabilityStatement.objects.for_org(acme).exists()
    response = viewer_api.get(url("soa"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 38 and len(body["results"]) == 38
    first = body["results"][0]
    assert first == {
        "id": stored(acme, "A.2.2").pk,
        "control": "A.2.2",
        "title": control("A.2.2").title,
        "area": "A.2",
        "applicable": None,
        "decision": "undecided",
        "justification": "",
        "implementation_status": "not_started",
        "implementation": "",
        "owner": None,
        "owner_email": None,
        "target_date": None,
        "past_target": False,
        "systems": [],
        "system_ids": [],
        "risk_count": 0,
        "treatment_count": 0,
        "risks": [],
        "risks_url": f"http://testserver/api/v1/risks/?control={control('A.2.2').pk}",
        "evidence_count": 0,
        "valid_evidence_count": 0,
        "updated_at": first["updated_at"],
    }
    assert [r["control"] for r in body["results"]][-3:] == ["A.10.2", "A.10.3", "A.10.4"]
    assert {r["area"] for r in body["results"] if r["control"].startswith("A.6.")} == {"A.6"}
    assert viewer_api.get(url("soa")).json()["count"] == 38
    assert ApplicabilityStatement.objects.for_org(acme).count() == 38


def test_the_list_filters_by_area_decision_and_status(api, acme, olivia):
    decide_all(acme, olivia)
    for ref, applicable, status in (("A.3.3", False, "not_started"), ("A.6.2.6", True, "implemented")):
        statement = stored(acme, ref)
        statement.applicable, statement.implementation_status = applicable, status
        soa.soa_row_update(statement=statement, acting_user=olivia)
    ApplicabilityStatement.objects.for_org(acme).filter(control__ref__in=["A.9.2", "A.9.3"]).update(applicable=None)

    def refs(**params):
        response = api.get(url("soa"), params)
        assert response.status_code == 200, response.content
        return [r["control"] for r in response.json()["results"]]

    assert refs(area="A.6") == ["A.6.1.2", "A.6.1.3", *(f"A.6.2.{n}" for n in range(2, 9))]
    assert refs(area="A.10") == ["A.10.2", "A.10.3", "A.10.4"]  # not A.1.x or A.10 mixed with A.1
    assert refs(decision="excluded") == ["A.3.3"]
    assert refs(decision="undecided") == ["A.9.2", "A.9.3"]
    assert len(refs(decision="applicable")) == 35
    assert refs(implementation_status="implemented") == ["A.6.2.6"]
    assert refs(area="A.9", decision="applicable") == ["A.9.4"]
    assert set(errors(api.get(url("soa"), {"area": "A.1"}))) == {"area"}
    assert set(errors(api.get(url("soa"), {"decision": "maybe"}))) == {"decision"}
    assert set(errors(api.get(url("soa"), {"implementation_status": "done"}))) == {"implementation_status"}


def test_one_row_by_control_identifier_with_risks_systems_and_evidence(api, acme, olivia):
    system = AISystemFactory(organization=acme, ref_code="AIS-0042")
    risk = risk_relying_on(acme, olivia, "A.6.2.6")
    for title, valid_until in (("Drift report", None), ("Old drift report", timezone.localdate() - timedelta(days=1))):
        evidence_on(acme, title, "A.6.2.6", valid_until=valid_until)
    soa.soa_rows_ensure(acme)
    statement = stored(acme, "A.6.2.6")
    statement.applicable, statement.justification = True, JUSTIFICATION
    soa.soa_row_update(statement=statement, acting_user=olivia, systems=[system])

    response = api.get(url("soa", "A.6.2.6"))
    assert response.status_code == 200
    body = response.json()
    assert (body["control"], body["area"], body["decision"]) == ("A.6.2.6", "A.6", "applicable")
    assert (body["risk_count"], body["treatment_count"]) == (1, 1)
    assert body["risks"] == [{"id": risk.pk, "ref": risk.ref_code, "title": "Model drift"}]
    listed = api.get(body["risks_url"]).json()["results"]
    assert [r["ref_code"] for r in listed] == [risk.ref_code]
    assert (body["systems"], body["system_ids"]) == (["AIS-0042"], [system.pk])
    assert (body["evidence_count"], body["valid_evidence_count"]) == (2, 1)
    assert api.get(url("soa", "A.2.2")).json()["control"] == "A.2.2"
    assert api.get(url("soa", "A.99.1")).status_code == 404
    assert api.get(url("soa", "A.6.2")).status_code == 404  # an objective, not a control


def test_a_row_is_changed_through_the_service_and_history_records_who(api, acme, olivia, alice):
    first, second = AISystemFactory(organization=acme), AISystemFactory(organization=acme)
    payload = {
        "applicable": True,
        "justification": JUSTIFICATION,
        "implementation_status": "partial",
        "implementation": "Weekly drift report",
        "owner": alice.pk,
        "target_date": "2026-06-30",
        "systems": [first.pk, second.pk],
    }
    response = api.patch(url("soa", "A.6.2.6"), payload, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["decision"] == "applicable" and body["implementation_status"] == "partial"
    assert (body["owner"], body["owner_email"], body["target_date"]) == (alice.pk, alice.email, "2026-06-30")
    assert body["system_ids"] == sorted([first.pk, second.pk])
    assert body["systems"] == sorted([first.ref_code, second.ref_code])
    statement = stored(acme, "A.6.2.6")
    assert statement.history.latest("history_date").history_user == olivia

    # Fields not sent keep their value; an empty list removes every system.
    response = api.patch(url("soa", "A.6.2.6"), {"systems": []}, format="json")
    assert response.status_code == 200
    assert response.json()["justification"] == JUSTIFICATION and response.json()["systems"] == []
    response = api.patch(url("soa", "A.6.2.6"), {"applicable": False, "justification": "No model we monitor."})
    assert response.json()["decision"] == "excluded"
    assert api.put(url("soa", "A.6.2.6"), payload, format="json").status_code == 405
    assert api.delete(url("soa", "A.6.2.6")).status_code == 405


def test_the_service_rules_answer_400_with_field_errors(api, acme, olivia):
    risk = risk_relying_on(acme, olivia, "A.6.2.6")
    assert "included" in errors(api.patch(url("soa", "A.5.2"), {"applicable": True}))["justification"][0]
    message = errors(api.patch(url("soa", "A.5.2"), {"applicable": False, "justification": " "}))
    assert "excluded" in message["justification"][0]
    refused = errors(api.patch(url("soa", "A.6.2.6"), {"applicable": False, "justification": "Not needed."}))
    assert list(refused) == ["applicable"] and risk.ref_code in refused["applicable"][0]
    assert set(errors(api.patch(url("soa", "A.5.2"), {"implementation_status": "done"}))) == {"implementation_status"}
    assert set(errors(api.patch(url("soa", "A.5.2"), {"target_date": "soon"}))) == {"target_date"}
    assert set(errors(api.patch(url("soa", "A.5.2"), {"systems": "all"}, format="json"))) == {"systems"}
    assert stored(acme, "A.5.2").applicable is None and stored(acme, "A.6.2.6").applicable is None


def test_another_organisations_systems_and_members_are_refused(api, acme, globex, charlie):
    mine, theirs = AISystemFactory(organization=acme), AISystemFactory(organization=globex)
    body = {"applicable": True, "justification": JUSTIFICATION, "systems": [mine.pk, theirs.pk]}
    refused = errors(api.patch(url("soa", "A.6.2.6"), body, format="json"))
    assert refused == {"systems": [f"No AI system with id {theirs.pk} in your organisation."]}
    refused = errors(api.patch(url("soa", "A.6.2.6"), {"owner": charlie.pk}, format="json"))
    assert refused == {"owner": [f"User {charlie.pk} is not a member of your organisation."]}
    statement = stored(acme, "A.6.2.6")
    assert statement.applicable is None and not statement.system_links.exists()


def test_rows_of_another_organisation_are_never_visible_or_changed(api, globex_api, acme, globex, olivia):
    api.patch(url("soa", "A.6.2.6"), {"applicable": True, "justification": "Acme's reason."})
    theirs = globex_api.get(url("soa")).json()["results"]
    assert len(theirs) == 38
    acme_ids = set(ApplicabilityStatement.objects.for_org(acme).values_list("pk", flat=True))
    assert acme_ids and not acme_ids & {r["id"] for r in theirs}
    assert all(r["justification"] == "" for r in theirs)
    row = globex_api.get(url("soa", "A.6.2.6")).json()
    assert row["id"] == stored(globex, "A.6.2.6").pk and row["decision"] == "undecided"
    globex_api.patch(url("soa", "A.6.2.6"), {"applicable": False, "justification": "Globex's reason."})
    assert stored(acme, "A.6.2.6").justification == "Acme's reason."
    assert stored(globex, "A.6.2.6").justification == "Globex's reason."


def test_read_only_roles_cannot_change_rows(viewer_api, auditor_api, acme):
    body = {"applicable": True, "justification": JUSTIFICATION}
    for client in (viewer_api, auditor_api):
        assert client.get(url("soa", "A.5.2")).status_code == 200
        response = client.patch(url("soa", "A.5.2"), body)
        assert response.status_code == 403
        assert response.json() == {"detail": "Your role in this organisation does not allow this."}
    assert stored(acme, "A.5.2").applicable is None


def test_an_ai_system_owner_changes_their_own_rows_and_unowned_ones(owner_api, api, acme, dana, olivia):
    decided = {"applicable": True, "justification": JUSTIFICATION}
    assert api.patch(url("soa", "A.6.2.6"), {**decided, "owner": olivia.pk}).status_code == 200
    response = owner_api.patch(url("soa", "A.6.2.6"), {"implementation": "Mine now"})
    assert response.status_code == 403
    assert "rows you own" in response.json()["detail"]
    assert stored(acme, "A.6.2.6").implementation == ""

    # Nobody owns A.6.2.4 yet: the owner may take it, but not hand it to someone else.
    assert set(errors(owner_api.patch(url("soa", "A.6.2.4"), {**decided, "owner": olivia.pk}))) == {"owner"}
    response = owner_api.patch(url("soa", "A.6.2.4"), {**decided, "owner": dana.pk})
    assert response.status_code == 200 and response.json()["owner"] == dana.pk
    response = owner_api.patch(url("soa", "A.6.2.4"), {"implementation_status": "implemented"})
    assert response.status_code == 200 and response.json()["implementation_status"] == "implemented"
    assert owner_api.patch(url("soa", "A.6.2.5"), decided).status_code == 200  # unowned
    # The officer may still change the owner's row.
    assert api.patch(url("soa", "A.6.2.4"), {"implementation": "Checked"}).status_code == 200


# --- Query count ---------------------------------------------------------------------------------


def _list_queries(client) -> int:
    cache.clear()  # what the list costs to compute, not to read from the cache
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url("soa"))
    assert response.status_code == 200 and response.json()["count"] == 38
    return len(ctx.captured_queries)


def test_the_list_costs_the_same_queries_however_much_hangs_off_the_rows(api, acme, olivia):
    api.get(url("soa"))  # creates the rows and records the token's first use
    bare = _list_queries(api)
    systems = [AISystemFactory(organization=acme) for _ in range(4)]
    today = timezone.localdate()
    for n, statement in enumerate(ApplicabilityStatement.objects.for_org(acme).select_related("control")):
        statement.applicable, statement.justification = True, JUSTIFICATION
        soa.soa_row_update(statement=statement, acting_user=olivia, systems=systems[: 1 + n % 4])
        evidence = EvidenceFactory(organization=acme, title=f"E{n}", valid_until=today - timedelta(days=n % 2))
        EvidenceLinkFactory(evidence=evidence, control=statement.control)
    for ref in ("A.6.2.6", "A.7.4", "A.9.2", "A.5.2"):
        risk_relying_on(acme, olivia, ref)
    full = _list_queries(api)
    assert full == bare
    rows = api.get(url("soa")).json()["results"]
    assert all(r["systems"] and r["evidence_count"] == 1 for r in rows)
    assert sum(len(r["risks"]) for r in rows) == 4


# --- Versions ------------------------------------------------------------------------------------


def test_submission_through_the_api(api, acme, olivia):
    refused = errors(api.post(url("soaversion"), {"note": "First"}))
    assert list(refused) == ["non_field_errors"] and "still open: A.2.2, A.2.3" in refused["non_field_errors"][0]
    decide_all(acme, olivia)
    response = api.post(url("soaversion"), {"note": "First"})
    assert response.status_code == 201, response.content
    body = response.json()
    version = SoAVersion.objects.for_org(acme).get()
    assert body["id"] == version.pk and body["number"] == 1 and body["status"] == "submitted"
    assert (body["note"], body["submitted_by"], body["decided_by"]) == ("First", olivia.email, None)
    assert body["row_count"] == 38 and len(body["rows"]) == 38
    assert body["rows"][0]["ref"] == "A.2.2" and body["rows"][0]["justification"] == JUSTIFICATION
    assert "already waiting" in errors(api.post(url("soaversion"), {}))["non_field_errors"][0]

    listed = api.get(url("soaversion")).json()
    assert listed["count"] == 1 and "rows" not in listed["results"][0]
    assert listed["results"][0]["row_count"] == 38
    assert len(api.get(url("soaversion", version.pk)).json()["rows"]) == 38
    assert api.get(url("soaversion"), {"status": "approved"}).json()["count"] == 0


def test_only_administrators_decide_and_never_on_their_own_submission(
    api, admin_api, viewer_api, auditor_api, api_for, acme, alice, olivia
):
    decide_all(acme, olivia)
    for client in (viewer_api, auditor_api):
        assert client.post(url("soaversion"), {}).status_code == 403
    version_id = api.post(url("soaversion"), {"note": "First"}).json()["id"]
    for client in (api, viewer_api, auditor_api):  # the officer cannot approve the SoA
        assert client.post(url("soaversion", version_id, "approve"), {}).status_code == 403
        assert client.post(url("soaversion", version_id, "return"), {"comment": "No"}).status_code == 403

    response = admin_api.post(url("soaversion", version_id, "approve"), {"comment": "Complete."})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["decided_by"], body["decision_comment"]) == ("approved", alice.email, "Complete.")
    assert selectors.soa_latest_approved(acme).pk == version_id
    assert (
        "not awaiting a decision"
        in errors(admin_api.post(url("soaversion", version_id, "approve"), {}))["non_field_errors"][0]
    )

    # An administrator who submits cannot decide; another administrator can.
    own_id = admin_api.post(url("soaversion"), {"note": "Second"}).json()["id"]
    refused = errors(admin_api.post(url("soaversion", own_id, "approve"), {}))
    assert refused == {"non_field_errors": ["The person who submitted the SoA cannot also decide on it."]}
    assert errors(admin_api.post(url("soaversion", own_id, "return"), {"comment": "Redo"}))["non_field_errors"]
    other_admin = MembershipFactory(organization=acme, role=Role.ADMIN).user
    other_api = api_for(acme, role=Role.ADMIN, created_by=other_admin)
    assert errors(other_api.post(url("soaversion", own_id, "return"), {})) == {"comment": ["Say what needs to change."]}
    response = other_api.post(url("soaversion", own_id, "return"), {"comment": "Justify A.5.2 better."})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decided_by"]) == ("returned", other_admin.email)


def test_another_organisations_versions_are_not_found(api, globex_api, acme, olivia, globex):
    decide_all(acme, olivia)
    version_id = api.post(url("soaversion"), {}).json()["id"]
    assert globex_api.get(url("soaversion")).json()["count"] == 0
    assert globex_api.get(url("soaversion", version_id)).status_code == 404
    assert globex_api.post(url("soaversion", version_id, "approve"), {}).status_code == 404
    assert globex_api.post(url("soaversion", version_id, "return"), {"comment": "No"}).status_code == 404
    assert SoAVersion.objects.get(pk=version_id).status == "submitted"


def test_an_approved_version_keeps_its_rows(api, admin_api, acme, olivia):
    decide_all(acme, olivia)
    version_id = api.post(url("soaversion"), {}).json()["id"]
    admin_api.post(url("soaversion", version_id, "approve"), {})
    api.patch(url("soa", "A.5.2"), {"applicable": False, "justification": "Covered by group policy."})
    rows = {r["ref"]: r for r in api.get(url("soaversion", version_id)).json()["rows"]}
    assert rows["A.5.2"]["applicable"] is True and rows["A.5.2"]["justification"] == JUSTIFICATION


def test_the_api_needs_authentication(client):
    assert client.get(url("soa")).status_code in (401, 403)
    assert client.get(url("readiness")).status_code in (401, 403)


# --- Crosswalks and coverage ---------------------------------------------------------------------


def test_mappings_list_and_filters(viewer_api):
    response = viewer_api.get(url("mapping"), {"framework": "NISTAIRMF", "page_size": 200})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == Mapping.objects.filter(source__framework__code="NISTAIRMF").count() > 0
    assert {r["source"]["framework"] for r in body["results"]} == {"NISTAIRMF"}
    assert {r["target"]["framework"] for r in body["results"]} == {"ISO42001"}

    pairs = viewer_api.get(url("mapping"), {"source": "MEASURE 2.4"}).json()["results"]
    assert [p["target"]["ref"] for p in pairs] == ["9.1", "A.6.2.6", "A.6.2.8"]
    first = pairs[0]
    assert set(first) == {"id", "source", "target", "relationship", "origin", "note"}
    assert first["source"] == {
        "framework": "NISTAIRMF",
        "ref": "MEASURE 2.4",
        "title": Requirement.objects.get(framework__code="NISTAIRMF", ref="MEASURE 2.4").title,
    }
    assert first["target"]["title"] == Requirement.objects.get(framework__code="ISO42001", ref="9.1").title
    assert first["relationship"] == "related" and first["origin"]

    to_control = viewer_api.get(url("mapping"), {"target": "A.6.2.6", "framework": "EUAIACT"}).json()
    assert {r["source"]["ref"] for r in to_control["results"]} == {"Art. 15", "Art. 72"}
    intersects = viewer_api.get(url("mapping"), {"relationship": "intersects"}).json()
    assert intersects["count"] == Mapping.objects.filter(relationship="intersects").count()
    assert set(errors(viewer_api.get(url("mapping"), {"relationship": "same"}))) == {"relationship"}


def test_coverage_of_another_framework_follows_the_soa(api, acme, olivia):
    soa.soa_rows_ensure(acme)
    implemented = stored(acme, "A.6.2.6")
    implemented.applicable, implemented.justification, implemented.implementation_status = True, "Yes", "implemented"
    soa.soa_row_update(statement=implemented, acting_user=olivia)
    excluded = stored(acme, "A.6.2.8")
    excluded.applicable, excluded.justification = False, "No event logs: batch system."
    soa.soa_row_update(statement=excluded, acting_user=olivia)

    response = api.get(url("mapping", action="coverage"), {"framework": "NISTAIRMF"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["framework"], body["name"]) == ("NISTAIRMF", "NIST AI RMF 1.0")
    row = next(r for r in body["rows"] if r["requirement"]["ref"] == "MEASURE 2.4")
    assert row["requirement"]["framework"] == "NISTAIRMF"
    assert [(c["ref"], c["status"]) for c in row["controls"]] == [("A.6.2.6", "implemented"), ("A.6.2.8", "excluded")]
    assert row["controls"][0]["title"] == control("A.6.2.6").title
    assert (row["clauses"], row["implemented"], row["coverage"]) == (["9.1"], 1, 50)
    assert any(r["coverage"] is None and r["controls"] == [] for r in body["rows"])  # clauses only

    eu = api.get(url("mapping", action="coverage"), {"framework": "EUAIACT"}).json()
    article = next(r for r in eu["rows"] if r["requirement"]["ref"] == "Art. 15")
    assert ("A.6.2.6", "implemented") in [(c["ref"], c["status"]) for c in article["controls"]]


def test_coverage_of_another_organisation_does_not_leak(globex_api, acme, olivia):
    soa.soa_rows_ensure(acme)
    implemented = stored(acme, "A.6.2.6")
    implemented.applicable, implemented.justification, implemented.implementation_status = True, "Yes", "implemented"
    soa.soa_row_update(statement=implemented, acting_user=olivia)
    rows = globex_api.get(url("mapping", action="coverage"), {"framework": "NISTAIRMF"}).json()["rows"]
    assert all(c["status"] == "" for r in rows for c in r["controls"])


@pytest.mark.parametrize("params", [{"framework": "ISO42001"}, {"framework": "GDPR"}, {}])
def test_coverage_needs_another_known_framework(api, params):
    assert set(errors(api.get(url("mapping", action="coverage"), params))) == {"framework"}


# --- Readiness -----------------------------------------------------------------------------------


def test_readiness_through_the_api(viewer_api, acme, alice):
    AISystemFactory(organization=acme, ref_code="AIS-0001", status="active")
    # Computing readiness creates the default risk criteria when there are none; create them first so
    # the request and the comparison below see the same organisation.
    risk_services.criteria_for(acme)
    soa.soa_rows_ensure(acme)
    statement = stored(acme, "A.2.2")
    statement.applicable, statement.justification, statement.implementation_status = True, "Policy", "implemented"
    soa.soa_row_update(statement=statement, acting_user=alice)

    response = viewer_api.get(url("readiness"))
    assert response.status_code == 200
    body = response.json()
    expected = readiness(acme)
    assert set(body) == {"overall", "clause_score", "annex_score", "clauses", "areas"}
    assert (body["overall"], body["clause_score"], body["annex_score"]) == (
        expected.overall,
        expected.clause_score,
        expected.annex_score,
    )
    assert [c["ref"] for c in body["clauses"]] == ["4", "5", "6", "7", "8", "9", "10"]
    clauses = {c["ref"]: c for c in body["clauses"]}
    assert clauses["9"]["score"] == 0 and {c["clause"] for c in clauses["9"]["checks"]} == {"9.2", "9.3"}
    # Without nonconformities, corrective or review actions there is nothing to check in clause 10 yet.
    assert clauses["10"]["score"] is None
    assert {c["measured"] for c in clauses["10"]["checks"]} == {False}
    accountable = next(c for c in clauses["5"]["checks"] if c["clause"] == "5.3")
    assert accountable == {
        "clause": "5.3",
        "label": "Every active AI system has an Accountable person",
        "ok": False,
        "measured": True,
        "detail": "Missing for AIS-0001",
        "url": "http://testserver/inventory/?accountable=missing",
    }
    a2 = body["areas"][0]
    assert {k: a2[k] for k in ("ref", "total", "decided", "applicable", "excluded", "implemented", "evidenced")} == {
        "ref": "A.2",
        "total": 3,
        "decided": 1,
        "applicable": 1,
        "excluded": 0,
        "implemented": 1,
        "evidenced": 0,
    }
    assert a2["score"] == expected.areas[0].score
    assert a2["missing"][0] == {"what": "A.2.2: no valid evidence", "url": "http://testserver/controls/soa/A.2.2/"}
    assert len(body["areas"]) == 9


def test_readiness_is_per_organisation(globex_api, acme, alice):
    AISystemFactory(organization=acme, status="active")
    body = globex_api.get(url("readiness")).json()
    inventory = next(c for c in body["clauses"] if c["ref"] == "4")["checks"][0]
    assert inventory["ok"] is False and inventory["detail"] == "The inventory is empty."
