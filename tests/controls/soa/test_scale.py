"""The SoA, readiness and dashboard at size: what relies on each control is counted in the database,
pages name only the first few risks and link to the filtered register, readiness is answered by
SQL and cached per organisation, and every screen costs the same queries at two sizes."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aims.roles import Role
from aims.summaries import summaries_changed
from controls.models import ApplicabilityStatement, Requirement, SoAVersion
from controls.readiness import readiness, readiness_summary
from controls.soa import selectors
from controls.soa import services as soa
from registry.models import AISystem
from risk.models import Level, Risk, TreatmentAction, TreatmentControl
from tests.controls.factories import evidence_on

JUSTIFICATION = "Needed for the systems in scope; see the risk register."
HOT = ("A.6.2.6", "A.7.4", "A.9.2")


def control(ref: str) -> Requirement:
    return Requirement.objects.of_framework("ISO42001").controls().get(ref=ref)


def grow(org, refs, per_control: int, status=TreatmentAction.Status.PLANNED) -> list[Risk]:
    """``per_control`` more high, untreated risks relying on each control through one treatment each,
    bulk-created as an import would (no signals, no history; the cached summaries told, committed)."""
    controls = [control(ref) for ref in refs]
    start = Risk.objects.for_org(org).count()
    risks = Risk.objects.bulk_create(
        [
            Risk(organization=org, ref_code=f"RB-{start + n:05d}", title=f"Bulk risk {start + n}",
                 inherent_level=Level.HIGH, status=Risk.Status.IDENTIFIED)
            for n in range(per_control * len(controls))
        ]
    )  # fmt: skip
    treatments = TreatmentAction.objects.bulk_create(
        [TreatmentAction(organization=org, risk=risk, title=f"Treat {risk.ref_code}", status=status) for risk in risks]
    )
    TreatmentControl.objects.bulk_create(
        [
            TreatmentControl(organization=org, treatment=treatment, control=controls[n % len(controls)])
            for n, treatment in enumerate(treatments)
        ]
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        summaries_changed(org.pk)
    return risks


def systems(org, count: int) -> None:
    start = AISystem.objects.for_org(org).count()
    AISystem.objects.bulk_create(
        [
            AISystem(organization=org, ref_code=f"AIS-{start + n:04d}", name=f"System {start + n}", status="active")
            for n in range(count)
        ]
    )


def queries(client, path: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.fixture
def api(api_for, acme, olivia):
    return api_for(acme, role=Role.OFFICER, created_by=olivia)


# --- What relies on a control ------------------------------------------------------------------


def test_summaries_count_in_the_database_and_name_the_first_five_risks(acme, globex, olivia, django_assert_num_queries):
    risks = grow(acme, ["A.6.2.6"], 7)
    # A second treatment of the first risk relies on the same control: one more treatment, not one more risk.
    second = TreatmentAction.objects.create(organization=acme, risk=risks[0], title="Second look")
    TreatmentControl.objects.create(organization=acme, treatment=second, control=control("A.6.2.6"))
    grow(acme, ["A.6.2.6"], 2, status=TreatmentAction.Status.CANCELLED)  # cancelled treatments rely on nothing
    grow(globex, ["A.6.2.6", "A.7.4"], 4)  # another organisation's

    # One query on PostgreSQL; a second ranks the first risks where ARRAY() is missing.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        summaries = selectors.control_risk_summaries(acme)
    assert set(summaries) == {control("A.6.2.6").pk}
    summary = summaries[control("A.6.2.6").pk]
    assert (summary.risk_count, summary.treatment_count, summary.more) == (7, 8, 2)
    assert [(r.risk_id, r.ref_code, r.title) for r in summary.first_risks] == [
        (risk.pk, risk.ref_code, risk.title) for risk in risks[:5]
    ]
    assert selectors.control_risk_summary(acme, control("A.2.2").pk).risk_count == 0


def test_exclusion_is_refused_naming_the_first_treatments_and_how_many_more(acme, olivia):
    risks = grow(acme, ["A.6.2.6"], 8)
    soa.soa_rows_ensure(acme)
    statement = ApplicabilityStatement.objects.for_org(acme).select_related("control").get(control__ref="A.6.2.6")
    statement.applicable, statement.justification = False, "Not needed."
    with pytest.raises(ValidationError) as exc_info:
        soa.soa_row_update(statement=statement, acting_user=olivia)
    [message] = exc_info.value.message_dict["applicable"]
    assert f"{risks[0].ref_code} (Treat {risks[0].ref_code})" in message and "and 3 more" in message
    assert risks[5].ref_code not in message
    # Once those treatments are cancelled the control may be excluded.
    TreatmentAction.objects.for_org(acme).update(status=TreatmentAction.Status.CANCELLED)
    soa.soa_row_update(statement=statement, acting_user=olivia)
    assert ApplicabilityStatement.objects.get(pk=statement.pk).applicable is False


# --- The risk register filtered by control -----------------------------------------------------


def test_the_risk_register_filters_by_control_once_per_risk(login, olivia, acme, globex, api):
    relying = grow(acme, ["A.6.2.6"], 3)
    second = TreatmentAction.objects.create(organization=acme, risk=relying[0], title="Second look")
    TreatmentControl.objects.create(organization=acme, treatment=second, control=control("A.6.2.6"))
    grow(acme, ["A.7.4"], 2)
    grow(acme, ["A.6.2.6"], 1, status=TreatmentAction.Status.CANCELLED)
    grow(globex, ["A.6.2.6"], 2)
    wanted = sorted(r.ref_code for r in relying)

    page = login(olivia).get(reverse("risk:list"), {"control": control("A.6.2.6").pk})
    assert page.status_code == 200
    assert sorted(r.ref_code for r in page.context["object_list"]) == wanted
    body = api.get("/api/v1/risks/", {"control": control("A.6.2.6").pk}).json()
    assert body["count"] == 3 and sorted(r["ref_code"] for r in body["results"]) == wanted


def test_a_control_filter_that_is_no_annex_a_control_is_a_field_error(login, olivia, api):
    clause = Requirement.objects.of_framework("ISO42001").clauses().first()
    for value in ("abc", "999999", str(clause.pk)):
        response = api.get("/api/v1/risks/", {"control": value})
        assert response.status_code == 400 and "control" in response.json()["errors"], value
        page = login(olivia).get(reverse("risk:list"), {"control": value})
        assert page.status_code == 200 and "control" in page.context["filter"].errors


# --- Flat queries at two sizes ----------------------------------------------------------------


def test_the_soa_page_shows_counts_and_the_first_risks_in_the_same_queries_at_two_sizes(login, olivia, acme):
    client = login(olivia)
    grow(acme, HOT, 3)
    client.get(reverse("soa:statement"))  # creates the rows
    cache.clear()
    small, _ = queries(client, reverse("soa:statement"))
    cached, _ = queries(client, reverse("soa:statement"))
    assert cached < small  # the per-control figures come from the cache until links change
    grow(acme, HOT, 27)
    large, page = queries(client, reverse("soa:statement"))
    assert large == small
    html = page.content.decode()
    assert len(re.findall(r'href="/risks/\d+/"', html)) == len(HOT) * selectors.RISK_PREVIEW
    link = f'href="/risks/?control={control("A.7.4").pk}">all 30</a>'
    assert "30 risks:" in html and link in html


def test_the_soa_api_list_answers_counts_and_a_bounded_list_in_the_same_queries_at_two_sizes(api, acme):
    grow(acme, HOT, 3)
    api.get("/api/v1/soa/")
    cache.clear()
    small, _ = queries(api, "/api/v1/soa/")
    cached, _ = queries(api, "/api/v1/soa/")
    assert cached < small
    grow(acme, HOT, 27)
    large, response = queries(api, "/api/v1/soa/")
    assert large == small
    rows = {r["control"]: r for r in response.json()["results"]}
    hot = rows["A.9.2"]
    assert (hot["risk_count"], hot["treatment_count"], len(hot["risks"])) == (30, 30, selectors.RISK_PREVIEW)
    assert hot["risks_url"].endswith(f"/api/v1/risks/?control={control('A.9.2').pk}")
    assert api.get(hot["risks_url"]).json()["count"] == 30
    assert (rows["A.2.2"]["risk_count"], rows["A.2.2"]["risks"]) == (0, [])


def test_the_control_page_and_the_row_form_name_the_first_risks(login, olivia, acme):
    grow(acme, ["A.6.2.6"], 12)
    client = login(olivia)
    page = client.get(reverse("soa:control", args=["A.6.2.6"])).content.decode()
    assert "12 risks through 12 treatments" in page and "All 12 in the risk register" in page
    form = client.get(reverse("soa:row_edit", args=["A.6.2.6"]), HTTP_HX_REQUEST="true").content.decode()
    assert "relied on by 12 risks" in form and "and 7 more" in form


def test_readiness_costs_the_same_queries_at_two_sizes(acme, olivia):
    soa.soa_rows_ensure(acme)  # the first read creates them: one query more, once
    systems(acme, 3)
    grow(acme, HOT, 3)
    with CaptureQueriesContext(connection) as small:
        before = readiness(acme)
    systems(acme, 30)
    grow(acme, HOT, 27)
    with CaptureQueriesContext(connection) as large:
        after = readiness(acme)
    assert len(large.captured_queries) == len(small.captured_queries)
    checks = {c.label: c for clause in after.clauses for c in clause.checks}
    untreated = checks["Risks above the acceptance threshold are treated or accepted"]
    assert not untreated.ok and untreated.detail.endswith(" and 85 more")
    assert checks["AI systems in scope are recorded in the inventory"].detail == "33 active system(s)"
    accountable = checks["Every active AI system has an Accountable person"].detail
    assert accountable == "Missing for AIS-0000, AIS-0001, AIS-0002, AIS-0003, AIS-0004 and 28 more"
    assert before.overall >= 0  # computed at the small size too


def test_the_dashboard_costs_the_same_queries_at_two_sizes_and_less_once_cached(
    login, olivia, acme, django_capture_on_commit_callbacks
):
    client = login(olivia)
    soa.soa_rows_ensure(acme)
    systems(acme, 3)
    grow(acme, HOT, 3)
    first, _ = queries(client, reverse("dashboard"))
    cached, _ = queries(client, reverse("dashboard"))
    assert cached < first
    with django_capture_on_commit_callbacks(execute=True):
        systems(acme, 30)
        grow(acme, HOT, 27)
        summaries_changed(acme.pk)  # bulk writes send no signal: announced as an import does
    recomputed, _ = queries(client, reverse("dashboard"))
    assert recomputed == first
    again, _ = queries(client, reverse("dashboard"))
    assert again == cached


# --- The cached readiness summary moves after the writes that change it -------------------------


def test_the_cached_summary_moves_after_evidence_is_added(acme, olivia, django_capture_on_commit_callbacks):
    soa.soa_rows_ensure(acme)
    for statement in ApplicabilityStatement.objects.for_org(acme).select_related("control"):
        statement.applicable, statement.justification = True, JUSTIFICATION
        with django_capture_on_commit_callbacks(execute=True):
            soa.soa_row_update(statement=statement, acting_user=olivia)
    before = readiness_summary(acme)
    area = next(a for a in before.areas if a.ref == "A.6")
    assert area.evidenced == 0
    with django_capture_on_commit_callbacks(execute=True):
        evidence_on(acme, "Drift dashboard", "A.6.2.6")
    after = next(a for a in readiness_summary(acme).areas if a.ref == "A.6")
    assert after.evidenced == 1


def test_the_cached_summary_moves_after_the_soa_is_approved(
    acme, alice, olivia, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    soa.soa_rows_ensure(acme)
    for statement in ApplicabilityStatement.objects.for_org(acme).select_related("control"):
        statement.applicable, statement.justification = True, JUSTIFICATION
        soa.soa_row_update(statement=statement, acting_user=olivia)
    with django_capture_on_commit_callbacks(execute=True):
        version = soa.soa_submit(organization=acme, acting_user=olivia)

    def approved_check() -> bool:
        checks = {c.label: c for clause in readiness_summary(acme).clauses for c in clause.checks}
        return checks["The Statement of Applicability is approved"].ok

    assert approved_check() is False
    with django_assert_max_num_queries(1):  # answered from the cache
        assert approved_check() is False
    with django_capture_on_commit_callbacks(execute=True):
        soa.soa_approve(version=version, acting_user=alice)
    assert SoAVersion.objects.get(pk=version.pk).status == SoAVersion.Status.APPROVED
    assert approved_check() is True


def test_the_readiness_api_and_page_answer_the_cached_summary(login, olivia, acme, api):
    page = login(olivia).get(reverse("soa:readiness"))
    body = api.get("/api/v1/readiness/").json()
    assert page.status_code == 200 and body["overall"] == page.context["readiness"].overall


def test_the_cached_control_figures_outlive_a_new_risk_and_move_with_a_new_link(
    acme, olivia, django_capture_on_commit_callbacks
):
    from tests.risk.factories import RiskFactory, TreatmentActionFactory

    hot = control("A.7.4")
    with django_capture_on_commit_callbacks(execute=True):
        grow(acme, ["A.7.4"], 2)
    assert selectors.cached_control_risk_summaries(acme)[hot.pk].risk_count == 2

    with django_capture_on_commit_callbacks(execute=True):
        risk = RiskFactory(organization=acme, owner=olivia, title="Data drift")
    with CaptureQueriesContext(connection) as ctx:
        assert selectors.cached_control_risk_summaries(acme)[hot.pk].risk_count == 2
    assert len(ctx) == 0  # a risk relying on nothing yet leaves the figures cached

    with django_capture_on_commit_callbacks(execute=True):
        TreatmentActionFactory(organization=acme, risk=risk, owner=olivia, control_refs=["A.7.4"])
    assert selectors.cached_control_risk_summaries(acme)[hot.pk].risk_count == 3

    with django_capture_on_commit_callbacks(execute=True):
        risk.title = "Data drift in the triage model"
        risk.save()
    first = selectors.cached_control_risk_summaries(acme)[hot.pk].first_risks
    assert risk.title in [named.title for named in first]


# --- After a new risk: what reads risks is recomputed, the rest stays cached --------------------


def _checks(result) -> dict[str, tuple[bool, str]]:
    return {c.label: (c.ok, c.detail) for clause in result.clauses for c in clause.checks}


def test_after_a_new_risk_readiness_recomputes_only_its_risk_checks_in_the_same_queries_at_two_sizes(
    acme, olivia, django_capture_on_commit_callbacks
):
    from tests.risk.factories import RiskFactory

    soa.soa_rows_ensure(acme)
    recomputed = []
    for size in (3, 30):
        systems(acme, size)
        grow(acme, HOT, size)
        before = _checks(readiness_summary(acme))
        with django_capture_on_commit_callbacks(execute=True):
            RiskFactory(organization=acme, owner=olivia, title="Scores drift", assessed=True)
        with CaptureQueriesContext(connection) as ctx:
            after = readiness_summary(acme)
        recomputed.append(len(ctx.captured_queries))
        # The cached summary is what a fresh computation says, and it counts the new risk.
        assert _checks(after) == _checks(readiness(acme))
        label = "Risks above the acceptance threshold are treated or accepted"
        assert after != before and _checks(after)[label] != before[label]
        # Checks that read no risk were not recomputed.
        assert not any("registry_roleassignment" in q["sql"] or "controls_evidence" in q["sql"] for q in ctx)
    # Criteria, whether a system is active, both open-risk tallies, the untreated names, overdue
    # treatments, the cache.
    assert recomputed[0] == recomputed[1] <= 7


def test_after_a_new_risk_the_dashboard_costs_the_same_queries_at_two_sizes_and_shows_it(
    login, olivia, acme, django_capture_on_commit_callbacks
):
    from tests.risk.factories import RiskFactory

    client = login(olivia)
    soa.soa_rows_ensure(acme)
    costs = []
    for size in (3, 30):
        systems(acme, size)
        grow(acme, HOT, size)
        first, _ = queries(client, reverse("dashboard"))
        with django_capture_on_commit_callbacks(execute=True):
            RiskFactory(organization=acme, owner=olivia, title="Scores drift", assessed=True)
        after_write, response = queries(client, reverse("dashboard"))
        costs.append(after_write)
        assert after_write < first  # the tiles that read no risk stay cached
        open_risks = Risk.objects.for_org(acme).open().count()
        tile = rf'<span class="tile-value">{open_risks}</span>\s*<span class="tile-label">Open risks</span>'
        assert re.search(tile, response.content.decode())
    assert costs[0] == costs[1]
