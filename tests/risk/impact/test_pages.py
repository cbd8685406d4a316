"""Impact assessment pages: workflow, roles, owner rule, tenancy, list cost and the read view."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aims.roles import Role
from registry import services as registry_services
from registry.models import AISystem
from risk.impact import services as impact_services
from risk.models import ImpactAssessment, ImpactItem, Risk
from tests.aims.factories import MembershipFactory
from tests.risk.factories import ImpactAssessmentFactory, ImpactItemFactory


class PrivacyLeakFactory(ImpactItemFactory):
    dimension = ImpactItem.Dimension.PRIVACY
    description = "Leak."


Status = ImpactAssessment.Status
SECTIONS = [
    "1. Scope",
    "2. AI system information",
    "3. Data information",
    "4. Algorithm and model information",
    "5. Deployment environment",
    "6. Interested parties",
    "7. Impacts",
    "8. Measures",
    "9. Conclusion",
    "Approval",
]


def make_system(org, owner, **fields):
    defaults = {"name": "Credit scoring", "purpose": "Estimate the default risk of loan applicants.", "owner": owner}
    system = AISystem(organization=org, **{**defaults, **fields})
    return registry_services.inventory_record_save(instance=system, acting_user=owner)


def fields_data(**overrides):
    data = {
        "title": "Impact assessment of credit scoring",
        "scope": "Scoring of consumer loan applications in the EU.",
        "data_information": "Loan history, three years, checked for gaps.",
        "model_information": "Gradient boosting v3.",
        "deployment_environment": "Used by loan officers, who decide.",
        "interested_parties": "Applicants, loan officers, the regulator.",
        "conclusion": "Acceptable with the measures listed.",
        "next_review_date": "2027-06-30",
    }
    data.update(overrides)
    return data


def item_data(prefix="item-", **overrides):
    data = {
        "affected_party": "groups",
        "dimension": "fairness",
        "nature": "harm",
        "description": "Applicants from some postcodes are scored lower.",
        "severity": "3",
        "likelihood": "3",
        "reversibility": "partly",
        "measures": "Quarterly bias test; officers review every refusal.",
    }
    data.update(overrides)
    return {f"{prefix}{k}": v for k, v in data.items()}


@pytest.fixture
def owner_user(acme):
    return MembershipFactory(organization=acme, role=Role.OWNER).user


def test_full_workflow_through_the_pages(login, olivia, alice, acme):
    system = make_system(acme, olivia)
    client = login(olivia)

    started = client.post(reverse("impact:start"), {"system": system.pk})
    v1 = ImpactAssessment.objects.get(system=system)
    assert started.status_code == 302 and started["Location"] == reverse("impact:edit", args=[v1.pk])
    assert (v1.version, v1.status, v1.author) == (1, Status.DRAFT, olivia)
    editor = client.get(reverse("impact:edit", args=[v1.pk]))
    assert editor.status_code == 200
    assert "Estimate the default risk of loan applicants." in editor.content.decode()  # the inventory snapshot

    saved = client.post(reverse("impact:edit", args=[v1.pk]), fields_data())
    assert saved.status_code == 302
    v1.refresh_from_db()
    assert v1.scope == "Scoring of consumer loan applications in the EU."
    assert str(v1.next_review_date) == "2027-06-30"

    assert client.post(reverse("impact:item_add", args=[v1.pk]), item_data()).status_code == 302
    benefit_data = item_data(affected_party="individuals", dimension="accessibility", nature="benefit",
                             description="Faster answers for applicants.", severity="2")  # fmt: skip
    assert client.post(reverse("impact:item_add", args=[v1.pk]), benefit_data).status_code == 302
    harm, benefit = v1.items.order_by("order")
    assert (harm.nature, harm.severity, benefit.nature) == ("harm", 3, "benefit")
    edit_url = reverse("impact:item_edit", args=[v1.pk, harm.pk])
    assert client.get(edit_url).status_code == 200
    changed = client.post(edit_url, item_data(prefix="", description="Lower scores for some postcodes."))
    assert changed.status_code == 302
    harm.refresh_from_db()
    assert harm.description == "Lower scores for some postcodes."

    # One click puts the harm in the risk register; a benefit cannot raise one.
    raised = client.post(reverse("impact:item_raise_risk", args=[v1.pk, harm.pk]), follow=True)
    harm.refresh_from_db()
    risk = Risk.objects.get(organization=acme)
    assert harm.risk == risk and risk.system == system and risk.inherent_level
    assert f"Risk {risk.ref_code} raised" in raised.content.decode()
    assert reverse("risk:detail", args=[risk.pk]) in raised.content.decode()
    refused = client.post(reverse("impact:item_raise_risk", args=[v1.pk, benefit.pk]), follow=True)
    assert "Only a harm can raise a risk." in refused.content.decode()
    assert Risk.objects.count() == 1

    submitted = client.post(reverse("impact:submit", args=[v1.pk]))
    assert submitted["Location"] == reverse("impact:detail", args=[v1.pk])
    v1.refresh_from_db()
    assert v1.status == Status.IN_REVIEW and v1.submitted_at

    approver = login(alice)
    approved = approver.post(reverse("impact:approve", args=[v1.pk]), follow=True)
    assert "approved" in approved.content.decode()
    v1.refresh_from_db()
    assert (v1.status, v1.approved_by) == (Status.APPROVED, alice)

    # A change to the system: a new version starts from the approved one.
    approver.post(reverse("impact:start"), {"system": system.pk})
    v2 = ImpactAssessment.objects.get(system=system, version=2)
    assert (v2.status, v2.author, v2.scope) == (Status.DRAFT, alice, v1.scope)
    assert v2.items.count() == 2 and v2.items.get(nature="harm").risk == risk
    approver.post(reverse("impact:edit", args=[v2.pk]), fields_data(conclusion="Still acceptable after retraining."))
    approver.post(reverse("impact:submit", args=[v2.pk]))
    v2.refresh_from_db()
    assert v2.status == Status.IN_REVIEW

    login(olivia).post(reverse("impact:approve", args=[v2.pk]))
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status, v2.approved_by) == (Status.SUPERSEDED, Status.APPROVED, olivia)

    detail = client.get(reverse("impact:detail", args=[v1.pk]))
    assert detail.status_code == 200
    assert reverse("impact:detail", args=[v2.pk]) in detail.content.decode()  # links to the other versions
    assert {"Impact assessment", "Impact item"} <= {e.model for e in detail.context["entries"]}
    listing = client.get(reverse("impact:list"), {"status": "superseded"})
    assert [a.pk for a in listing.context["object_list"]] == [v1.pk]


def test_author_cannot_approve_their_own_assessment(login, olivia, acme):
    assessment = ImpactAssessmentFactory(
        system=make_system(acme, olivia), author=olivia, in_review=True, item_factory=PrivacyLeakFactory
    )
    response = login(olivia).post(reverse("impact:approve", args=[assessment.pk]), follow=True)
    assert "The author cannot approve their own assessment" in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.status == Status.IN_REVIEW and assessment.approved_by is None


def test_returning_needs_a_comment(login, olivia, alice, acme):
    assessment = ImpactAssessmentFactory(
        system=make_system(acme, olivia), author=olivia, in_review=True, item_factory=PrivacyLeakFactory
    )
    client = login(alice)
    detail = client.get(reverse("impact:detail", args=[assessment.pk])).content.decode()
    assert "Return with comment" in detail and reverse("impact:approve", args=[assessment.pk]) in detail
    empty = client.post(reverse("impact:return", args=[assessment.pk]), {"comment": "  "}, follow=True)
    assert "Say what needs to change." in empty.content.decode()
    assessment.refresh_from_db()
    assert assessment.status == Status.IN_REVIEW

    client.post(reverse("impact:return", args=[assessment.pk]), {"comment": "Add the harms to applicants."})
    assessment.refresh_from_db()
    assert (assessment.status, assessment.review_comment) == (Status.DRAFT, "Add the harms to applicants.")
    editor = login(olivia).get(reverse("impact:edit", args=[assessment.pk]))
    assert "Add the harms to applicants." in editor.content.decode()


def test_submit_reports_what_is_missing(login, olivia, acme):
    assessment = impact_services.impact_assessment_start(system=make_system(acme, olivia), acting_user=olivia)
    response = login(olivia).post(reverse("impact:submit", args=[assessment.pk]), follow=True)
    page = response.content.decode()
    assert "Record at least one impact" in page and "Write the conclusion" in page
    assert response.redirect_chain[-1][0] == reverse("impact:edit", args=[assessment.pk])
    assessment.refresh_from_db()
    assert assessment.status == Status.DRAFT


def test_bad_input_is_a_form_error_and_nothing_is_lost(login, olivia, acme):
    assessment = impact_services.impact_assessment_start(system=make_system(acme, olivia), acting_user=olivia)
    client = login(olivia)
    bad_date = client.post(reverse("impact:edit", args=[assessment.pk]), fields_data(next_review_date="31/31/2027"))
    assert bad_date.status_code == 400 and "next_review_date" in bad_date.context["form"].errors
    no_text = client.post(reverse("impact:item_add", args=[assessment.pk]), item_data(description="", severity="9"))
    assert no_text.status_code == 400
    assert {"description", "severity"} <= set(no_text.context["item_form"].errors)
    assert not assessment.items.exists()
    item = PrivacyLeakFactory(assessment=assessment, acting_user=olivia)
    bad_edit = client.post(
        reverse("impact:item_edit", args=[assessment.pk, item.pk]), item_data(prefix="", dimension="x")
    )
    assert bad_edit.status_code == 400 and "dimension" in bad_edit.context["form"].errors
    item.refresh_from_db()
    assert item.dimension == "privacy"


def test_starting_again_opens_the_current_draft(login, olivia, acme):
    system = make_system(acme, olivia)
    client = login(olivia)
    client.post(reverse("impact:start"), {"system": system.pk})
    draft = ImpactAssessment.objects.get(system=system)
    again = client.post(reverse("impact:start"), {"system": system.pk}, follow=True)
    assert again.redirect_chain[-1][0] == reverse("impact:edit", args=[draft.pk])
    assert "still draft" in again.content.decode()
    assert ImpactAssessment.objects.filter(system=system).count() == 1
    nothing = client.post(reverse("impact:start"), {"system": ""}, follow=True)
    assert "Choose the AI system to assess." in nothing.content.decode()


def test_editing_a_non_draft_is_refused(login, olivia, alice, acme):
    assessment = ImpactAssessmentFactory(
        system=make_system(acme, olivia), author=olivia, in_review=True, item_factory=PrivacyLeakFactory
    )
    item = assessment.items.get()
    client = login(olivia)
    page = client.get(reverse("impact:edit", args=[assessment.pk]), follow=True)
    assert page.redirect_chain[-1][0] == reverse("impact:detail", args=[assessment.pk])
    assert "Version 1 is in review: start a new version to change it." in page.content.decode()
    writes = [
        (reverse("impact:edit", args=[assessment.pk]), fields_data(scope="Changed behind the reviewer's back.")),
        (reverse("impact:item_add", args=[assessment.pk]), item_data()),
        (reverse("impact:item_edit", args=[assessment.pk, item.pk]), item_data(prefix="", description="Changed.")),
        (reverse("impact:item_delete", args=[assessment.pk, item.pk]), {}),
    ]
    for url, data in writes:
        response = client.post(url, data)
        assert response.status_code == 302 and response["Location"] == reverse("impact:detail", args=[assessment.pk])
    assert client.get(reverse("impact:item_edit", args=[assessment.pk, item.pk])).status_code == 302
    assessment.refresh_from_db()
    item.refresh_from_db()
    assert assessment.scope != "Changed behind the reviewer's back." and item.description == "Leak."
    assert assessment.items.count() == 1
    # Approved, it still cannot be changed: only a new version can.
    login(alice).post(reverse("impact:approve", args=[assessment.pk]))
    assert client.post(reverse("impact:submit", args=[assessment.pk])).status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == Status.APPROVED


def test_item_delete_keeps_history(login, olivia, acme):
    assessment = impact_services.impact_assessment_start(system=make_system(acme, olivia), acting_user=olivia)
    item = PrivacyLeakFactory(assessment=assessment, acting_user=olivia)
    response = login(olivia).post(reverse("impact:item_delete", args=[assessment.pk, item.pk]))
    assert response.status_code == 302
    assert not assessment.items.exists()
    assert ImpactItem.history.filter(id=item.pk, history_type="-").get().history_user == olivia


def test_every_page_and_post_answers_404_for_another_organisation(login, alice, globex, charlie, acme):
    system = make_system(globex, charlie, name="Globex churn model")
    assessment = impact_services.impact_assessment_start(system=system, acting_user=charlie)
    item = PrivacyLeakFactory(assessment=assessment, acting_user=charlie)
    client = login(alice)
    pk, item_pk = assessment.pk, item.pk
    for name, args in [("impact:detail", [pk]), ("impact:edit", [pk]), ("impact:item_edit", [pk, item_pk])]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    assert client.get(reverse("impact:detail", args=[pk]), {"print": "1"}).status_code == 404
    posts = [
        ("impact:edit", [pk], fields_data()),
        ("impact:submit", [pk], {}),
        ("impact:return", [pk], {"comment": "No."}),
        ("impact:approve", [pk], {}),
        ("impact:item_add", [pk], item_data()),
        ("impact:item_edit", [pk, item_pk], item_data(prefix="")),
        ("impact:item_delete", [pk, item_pk], {}),
        ("impact:item_raise_risk", [pk, item_pk], {}),
    ]
    for name, args, data in posts:
        assert client.post(reverse(name, args=args), data).status_code == 404, name
    assert client.post(reverse("impact:start"), {"system": system.pk}).status_code == 404
    # An item of another organisation is not found under one's own assessment either.
    own = impact_services.impact_assessment_start(system=make_system(acme, alice), acting_user=alice)
    assert client.post(reverse("impact:item_delete", args=[own.pk, item_pk])).status_code == 404
    assert client.post(reverse("impact:item_raise_risk", args=[own.pk, item_pk])).status_code == 404
    assessment.refresh_from_db()
    assert assessment.status == Status.DRAFT and ImpactItem.objects.filter(pk=item_pk).exists()
    assert not Risk.objects.exists()
    assert ImpactAssessment.objects.filter(system=system).count() == 1
    assert "Globex churn model" not in client.get(reverse("impact:list")).content.decode()


@pytest.mark.parametrize("persona", ["bob", "victor"])
def test_auditors_and_viewers_read_but_change_nothing(login, request, persona, olivia, acme):
    user = request.getfixturevalue(persona)
    system = make_system(acme, olivia)
    reviewed = ImpactAssessmentFactory(system=system, author=olivia, in_review=True, item_factory=PrivacyLeakFactory)
    draft = impact_services.impact_assessment_start(
        system=make_system(acme, olivia, name="Chatbot"), acting_user=olivia
    )
    item = PrivacyLeakFactory(assessment=draft, acting_user=olivia)
    client = login(user)
    listing = client.get(reverse("impact:list"))
    assert listing.status_code == 200 and listing.context["start_form"] is None
    assert reverse("impact:start") not in listing.content.decode()
    for assessment in (reviewed, draft):
        page = client.get(reverse("impact:detail", args=[assessment.pk]))
        assert page.status_code == 200
        html = page.content.decode()
        assert reverse("impact:approve", args=[assessment.pk]) not in html and "Raise risk" not in html
        assert reverse("impact:submit", args=[assessment.pk]) not in html
        assert client.get(reverse("impact:detail", args=[assessment.pk]), {"print": "1"}).status_code == 200
    assert client.get(reverse("impact:edit", args=[draft.pk])).status_code == 403
    assert client.get(reverse("impact:item_edit", args=[draft.pk, item.pk])).status_code == 403
    posts = [
        (reverse("impact:start"), {"system": system.pk}),
        (reverse("impact:edit", args=[draft.pk]), fields_data()),
        (reverse("impact:submit", args=[draft.pk]), {}),
        (reverse("impact:item_add", args=[draft.pk]), item_data()),
        (reverse("impact:item_edit", args=[draft.pk, item.pk]), item_data(prefix="")),
        (reverse("impact:item_delete", args=[draft.pk, item.pk]), {}),
        (reverse("impact:item_raise_risk", args=[draft.pk, item.pk]), {}),
        (reverse("impact:return", args=[reviewed.pk]), {"comment": "No."}),
        (reverse("impact:approve", args=[reviewed.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    reviewed.refresh_from_db()
    draft.refresh_from_db()
    assert (reviewed.status, draft.status, draft.items.count()) == (Status.IN_REVIEW, Status.DRAFT, 1)
    assert ImpactAssessment.objects.count() == 2 and not Risk.objects.exists()


def test_owners_assess_their_own_systems_only(login, owner_user, olivia, alice, acme):
    mine = make_system(acme, owner_user, name="Mine")
    theirs = make_system(acme, olivia, name="Theirs")
    client = login(owner_user)
    listing = client.get(reverse("impact:list"))
    assert list(listing.context["start_form"].fields["system"].queryset) == [mine]
    assert dict((s.name, can) for s, can in listing.context["systems_without"]) == {"Mine": True, "Theirs": False}

    assert client.post(reverse("impact:start"), {"system": theirs.pk}).status_code == 403
    assert not ImpactAssessment.objects.filter(system=theirs).exists()
    assert client.post(reverse("impact:start"), {"system": mine.pk}).status_code == 302
    own = ImpactAssessment.objects.get(system=mine)
    assert client.get(reverse("impact:edit", args=[own.pk])).status_code == 200
    assert client.post(reverse("impact:item_add", args=[own.pk]), item_data()).status_code == 302

    foreign = impact_services.impact_assessment_start(system=theirs, acting_user=olivia)
    foreign_item = PrivacyLeakFactory(assessment=foreign, acting_user=olivia)
    assert client.get(reverse("impact:edit", args=[foreign.pk])).status_code == 403
    assert client.get(reverse("impact:detail", args=[foreign.pk])).status_code == 200
    for url in [
        reverse("impact:edit", args=[foreign.pk]),
        reverse("impact:submit", args=[foreign.pk]),
        reverse("impact:item_add", args=[foreign.pk]),
        reverse("impact:item_delete", args=[foreign.pk, foreign_item.pk]),
        reverse("impact:item_raise_risk", args=[foreign.pk, foreign_item.pk]),
    ]:
        assert client.post(url, fields_data()).status_code == 403, url
    assert foreign.items.count() == 1 and not Risk.objects.exists()

    # The author keeps their assessment when the system changes hands; approving stays with officers.
    mine.owner = olivia
    registry_services.inventory_record_save(instance=mine, acting_user=alice)
    assert client.get(reverse("impact:edit", args=[own.pk])).status_code == 200
    client.post(reverse("impact:edit", args=[own.pk]), fields_data())
    assert client.post(reverse("impact:submit", args=[own.pk])).status_code == 302
    own.refresh_from_db()
    assert own.status == Status.IN_REVIEW
    assert client.post(reverse("impact:approve", args=[own.pk])).status_code == 403
    assert client.post(reverse("impact:return", args=[own.pk]), {"comment": "x"}).status_code == 403


@pytest.mark.parametrize("count", [3, 20])
def test_list_costs_a_fixed_number_of_queries(login, olivia, acme, count):
    for n in range(count):
        assessment = impact_services.impact_assessment_start(
            system=make_system(acme, olivia, name=f"System {n:02d}"), acting_user=olivia
        )
        if n % 2:
            PrivacyLeakFactory(assessment=assessment, acting_user=olivia)
    client = login(olivia)
    client.get(reverse("impact:list"))  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("impact:list"))
    assert response.status_code == 200
    assert len(response.context["object_list"]) == count
    assert len(response.context["systems_without"]) == count
    counts = test_list_costs_a_fixed_number_of_queries.__dict__.setdefault("counts", {})
    counts[count] = len(queries)
    assert len(queries) <= 12, [q["sql"] for q in queries]
    if len(counts) == 2:
        assert counts[3] == counts[20], counts


def test_list_filters(login, olivia, alice, acme):
    first = ImpactAssessmentFactory(
        system=make_system(acme, olivia, name="First"), author=olivia, in_review=True, item_factory=PrivacyLeakFactory
    )
    impact_services.impact_assessment_approve(assessment=first, acting_user=alice)
    first.next_review_date = "2000-01-01"
    ImpactAssessment.objects.filter(pk=first.pk).update(next_review_date="2000-01-01")
    second_system = make_system(acme, olivia, name="Second")
    second = impact_services.impact_assessment_start(system=second_system, acting_user=olivia)
    client = login(olivia)

    def listed(**params):
        return [a.pk for a in client.get(reverse("impact:list"), params).context["object_list"]]

    assert set(listed()) == {first.pk, second.pk}
    assert listed(status="draft") == [second.pk]
    assert listed(system=second_system.pk) == [second.pk]
    assert listed(due="true") == [first.pk]
    assert set(listed(status="bogus")) == {first.pk, second.pk}  # an invalid filter is ignored, not a 500
    page = client.get(reverse("impact:list"), {"due": "true"}).content.decode()
    assert "Review due" in page
    empty = client.get(reverse("impact:list"), {"status": "superseded"}).content.decode()
    assert "No impact assessment matches these filters." in empty
    without = [s.name for s, _ in client.get(reverse("impact:list")).context["systems_without"]]
    assert without == ["Second"]


def test_empty_list_has_an_empty_state(login, olivia, acme):
    page = login(olivia).get(reverse("impact:list")).content.decode()
    assert "No impact assessment yet." in page
    assert "Every active AI system has an approved impact assessment." in page


def test_read_view_is_structured_like_42005_and_prints(login, olivia, victor, acme):
    assessment = impact_services.impact_assessment_start(system=make_system(acme, olivia), acting_user=olivia)
    client = login(victor)
    page = client.get(reverse("impact:detail", args=[assessment.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    positions = [html.index(heading) for heading in SECTIONS]
    assert positions == sorted(positions)
    assert "No impact recorded." in html and "?print=1" in html
    printable = client.get(reverse("impact:detail", args=[assessment.pk]), {"print": "1"})
    assert printable.status_code == 200
    printed = printable.content.decode()
    assert all(heading in printed for heading in SECTIONS)
    assert 'class="sidebar"' not in printed and "Acme Health AI" in printed


def test_impacts_are_grouped_by_affected_party_with_linked_risks(login, olivia, acme):
    assessment = impact_services.impact_assessment_start(system=make_system(acme, olivia), acting_user=olivia)
    PrivacyLeakFactory(
        assessment=assessment,
        acting_user=olivia,
        affected_party="society",
        dimension="environmental",
        description="Energy use.",
    )
    harm = PrivacyLeakFactory(
        assessment=assessment, acting_user=olivia, affected_party="individuals", description="Exposure of income data."
    )
    risk = impact_services.impact_item_raise_risk(item=harm, acting_user=olivia)
    page = login(olivia).get(reverse("impact:detail", args=[assessment.pk]))
    groups = [(party, [i.description for i in items]) for party, items in page.context["groups"]]
    assert groups == [("Individuals", ["Exposure of income data."]), ("Society", ["Energy use."])]
    html = page.content.decode()
    assert f'href="{reverse("risk:detail", args=[risk.pk])}"' in html and risk.ref_code in html
    printed = login(olivia).get(reverse("impact:detail", args=[assessment.pk]), {"print": "1"}).content.decode()
    assert f"http://testserver{reverse('risk:detail', args=[risk.pk])}" in printed  # shown on paper
    assert "Raise risk" not in printed


def test_editor_warns_when_the_system_changed_after_the_snapshot(login, olivia, acme):
    system = make_system(acme, olivia)
    assessment = impact_services.impact_assessment_start(system=system, acting_user=olivia)
    client = login(olivia)
    assert (
        "changed after this snapshot" not in client.get(reverse("impact:edit", args=[assessment.pk])).content.decode()
    )
    system.purpose = "Now also sets interest rates."
    registry_services.inventory_record_save(instance=system, acting_user=olivia)
    page = client.get(reverse("impact:edit", args=[assessment.pk])).content.decode()
    assert "changed after this snapshot" in page
    assert "Estimate the default risk of loan applicants." in page  # the snapshot, not the live record


def test_dashboard_tile_links_to_the_list(login, olivia, acme):
    make_system(acme, olivia, status="active")
    page = login(olivia).get(reverse("dashboard"))
    tiles = {t.label: t for t in page.context["tiles"]}
    tile = tiles["Systems without approved impact assessment"]
    assert (
        tile.value == 1 and tile.url == reverse("impact:systems_to_assess") == "/impact-assessments/systems-to-assess/"
    )
    listed = login(olivia).get(tile.url)
    assert listed.status_code == 200 and [s.pk for s in listed.context["object_list"]] == [
        s.pk for s in AISystem.objects.for_org(acme)
    ]


def test_the_editor_records_which_model_version_was_assessed(login, olivia, acme, globex):
    from registry.models import SystemModel
    from tests.registry.factories import AIModelFactory

    system = make_system(acme, olivia)
    used = AIModelFactory(organization=acme, name="Scorecard", version="v3")
    SystemModel.objects.create(organization=acme, system=system, model=used)
    unrelated = AIModelFactory(organization=acme, name="Chat", version="v1")
    theirs = AIModelFactory(organization=globex, name="Theirs", version="v9")
    assessment = impact_services.impact_assessment_start(system=system, acting_user=olivia)
    client = login(olivia)
    url = reverse("impact:edit", args=[assessment.pk])

    editor = client.get(url).content.decode()
    assert "Scorecard" in editor and "Chat" not in editor and "Theirs" not in editor
    for other in (unrelated, theirs):
        refused = client.post(url, fields_data(assessed_model=other.pk))
        assert refused.status_code == 400 and "assessed_model" in refused.context["form"].errors
    saved = client.post(url, fields_data(assessed_model=used.pk, assessed_model_version=""))
    assert saved.status_code == 302
    assessment.refresh_from_db()
    assert assessment.assessed_model == used and assessment.assessed_model_version == "v3"
    document = client.get(reverse("impact:detail", args=[assessment.pk])).content.decode()
    assert "Assessed model: Scorecard, version v3" in document
