"""Risk register pages: scoring through forms, acceptance, treatments, criteria, heat maps, roles, tenancy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aims.roles import Role
from controls.models import Requirement
from risk import services
from risk.models import Risk, RiskCriteria, TreatmentAction
from tests.aims.factories import MembershipFactory
from tests.registry.factories import AISystemFactory
from tests.risk.factories import RiskFactory


def control(ref):
    return Requirement.objects.get(framework__code="ISO42001", ref=ref)


@pytest.fixture
def system(acme, olivia):
    return AISystemFactory(organization=acme, owner=olivia)


def risk_form(**overrides):
    data = {"title": "Unfair refusals", "owner": "", "inherent_likelihood": "4", "inherent_impact": "4",
            "status": "identified"}  # fmt: skip
    data.update(overrides)
    return data


def test_officer_records_a_risk_and_the_level_is_computed(login, olivia, acme, system):
    client = login(olivia)
    assert client.get(reverse("risk:create")).status_code == 200
    response = client.post(
        reverse("risk:create"),
        risk_form(
            owner=olivia.pk,
            system=system.pk,
            risk_source=Requirement.objects.get(ref="C.3.4").pk,
            objective=Requirement.objects.get(ref="C.2.5").pk,
        ),
    )
    assert response.status_code == 302, response.context["form"].errors
    risk = Risk.objects.get()
    assert risk.ref_code == "RSK-0001" and risk.inherent_level == "high" and risk.status == "assessed"
    assert risk.risk_source.ref == "C.3.4" and risk.objective.ref == "C.2.5" and risk.system == system
    assert risk.history.latest().history_user == olivia


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"inherent_impact": ""}, "inherent_impact"),
        ({"inherent_likelihood": "9"}, "inherent_likelihood"),
        ({"residual_likelihood": "2", "residual_impact": "2"}, "treatment_option"),
        ({"status": "accepted"}, "status"),
    ],
)
def test_risk_form_reports_rule_violations(login, olivia, overrides, field):
    response = login(olivia).post(reverse("risk:create"), risk_form(owner=olivia.pk, **overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Risk.objects.exists()


def test_annex_c_fields_offer_only_their_kind(login, olivia):
    form = login(olivia).get(reverse("risk:create")).context["form"]
    assert {r.kind for r in form.fields["risk_source"].queryset} == {"risk_source"}
    assert form.fields["objective"].queryset.count() == 11


def test_treatment_with_two_controls_then_acceptance(login, olivia, alice, acme):
    risk = RiskFactory(organization=acme, owner=olivia, title="Bias in scoring", assessed=True)
    client = login(olivia)
    response = client.post(
        reverse("risk:treatment_create", args=[risk.pk]),
        {"title": "Bias testing", "owner": olivia.pk, "status": "planned",
         "controls": [control("A.6.2.4").pk, control("A.7.4").pk]},
    )  # fmt: skip
    assert response.status_code == 302
    treatment = TreatmentAction.objects.get()
    assert sorted(treatment.control_links.values_list("control__ref", flat=True)) == ["A.6.2.4", "A.7.4"]
    risk.refresh_from_db()
    assert risk.status == "in_treatment"
    page = client.get(reverse("risk:detail", args=[risk.pk])).content.decode()
    assert "A.6.2.4" in page and "A.7.4" in page

    # Above the threshold (medium), acceptance needs an override with a justification.
    refused = client.post(reverse("risk:accept", args=[risk.pk]), {"rationale": "Fine."})
    assert refused.status_code == 400 and "override" in refused.context["accept_form"].errors
    risk.residual_likelihood, risk.residual_impact, risk.treatment_option = 2, 2, "modify"
    services.risk_save(instance=risk, acting_user=olivia)
    accepted = client.post(reverse("risk:accept", args=[risk.pk]), {"rationale": "Residual risk is low."})
    assert accepted.status_code == 302
    risk.refresh_from_db()
    assert risk.status == "accepted" and risk.accepted_by == olivia and not risk.acceptance_override


def test_owners_cannot_accept_and_change_only_their_risks(login, acme, olivia, system):
    owner = MembershipFactory(organization=acme, role=Role.OWNER).user
    mine = RiskFactory(organization=acme, owner=owner, assessed=True, title="Mine")
    theirs = RiskFactory(organization=acme, owner=olivia, assessed=True, title="Theirs", system=system)
    client = login(owner)
    assert (
        client.post(reverse("risk:update", args=[mine.pk]), risk_form(owner=owner.pk, title="Mine v2")).status_code
        == 302
    )
    assert client.get(reverse("risk:update", args=[theirs.pk])).status_code == 403
    assert client.post(reverse("risk:treatment_create", args=[theirs.pk]), {"title": "x"}).status_code == 403
    assert client.post(reverse("risk:accept", args=[mine.pk]), {"rationale": "ok"}).status_code == 403
    # A risk of a system they own is theirs to change.
    system.owner = owner
    system.save()
    assert client.get(reverse("risk:update", args=[theirs.pk])).status_code == 200


@pytest.mark.parametrize("persona", ["bob", "victor"])
def test_auditors_and_viewers_read_only(login, request, persona, acme, olivia):
    risk = RiskFactory(organization=acme, owner=olivia, title="Bias in scoring", assessed=True)
    treatment = services.treatment_save(
        instance=TreatmentAction(organization=acme, risk=risk, title="t"), acting_user=olivia
    )
    client = login(request.getfixturevalue(persona))
    for name, args in [("risk:list", []), ("risk:detail", [risk.pk]), ("risk:criteria", [])]:
        assert client.get(reverse(name, args=args)).status_code == 200
    writes = [
        (reverse("risk:create"), risk_form()),
        (reverse("risk:update", args=[risk.pk]), risk_form()),
        (reverse("risk:delete", args=[risk.pk]), {}),
        (reverse("risk:accept", args=[risk.pk]), {"rationale": "x"}),
        (reverse("risk:treatment_create", args=[risk.pk]), {"title": "x"}),
        (reverse("risk:treatment_update", args=[risk.pk, treatment.pk]), {"title": "x"}),
        (reverse("risk:treatment_delete", args=[risk.pk, treatment.pk]), {}),
        (reverse("risk:criteria"), {"likelihood_count": 3}),
    ]
    for url, data in writes:
        assert client.post(url, data).status_code == 403, url
    assert client.get(reverse("risk:create")).status_code == 403
    assert Risk.objects.get().title == "Bias in scoring" and TreatmentAction.objects.count() == 1


def test_every_risk_page_is_404_for_another_organisation(login, alice, globex, charlie):
    risk = RiskFactory(organization=globex, owner=charlie, title="Bias in scoring", assessed=True)
    treatment = services.treatment_save(
        instance=TreatmentAction(organization=globex, risk=risk, title="t"), acting_user=charlie
    )
    client = login(alice)
    reads = [
        ("risk:detail", [risk.pk]),
        ("risk:update", [risk.pk]),
        ("risk:treatment_create", [risk.pk]),
        ("risk:treatment_update", [risk.pk, treatment.pk]),
    ]
    for name, args in reads:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    writes = [
        ("risk:update", [risk.pk]),
        ("risk:delete", [risk.pk]),
        ("risk:accept", [risk.pk]),
        ("risk:treatment_create", [risk.pk]),
        ("risk:treatment_delete", [risk.pk, treatment.pk]),
    ]
    for name, args in writes:
        assert client.post(reverse(name, args=args), {"rationale": "x"}).status_code == 404, name
    assert Risk.objects.filter(pk=risk.pk, status="in_treatment").exists()
    assert "Bias in scoring" not in client.get(reverse("risk:list")).content.decode()


def test_a_risk_cannot_point_at_another_organisations_system(login, olivia, globex, charlie):
    foreign = AISystemFactory(organization=globex, owner=charlie)
    response = login(olivia).post(reverse("risk:create"), risk_form(owner=olivia.pk, system=foreign.pk))
    assert response.status_code == 400 and "system" in response.context["form"].errors


def test_register_filters_and_heat_map_cells(login, olivia, victor, acme, system):
    today = timezone.localdate()
    RiskFactory(organization=acme, owner=olivia, title="A", inherent_likelihood=5, inherent_impact=5, system=system)
    RiskFactory(
        organization=acme,
        owner=victor,
        title="B",
        inherent_likelihood=1,
        inherent_impact=1,
        next_review_date=today - timedelta(1),
    )
    closed = RiskFactory(organization=acme, owner=olivia, title="C", inherent_likelihood=1, inherent_impact=1)
    closed.status = "closed"
    services.risk_save(instance=closed, acting_user=olivia)
    client = login(olivia)

    def titles(**params):
        return [r.title for r in client.get(reverse("risk:list"), params).context["object_list"]]

    assert titles(level="critical") == ["A"]
    assert titles(level="low", status="assessed") == ["B"]
    assert titles(system=system.pk) == ["A"]
    assert titles(owner=victor.pk) == ["B"]
    assert titles(overdue="true") == ["B"]
    assert titles(inherent_likelihood=1, inherent_impact=1) == ["B", "C"]
    page = client.get(reverse("risk:list"))
    inherent = page.context["heat_maps"][0]
    cells = {(c.likelihood, c.impact): c.count for _, _, row in inherent.rows for c in row}
    assert cells[(5, 5)] == 1 and cells[(1, 1)] == 1  # the closed risk is not on the map
    assert inherent.total == 2
    assert "inherent_likelihood=5&amp;inherent_impact=5" in page.content.decode()


@pytest.mark.parametrize("count", [5, 30])
def test_register_costs_a_fixed_number_of_queries(login, olivia, acme, count):
    for n in range(count):
        RiskFactory(organization=acme, owner=olivia, assessed=True, title=f"Risk {n}")
    client = login(olivia)
    client.get(reverse("risk:list"))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("risk:list"))
    assert len(response.context["object_list"]) == min(count, 25)
    assert len(queries) <= 12, [q["sql"] for q in queries]


def test_criteria_change_rescores_open_risks_and_is_recorded(login, olivia, acme):
    risk = RiskFactory(
        organization=acme, owner=olivia, title="Bias in scoring", inherent_likelihood=5, inherent_impact=5
    )
    client = login(olivia)
    page = client.get(reverse("risk:criteria"))
    assert page.status_code == 200
    resized = client.post(reverse("risk:criteria"), {"likelihood_count": 3, "impact_count": 3, "resize": "1"})
    layout = resized.context["layout"]
    assert len(layout["likelihood"]) == 3 and len(layout["matrix"]) == 3
    data = {"likelihood_count": 3, "impact_count": 3, "acceptance_threshold": "medium"}
    for axis in "li":
        for n in range(1, 4):
            data[f"{axis}{n}_label"] = f"{axis.upper()}{n}"
    for i in range(1, 4):
        for j in range(1, 4):
            data[f"m{i}_{j}"] = "critical" if i == j == 3 else "low"
    response = client.post(reverse("risk:criteria"), data)
    assert response.status_code == 302
    criteria = RiskCriteria.objects.get(organization=acme)
    assert len(criteria.likelihood_levels) == 3 and criteria.matrix[2][2] == "critical"
    risk.refresh_from_db()
    assert (risk.inherent_likelihood, risk.inherent_impact, risk.inherent_level) == (3, 3, "critical")
    assert risk.history.latest().history_user == olivia
    assert criteria.history.latest().history_user == olivia
    missing_label = {**data, "l2_label": ""}
    bad = client.post(reverse("risk:criteria"), missing_label)
    assert bad.status_code == 400 and "l2_label" in bad.context["form"].errors


def test_dashboard_risk_tiles(login, olivia, acme, system):
    risk = RiskFactory(
        organization=acme, owner=olivia, title="Bias in scoring", inherent_likelihood=5, inherent_impact=5
    )
    services.treatment_save(
        instance=TreatmentAction(
            organization=acme, risk=risk, title="late", due_date=timezone.localdate() - timedelta(2)
        ),
        acting_user=olivia,
    )
    tiles = {t.label: t for t in login(olivia).get(reverse("dashboard")).context["tiles"]}
    assert tiles["Open risks"].value == 1 and "1 critical" in tiles["Open risks"].hint
    assert tiles["Risks with overdue treatments"].value == 1
    assert tiles["Systems without approved impact assessment"].value == 1
