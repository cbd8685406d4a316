"""The shipped catalogue matches the reference identifiers and titles, and can be browsed."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.urls import reverse

from controls.catalogue.services import catalogue_load
from controls.models import Framework, Mapping, Requirement

REPO = Path(__file__).resolve().parents[3]
# The project's shared reference folder sits beside the repository; a copy ships in tests/
# so the check also runs on a machine that has only the repository.
REFERENCE_DIRS = [d for d in (REPO.parent / "shared" / "reference", REPO / "tests" / "reference") if d.is_dir()]


def read(directory: Path, name: str) -> list[dict[str, str]]:
    with (directory / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


@pytest.fixture(params=REFERENCE_DIRS, ids=[d.parent.name for d in REFERENCE_DIRS])
def reference(request):
    return request.param


def iso(kind=None):
    qs = Requirement.objects.of_framework("ISO42001")
    return qs.filter(kind=kind) if kind else qs


def test_all_clauses_4_to_10_match_the_reference(db, reference):
    expected = {(row["id"], row["title"]) for row in read(reference, "iso42001_clauses.csv")}
    assert set(iso(Requirement.Kind.CLAUSE).values_list("ref", "title")) == expected
    assert {ref for ref, _ in expected if "." not in ref} == {"4", "5", "6", "7", "8", "9", "10"}


def test_all_38_annex_a_controls_match_the_reference_and_sit_under_their_objective(db, reference):
    rows = read(reference, "iso42001_annex_a.csv")
    assert len(rows) == 38
    controls = {r.ref: r for r in iso(Requirement.Kind.CONTROL).select_related("parent__parent")}
    assert {(ref, r.title) for ref, r in controls.items()} == {(row["id"], row["title"]) for row in rows}
    for row in rows:
        control = controls[row["id"]]
        area = control.parent if control.parent.depth == 0 else control.parent.parent
        assert area.ref == row["objective_id"], row["id"]
        assert control.description and control.guidance, row["id"]


def test_nine_objective_areas_with_their_control_counts(db, reference):
    rows = read(reference, "iso42001_annex_a_objectives.csv")
    objectives = {r.ref: r for r in iso(Requirement.Kind.OBJECTIVE)}
    assert {(ref, o.title) for ref, o in objectives.items()} == {(row["id"], row["title"]) for row in rows}
    top = [row for row in rows if not row["parent_id"]]
    assert len(top) == 9
    for row in rows:
        count = Requirement.objects.filter(
            kind=Requirement.Kind.CONTROL, framework__code="ISO42001", ref__startswith=row["id"] + "."
        ).count()
        assert count == int(row["control_count"]), row["id"]


def test_annex_c_objectives_and_risk_sources_match_the_reference(db, reference):
    rows = read(reference, "iso42001_annex_c.csv")
    expected = {("ai_objective" if r["kind"] == "objective" else "risk_source", r["id"], r["title"]) for r in rows}
    found = set(
        iso()
        .filter(kind__in=[Requirement.Kind.AI_OBJECTIVE, Requirement.Kind.RISK_SOURCE])
        .values_list("kind", "ref", "title")
    )
    assert found == expected
    assert sum(1 for k, _, _ in found if k == "ai_objective") == 11
    assert sum(1 for k, _, _ in found if k == "risk_source") == 7


def test_loading_twice_changes_nothing(db):
    before = (Requirement.objects.count(), Mapping.objects.count(), Framework.objects.count())
    report = catalogue_load()
    assert report.created == 0 and report.stale == []
    assert (Requirement.objects.count(), Mapping.objects.count(), Framework.objects.count()) == before


def test_crosswalk_and_eu_ai_act_reference_lists_load_with_their_source(db):
    nist = Framework.objects.get(code="NISTAIRMF")
    assert "Crosswalk" in nist.source
    assert Requirement.objects.filter(framework=nist, kind=Requirement.Kind.SUBCATEGORY).count() == 72
    pair = Mapping.objects.get(source__ref="GOVERN 1.1", target__ref="A.2.2")
    assert pair.relationship == Mapping.Relationship.RELATED
    eu = Requirement.objects.filter(framework__code="EUAIACT")
    assert eu.filter(kind=Requirement.Kind.TIER).count() == 5
    assert eu.filter(kind=Requirement.Kind.ANNEX_III_AREA).count() == 8


def test_catalogue_browser_walks_framework_objective_control(login, bob, django_assert_max_num_queries):
    client = login(bob)
    assert "ISO/IEC 42001:2023" in client.get(reverse("catalogue:frameworks")).content.decode()
    with django_assert_max_num_queries(8):
        page = client.get(reverse("catalogue:framework", args=["ISO42001"]))
    html = page.content.decode()
    for text in ["A.6.2.8", "AI system recording of event logs", "Policies related to AI", "10.2"]:
        assert text in html
    detail = client.get(reverse("catalogue:requirement", args=["ISO42001", "A.6.2.8"]))
    assert detail.status_code == 200
    body = detail.content.decode()
    assert detail.context["requirement"].description in body
    assert [a.ref for a in detail.context["ancestors"]] == ["A.6", "A.6.2"]
    assert "NIST AI RMF" in body  # mapped from the crosswalk


def test_catalogue_search_keeps_matches_and_their_ancestors(login, bob):
    page = login(bob).get(reverse("catalogue:framework", args=["ISO42001"]), {"q": "provenance"})
    refs = []

    def walk(nodes):
        for node in nodes:
            refs.append(node.requirement.ref)
            walk(node.children)

    walk(page.context["tree"])
    assert "A.7.5" in refs and "A.7" in refs
    assert "A.2.2" not in refs


def test_unknown_framework_or_requirement_is_404(login, bob):
    client = login(bob)
    assert client.get(reverse("catalogue:framework", args=["NOPE"])).status_code == 404
    assert client.get(reverse("catalogue:requirement", args=["ISO42001", "A.99"])).status_code == 404


def test_catalogue_needs_sign_in(client, db):
    response = client.get(reverse("catalogue:frameworks"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_catalogue_api_lists_and_filters(api_for, acme, django_assert_max_num_queries):
    from aims.roles import Role

    api = api_for(acme, role=Role.VIEWER)
    frameworks = api.get(reverse("framework-list")).json()["results"]
    iso_fw = next(f for f in frameworks if f["code"] == "ISO42001")
    assert iso_fw["control_count"] == 38
    with django_assert_max_num_queries(6):
        controls = api.get(reverse("requirement-list"), {"framework": "ISO42001", "kind": "control", "page_size": 50})
    body = controls.json()
    assert body["count"] == 38 and body["results"][0]["ref"] == "A.2.2"
    area = api.get(reverse("requirement-list"), {"framework": "ISO42001", "parent": "A.6.2"}).json()
    assert [r["ref"] for r in area["results"]] == [f"A.6.2.{n}" for n in range(2, 9)]
    one = api.get(reverse("requirement-detail", args=[Requirement.objects.get(ref="A.9.4").pk])).json()
    assert one["title"] == "Intended use of the AI system" and one["parent"] == "A.9"
    assert api.get(reverse("requirement-list"), {"kind": "nonsense"}).status_code == 400
