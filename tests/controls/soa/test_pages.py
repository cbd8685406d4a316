"""SoA pages: the editable table (inline with HTMX, or as a page), versions, export, readiness, roles, tenancy."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from controls.models import ApplicabilityStatement, Requirement, SoAVersion
from controls.soa import selectors
from controls.soa import services as soa
from risk import services as risk_services
from risk.models import Risk, TreatmentAction

HTMX = {"HTTP_HX_REQUEST": "true"}


def row_data(**overrides):
    data = {"applicable": "yes", "justification": "Needed for our AI use.", "implementation_status": "implemented",
            "implementation": "Described in the manual."}  # fmt: skip
    data.update(overrides)
    return data


def decide_all(org, user, **fields):
    for row in selectors.soa_rows(org):
        row.applicable, row.justification = True, "Applies."
        for name, value in fields.items():
            setattr(row, name, value)
        soa.soa_row_update(statement=row, acting_user=user)


def test_the_table_lists_all_38_controls_in_fixed_queries(login, olivia, django_assert_max_num_queries):
    client = login(olivia)
    client.get(reverse("soa:statement"))
    with django_assert_max_num_queries(12):
        page = client.get(reverse("soa:statement"))
    assert len(page.context["rows"]) == 38
    html = page.content.decode()
    assert "A.2.2" in html and "A.10.4" in html


def test_inline_edit_with_htmx_returns_the_row(login, olivia, acme):
    client = login(olivia)
    form = client.get(reverse("soa:row_edit", args=["A.6.2.6"]), **HTMX)
    assert form.status_code == 200 and "<form" in form.content.decode() and "<html" not in form.content.decode()
    saved = client.post(reverse("soa:row_edit", args=["A.6.2.6"]), row_data(), **HTMX)
    assert saved.status_code == 200
    body = saved.content.decode()
    assert 'id="soa-A.6.2.6"' in body and "Implemented" in body and "<form" not in body
    row = ApplicabilityStatement.objects.get(organization=acme, control__ref="A.6.2.6")
    assert row.applicable is True and row.history.latest().history_user == olivia


def test_justification_is_required_either_way(login, olivia, acme):
    client = login(olivia)
    inline = client.post(reverse("soa:row_edit", args=["A.2.2"]), row_data(justification=""), **HTMX)
    assert inline.status_code == 200 and "justification" in inline.context["form"].errors
    page = client.post(reverse("soa:row_edit", args=["A.2.2"]), row_data(applicable="no", justification=""))
    assert page.status_code == 400 and "justification" in page.context["form"].errors
    assert ApplicabilityStatement.objects.get(organization=acme, control__ref="A.2.2").applicable is None


def test_a_control_relied_on_by_a_treatment_cannot_be_excluded(login, olivia, acme):
    risk = risk_services.risk_save(
        instance=Risk(organization=acme, title="Drift", owner=olivia, inherent_likelihood=3, inherent_impact=3),
        acting_user=olivia,
    )
    control = Requirement.objects.get(framework__code="ISO42001", ref="A.6.2.6")
    risk_services.treatment_save(
        instance=TreatmentAction(organization=acme, risk=risk, title="Monitoring"), acting_user=olivia,
        control_ids=[control.pk],
    )  # fmt: skip
    response = login(olivia).post(
        reverse("soa:row_edit", args=["A.6.2.6"]), row_data(applicable="no", justification="Not needed.")
    )
    assert response.status_code == 400
    assert risk.ref_code in str(response.context["form"].errors["applicable"])
    assert ApplicabilityStatement.objects.get(organization=acme, control__ref="A.6.2.6").applicable is None
    table = login(olivia).get(reverse("soa:statement")).content.decode()
    assert f'Used by 1 risk: <a href="/risks/{risk.pk}/">{risk.ref_code}</a>' in table


def test_filters_and_exports(login, olivia, acme):
    decide_all(acme, olivia)
    soa.soa_row_update(
        statement=ApplicabilityStatement.objects.get(organization=acme, control__ref="A.10.4"), acting_user=olivia
    )
    row = ApplicabilityStatement.objects.get(organization=acme, control__ref="A.10.4")
    row.applicable, row.justification = False, "No customers integrate our AI."
    soa.soa_row_update(statement=row, acting_user=olivia)
    client = login(olivia)
    assert [r.control.ref for r in client.get(reverse("soa:statement"), {"decision": "excluded"}).context["rows"]] == [
        "A.10.4"
    ]
    assert len(client.get(reverse("soa:statement"), {"area": "A.6"}).context["rows"]) == 9
    assert len(client.get(reverse("soa:statement"), {"area": "A.2"}).context["rows"]) == 3
    exported = client.get(reverse("soa:export", args=["csv"]))
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert len(rows) == 38 and {r["Decision"] for r in rows} == {"Applicable", "Excluded"}
    xlsx = client.get(reverse("soa:export", args=["xlsx"]), {"area": "A.7"})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 6  # header + 5 controls of A.7
    assert client.get(reverse("soa:export", args=["pdf"])).status_code == 404


def test_submit_and_approve_by_another_person(login, olivia, alice, acme):
    client = login(olivia)
    early = client.post(reverse("soa:versions"), {"note": "First"})
    assert early.status_code == 400 and "still open" in str(early.context["form"].errors)
    decide_all(acme, olivia)
    submitted = client.post(reverse("soa:versions"), {"note": "First"})
    version = SoAVersion.objects.get(organization=acme)
    assert submitted["Location"] == reverse("soa:version", args=[version.number])
    assert len(version.rows) == 38
    assert client.post(reverse("soa:version", args=[1]), {"decision": "approve"}).status_code == 403
    admin = login(alice)
    admin.post(reverse("soa:version", args=[1]), {"decision": "approve", "comment": "OK"})
    version.refresh_from_db()
    assert version.status == "approved" and version.decided_by == alice
    page = admin.get(reverse("soa:statement")).content.decode()
    assert "Version 1 approved" in page


@pytest.mark.parametrize("persona", ["bob", "victor"])
def test_auditors_and_viewers_read_but_cannot_change(login, request, persona, acme, olivia):
    decide_all(acme, olivia)
    version = soa.soa_submit(organization=acme, acting_user=olivia)
    client = login(request.getfixturevalue(persona))
    for name, args in [("soa:statement", []), ("soa:control", ["A.2.2"]), ("soa:versions", []), ("soa:version", [1]),
                       ("soa:readiness", [])]:  # fmt: skip
        assert client.get(reverse(name, args=args)).status_code == 200, name
    assert client.get(reverse("soa:row_edit", args=["A.2.2"])).status_code == 403
    assert client.post(reverse("soa:row_edit", args=["A.2.2"]), row_data(applicable="no")).status_code == 403
    assert client.post(reverse("soa:versions"), {"note": "x"}).status_code == 403
    assert client.post(reverse("soa:version", args=[1]), {"decision": "approve"}).status_code == 403
    version.refresh_from_db()
    assert version.status == "submitted"
    assert ApplicabilityStatement.objects.get(organization=acme, control__ref="A.2.2").applicable is True


def test_another_organisations_soa_is_never_shown(login, alice, acme, globex, charlie):
    decide_all(globex, charlie, justification="Globex secret reasoning")
    soa.soa_submit(organization=globex, acting_user=charlie)
    client = login(alice)
    assert "Globex secret reasoning" not in client.get(reverse("soa:statement")).content.decode()
    assert client.get(reverse("soa:version", args=[1])).status_code == 404
    assert client.post(reverse("soa:version", args=[1]), {"decision": "approve"}).status_code == 404
    assert SoAVersion.objects.get(organization=globex).status == "submitted"
    assert client.get(reverse("soa:control", args=["A.99"])).status_code == 404
    row = client.get(reverse("soa:control", args=["A.2.2"])).context["row"]
    assert row.organization == acme


def test_readiness_page_moves_when_a_control_is_implemented(login, olivia, acme, django_capture_on_commit_callbacks):
    client = login(olivia)
    before = client.get(reverse("soa:readiness")).context["readiness"]
    area = next(a for a in before.areas if a.ref == "A.2")
    assert area.decided == 0 and area.score == 0
    # The cached summary is recomputed once the write commits.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("soa:row_edit", args=["A.2.2"]), row_data())
    after = client.get(reverse("soa:readiness")).context["readiness"]
    area = next(a for a in after.areas if a.ref == "A.2")
    assert (area.decided, area.applicable, area.implemented, area.evidenced) == (1, 1, 1, 0)
    assert after.annex_score != before.annex_score
    # Clause 10 has nothing to check yet (no nonconformity or action): not counted.
    assert [c.score for c in after.clauses if c.ref in ("9", "10")] == [0, None]


def test_crosswalk_coverage_on_framework_pages(login, olivia, acme):
    decide_all(acme, olivia, implementation_status="implemented")
    page = login(olivia).get(reverse("catalogue:framework", args=["EUAIACT"]))
    rows = {r.requirement.ref: r for r in page.context["coverage"]}
    assert rows["Art. 12"].coverage == 100 and [c.ref for c, _ in rows["Art. 12"].controls] == ["A.6.2.8"]
    assert rows["Art. 9"].coverage is None and {c.ref for c in rows["Art. 9"].clauses} == {
        "6.1.2",
        "6.1.3",
        "8.2",
        "8.3",
    }
    nist = login(olivia).get(reverse("catalogue:framework", args=["NISTAIRMF"])).context["coverage"]
    assert len(nist) == 72
