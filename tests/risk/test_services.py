"""Risk services: scoring, criteria changes, acceptance, treatments, impact assessment workflow."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from controls.models import Requirement
from risk import services
from risk.impact import services as impact_services
from risk.models import ImpactAssessment, ImpactItem, Level, Risk, TreatmentAction, default_matrix
from tests.registry.factories import AISystemFactory
from tests.risk.factories import ImpactItemFactory, RiskFactory

THREE = [
    {"label": "Low", "description": ""},
    {"label": "Medium", "description": ""},
    {"label": "High", "description": ""},
]
JUSTIFICATION = "The service is switched off within the quarter; a workaround covers the remaining weeks."


def to_three_by_three(org, user, threshold=Level.MEDIUM):
    criteria = services.criteria_for(org)
    return services.criteria_update(
        criteria=criteria,
        likelihood_levels=THREE,
        impact_levels=THREE,
        matrix=default_matrix(3, 3),
        acceptance_threshold=threshold,
        acting_user=user,
    )


def controls(*refs: str) -> list[Requirement]:
    rows = {r.ref: r for r in Requirement.objects.of_framework("ISO42001").controls().filter(ref__in=refs)}
    return [rows[ref] for ref in refs]


def errors_of(exc_info) -> dict[str, list[str]]:
    return exc_info.value.message_dict


# --- Scoring and criteria ----------------------------------------------------------------------


def test_default_criteria_are_five_by_five_and_created_once(acme):
    criteria = services.criteria_for(acme)
    assert len(criteria.likelihood_levels) == 5 and len(criteria.impact_levels) == 5
    assert criteria.acceptance_threshold == Level.MEDIUM
    assert services.criteria_for(acme).pk == criteria.pk
    assert criteria.level_for(4, 5) == Level.CRITICAL
    assert criteria.level_for(1, 1) == Level.LOW
    assert criteria.level_for(None, 3) == ""


def test_risk_save_scores_with_the_default_matrix_and_assigns_references(acme, olivia):
    critical = RiskFactory(organization=acme, owner=olivia, inherent_likelihood=4, inherent_impact=5)
    low = RiskFactory(organization=acme, owner=olivia, inherent_likelihood=1, inherent_impact=1)
    unassessed = RiskFactory(organization=acme, owner=olivia)
    assert critical.inherent_level == Level.CRITICAL and critical.status == Risk.Status.ASSESSED
    assert low.inherent_level == Level.LOW and low.current_level == Level.LOW
    assert unassessed.inherent_level == "" and unassessed.status == Risk.Status.IDENTIFIED
    assert [critical.ref_code, low.ref_code, unassessed.ref_code] == ["RSK-0001", "RSK-0002", "RSK-0003"]
    assert critical.history.get().history_user == olivia


def test_risk_save_refuses_scores_outside_the_scale_and_half_pairs(acme, olivia):
    with pytest.raises(ValidationError) as exc:
        RiskFactory(organization=acme, owner=olivia, inherent_likelihood=6, inherent_impact=2)
    assert "inherent_likelihood" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        RiskFactory(organization=acme, owner=olivia, inherent_likelihood=2)
    assert "inherent_impact" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        RiskFactory(
            organization=acme,
            owner=olivia,
            inherent_likelihood=2,
            inherent_impact=2,
            residual_likelihood=1,
            residual_impact=1,
        )
    assert "treatment_option" in errors_of(exc)
    assert not Risk.objects.for_org(acme).exists()


def test_risk_save_refuses_another_organisations_system(acme, globex, olivia):
    with pytest.raises(ValidationError) as exc:
        RiskFactory(organization=acme, owner=olivia, system=AISystemFactory(organization=globex))
    assert "system" in errors_of(exc)


def test_criteria_change_rescores_open_risks_clamps_and_leaves_closed_ones(acme, olivia, alice):
    high = RiskFactory(
        organization=acme,
        owner=olivia,
        inherent_likelihood=5,
        inherent_impact=5,
        treatment_option=Risk.Treatment.MODIFY,
        residual_likelihood=4,
        residual_impact=2,
    )
    unchanged = RiskFactory(organization=acme, owner=olivia, inherent_likelihood=1, inherent_impact=1)
    closed = RiskFactory(
        organization=acme, owner=olivia, inherent_likelihood=5, inherent_impact=5, status=Risk.Status.CLOSED
    )
    history_before = {r.pk: r.history.count() for r in (high, unchanged, closed)}

    criteria, rescored = to_three_by_three(acme, alice)

    assert rescored == 1
    assert len(criteria.likelihood_levels) == 3
    high.refresh_from_db()
    assert (high.inherent_likelihood, high.inherent_impact) == (3, 3)  # clamped to the new top level
    assert high.inherent_level == Level.CRITICAL
    assert (high.residual_likelihood, high.residual_impact) == (3, 2)
    assert high.residual_level == criteria.level_for(3, 2) == Level.HIGH
    unchanged.refresh_from_db()
    assert unchanged.inherent_level == Level.LOW
    closed.refresh_from_db()
    assert (closed.inherent_likelihood, closed.inherent_impact, closed.inherent_level) == (5, 5, Level.CRITICAL)

    assert high.history.count() == history_before[high.pk] + 1
    latest = high.history.first()
    assert latest.history_user == alice
    assert "criteria" in latest.history_change_reason
    assert unchanged.history.count() == history_before[unchanged.pk]
    assert closed.history.count() == history_before[closed.pk]


def test_criteria_change_that_moves_an_accepted_risks_level_withdraws_the_acceptance(acme, olivia, alice):
    risk = RiskFactory(organization=acme, owner=olivia, inherent_likelihood=3, inherent_impact=2)
    assert risk.inherent_level == Level.MEDIUM
    services.risk_accept(risk=risk, acting_user=alice, rationale="Medium is within our threshold.")
    steady = RiskFactory(organization=acme, owner=olivia, inherent_likelihood=1, inherent_impact=1)
    services.risk_accept(risk=steady, acting_user=alice, rationale="Low.")

    to_three_by_three(acme, alice, threshold=Level.LOW)

    risk.refresh_from_db()
    assert risk.inherent_level == Level.HIGH
    assert risk.status == Risk.Status.ASSESSED and risk.accepted_by is None and risk.accepted_at is None
    steady.refresh_from_db()
    assert steady.status == Risk.Status.ACCEPTED and steady.inherent_level == Level.LOW


def test_criteria_update_validates_scales_and_matrix(acme, alice):
    criteria = services.criteria_for(acme)
    with pytest.raises(ValidationError) as exc:
        services.criteria_update(
            criteria=criteria, likelihood_levels=THREE[:2], impact_levels=THREE, matrix=default_matrix(2, 3),
            acceptance_threshold=Level.MEDIUM, acting_user=alice,
        )  # fmt: skip
    assert "likelihood_levels" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        services.criteria_update(
            criteria=services.criteria_for(acme), likelihood_levels=THREE, impact_levels=THREE,
            matrix=default_matrix(5, 5), acceptance_threshold=Level.MEDIUM, acting_user=alice,
        )  # fmt: skip
    assert "matrix" in errors_of(exc)
    matrix = default_matrix(3, 3)
    matrix[0][0] = "tiny"
    with pytest.raises(ValidationError) as exc:
        services.criteria_update(
            criteria=services.criteria_for(acme), likelihood_levels=THREE, impact_levels=THREE, matrix=matrix,
            acceptance_threshold=Level.MEDIUM, acting_user=alice,
        )  # fmt: skip
    assert "matrix" in errors_of(exc)
    assert len(services.criteria_for(acme).likelihood_levels) == 5


# --- Acceptance --------------------------------------------------------------------------------


def test_accept_within_threshold_needs_a_rationale_and_records_who_and_when(acme, olivia, alice):
    risk = RiskFactory(organization=acme, owner=olivia, inherent_likelihood=2, inherent_impact=2)
    assert risk.current_level == Level.LOW
    with pytest.raises(ValidationError) as exc:
        services.risk_accept(risk=risk, acting_user=alice, rationale="  ")
    assert "rationale" in errors_of(exc)
    services.risk_accept(risk=risk, acting_user=alice, rationale="Low and monitored monthly.")
    risk.refresh_from_db()
    assert risk.status == Risk.Status.ACCEPTED
    assert risk.accepted_by == alice and risk.accepted_at is not None
    assert risk.acceptance_rationale == "Low and monitored monthly." and risk.acceptance_override is False
    assert risk.history.first().history_user == alice


def test_accept_above_threshold_needs_an_override_with_a_real_justification(acme, olivia, alice):
    risk = RiskFactory(organization=acme, owner=olivia, inherent_likelihood=4, inherent_impact=5)
    with pytest.raises(ValidationError) as exc:
        services.risk_accept(risk=risk, acting_user=alice, rationale=JUSTIFICATION)
    assert "override" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        services.risk_accept(risk=risk, acting_user=alice, rationale="Fine.", override=True)
    assert "rationale" in errors_of(exc)
    risk.refresh_from_db()
    assert risk.status == Risk.Status.ASSESSED and risk.accepted_by is None

    services.risk_accept(risk=risk, acting_user=alice, rationale=JUSTIFICATION, override=True)
    risk.refresh_from_db()
    assert risk.status == Risk.Status.ACCEPTED and risk.acceptance_override is True and risk.accepted_by == alice


def test_accept_refuses_unassessed_and_closed_risks(acme, olivia, alice):
    with pytest.raises(ValidationError) as exc:
        services.risk_accept(risk=RiskFactory(organization=acme, owner=olivia), acting_user=alice, rationale="Why not.")
    assert "__all__" in errors_of(exc)
    closed = RiskFactory(
        organization=acme, owner=olivia, inherent_likelihood=1, inherent_impact=1, status=Risk.Status.CLOSED
    )
    with pytest.raises(ValidationError):
        services.risk_accept(risk=closed, acting_user=alice, rationale="Why not.")


def test_changing_scores_after_acceptance_sends_the_risk_back_to_assessed(acme, olivia, alice):
    risk = RiskFactory(organization=acme, owner=olivia, inherent_likelihood=2, inherent_impact=2)
    services.risk_accept(risk=risk, acting_user=alice, rationale="Low and monitored monthly.")
    risk.refresh_from_db()
    risk.title = "Model drift degrades triage (renamed)"
    services.risk_save(instance=risk, acting_user=olivia)
    assert Risk.objects.get(pk=risk.pk).status == Risk.Status.ACCEPTED  # same level: still covered

    risk.inherent_likelihood, risk.inherent_impact = 5, 5
    services.risk_save(instance=risk, acting_user=olivia)
    risk.refresh_from_db()
    assert risk.status == Risk.Status.ASSESSED
    assert risk.accepted_by is None and risk.accepted_at is None and risk.acceptance_override is False


def test_risk_save_cannot_set_accepted(acme, olivia):
    with pytest.raises(ValidationError) as exc:
        RiskFactory(
            organization=acme, owner=olivia, inherent_likelihood=1, inherent_impact=1, status=Risk.Status.ACCEPTED
        )
    assert "status" in errors_of(exc)
    risk = RiskFactory(organization=acme, owner=olivia, inherent_likelihood=1, inherent_impact=1)
    risk.status = Risk.Status.ACCEPTED
    with pytest.raises(ValidationError):
        services.risk_save(instance=risk, acting_user=olivia)
    assert Risk.objects.get(pk=risk.pk).status == Risk.Status.ASSESSED


# --- Treatments --------------------------------------------------------------------------------


def test_treatment_save_sets_controls_exactly_and_moves_the_risk_into_treatment(acme, olivia):
    risk = RiskFactory(organization=acme, owner=olivia, inherent_likelihood=4, inherent_impact=4)
    treatment = TreatmentAction(organization=acme, risk=risk, title="Drift monitoring", owner=olivia)
    a626, a624, a74 = controls("A.6.2.6", "A.6.2.4", "A.7.4")
    services.treatment_save(instance=treatment, acting_user=olivia, control_ids=[a626.pk, a624.pk])
    assert set(treatment.control_links.values_list("control_id", flat=True)) == {a626.pk, a624.pk}
    risk.refresh_from_db()
    assert risk.status == Risk.Status.IN_TREATMENT

    services.treatment_save(instance=treatment, acting_user=olivia, control_ids=[a624.pk, a74.pk])
    assert set(treatment.control_links.values_list("control_id", flat=True)) == {a624.pk, a74.pk}
    treatment.title = "Drift monitoring and retraining"
    services.treatment_save(instance=treatment, acting_user=olivia)  # no list given: links untouched
    assert treatment.control_links.count() == 2
    services.treatment_save(instance=treatment, acting_user=olivia, control_ids=[])
    assert not treatment.control_links.exists()


def test_treatment_save_refuses_non_controls_and_other_organisations_risks(acme, globex, olivia):
    risk = RiskFactory(organization=acme, owner=olivia)
    source = Requirement.objects.filter(kind="risk_source").first()
    treatment = TreatmentAction(organization=acme, risk=risk, title="Review", owner=olivia)
    with pytest.raises(ValidationError) as exc:
        services.treatment_save(instance=treatment, acting_user=olivia, control_ids=[source.pk])
    assert "controls" in errors_of(exc)
    assert not TreatmentAction.objects.exists()
    foreign = RiskFactory(organization=globex, acting_user=None)
    with pytest.raises(ValidationError) as exc:
        services.treatment_save(
            instance=TreatmentAction(organization=acme, risk=foreign, title="Sneaky", owner=olivia), acting_user=olivia
        )
    assert "risk" in errors_of(exc)


def test_cancelled_treatment_does_not_move_the_risk(acme, olivia):
    risk = RiskFactory(organization=acme, owner=olivia, inherent_likelihood=2, inherent_impact=2)
    services.treatment_save(
        instance=TreatmentAction(
            organization=acme, risk=risk, title="X", owner=olivia, status=TreatmentAction.Status.CANCELLED
        ),
        acting_user=olivia,
    )
    risk.refresh_from_db()
    assert risk.status == Risk.Status.ASSESSED


# --- Impact assessments ------------------------------------------------------------------------


@pytest.fixture
def system(acme, olivia):
    return AISystemFactory(organization=acme, owner=olivia, name="Triage assistant")


def conclude(assessment, user, text="Acceptable with the listed measures."):
    assessment.conclusion = text
    return impact_services.impact_assessment_save(assessment=assessment, acting_user=user)


def test_impact_assessment_workflow_draft_review_approved(acme, system, olivia, alice):
    assessment = impact_services.impact_assessment_start(system=system, acting_user=olivia)
    assert (assessment.version, assessment.status, assessment.author) == (1, ImpactAssessment.Status.DRAFT, olivia)
    assert assessment.system_information["ref_code"] == system.ref_code

    with pytest.raises(ValidationError) as exc:
        impact_services.impact_assessment_submit(assessment=assessment, acting_user=olivia)
    assert {"__all__", "conclusion"} <= set(errors_of(exc))

    ImpactItemFactory(assessment=assessment, acting_user=olivia)
    conclude(assessment, olivia)
    impact_services.impact_assessment_submit(assessment=assessment, acting_user=olivia)
    assert assessment.status == ImpactAssessment.Status.IN_REVIEW and assessment.submitted_at is not None

    # Only drafts change.
    assessment.conclusion = "Changed in review"
    with pytest.raises(ValidationError):
        impact_services.impact_assessment_save(assessment=assessment, acting_user=olivia)
    with pytest.raises(ValidationError):
        ImpactItemFactory(assessment=assessment, acting_user=olivia)
    assessment.refresh_from_db()

    with pytest.raises(ValidationError) as exc:
        impact_services.impact_assessment_approve(assessment=assessment, acting_user=olivia)
    assert "author" in " ".join(exc.value.messages)
    impact_services.impact_assessment_approve(assessment=assessment, acting_user=alice)
    assessment.refresh_from_db()
    assert assessment.status == ImpactAssessment.Status.APPROVED
    assert assessment.approved_by == alice and assessment.approved_at is not None
    with pytest.raises(ValidationError):
        impact_services.impact_assessment_approve(assessment=assessment, acting_user=alice)


def test_return_needs_a_comment_and_sends_back_to_draft(acme, system, olivia, alice):
    assessment = impact_services.impact_assessment_start(system=system, acting_user=olivia)
    with pytest.raises(ValidationError):
        impact_services.impact_assessment_return(assessment=assessment, acting_user=alice, comment="Not in review yet")
    ImpactItemFactory(assessment=assessment, acting_user=olivia)
    conclude(assessment, olivia)
    impact_services.impact_assessment_submit(assessment=assessment, acting_user=olivia)
    with pytest.raises(ValidationError) as exc:
        impact_services.impact_assessment_return(assessment=assessment, acting_user=alice, comment=" ")
    assert "comment" in errors_of(exc)
    impact_services.impact_assessment_return(
        assessment=assessment, acting_user=alice, comment="Add the privacy impacts."
    )
    assessment.refresh_from_db()
    assert assessment.status == ImpactAssessment.Status.DRAFT
    assert assessment.review_comment == "Add the privacy impacts."
    conclude(assessment, olivia, "Revised.")  # editable again


def test_new_version_copies_items_and_supersedes_the_approved_one_on_approval(acme, system, olivia, alice):
    first = impact_services.impact_assessment_start(system=system, acting_user=olivia)
    ImpactItemFactory(assessment=first, acting_user=olivia)
    ImpactItemFactory(
        assessment=first, acting_user=olivia, dimension=ImpactItem.Dimension.PRIVACY, nature=ImpactItem.Nature.BENEFIT
    )
    conclude(first, olivia)
    impact_services.impact_assessment_submit(assessment=first, acting_user=olivia)
    with pytest.raises(ValidationError):  # still in review
        impact_services.impact_assessment_start(system=system, acting_user=olivia)
    impact_services.impact_assessment_approve(assessment=first, acting_user=alice)

    second = impact_services.impact_assessment_start(system=system, acting_user=olivia)
    assert second.version == 2 and second.status == ImpactAssessment.Status.DRAFT
    assert second.conclusion == first.conclusion and second.scope == first.scope
    assert sorted(second.items.values_list("dimension", flat=True)) == sorted(
        first.items.values_list("dimension", flat=True)
    )
    assert first.items.count() == 2  # the copies are new rows
    first.refresh_from_db()
    assert first.status == ImpactAssessment.Status.APPROVED  # superseded only once v2 is approved

    impact_services.impact_assessment_submit(assessment=second, acting_user=olivia)
    impact_services.impact_assessment_approve(assessment=second, acting_user=alice)
    first.refresh_from_db()
    assert first.status == ImpactAssessment.Status.SUPERSEDED


def test_raise_risk_rescales_to_the_criteria_once_and_only_for_harms(acme, system, olivia, alice):
    assessment = impact_services.impact_assessment_start(system=system, acting_user=olivia)
    harm = ImpactItemFactory(
        assessment=assessment,
        acting_user=olivia,
        severity=ImpactItem.Severity.VERY_HIGH,
        likelihood=ImpactItem.Likelihood.LIKELY,
    )
    benefit = ImpactItemFactory(assessment=assessment, acting_user=olivia, nature=ImpactItem.Nature.BENEFIT)

    risk = impact_services.impact_item_raise_risk(item=harm, acting_user=alice)
    assert risk.system == system and risk.owner == olivia  # the system's owner
    # 4-level item scales onto the 5-level defaults: likely (3/4) -> 4/5, very high (4/4) -> 5/5.
    assert (risk.inherent_likelihood, risk.inherent_impact) == (4, 5)
    assert risk.inherent_level == Level.CRITICAL and risk.status == Risk.Status.ASSESSED
    harm.refresh_from_db()
    assert harm.risk == risk

    with pytest.raises(ValidationError):
        impact_services.impact_item_raise_risk(item=harm, acting_user=alice)
    with pytest.raises(ValidationError):
        impact_services.impact_item_raise_risk(item=benefit, acting_user=alice)
    assert Risk.objects.for_org(acme).count() == 1


def test_raise_risk_uses_the_current_scale_length(acme, system, olivia, alice):
    to_three_by_three(acme, alice)
    assessment = impact_services.impact_assessment_start(system=system, acting_user=olivia)
    harm = ImpactItemFactory(
        assessment=assessment,
        acting_user=olivia,
        severity=ImpactItem.Severity.VERY_HIGH,
        likelihood=ImpactItem.Likelihood.LIKELY,
    )
    risk = impact_services.impact_item_raise_risk(item=harm, acting_user=alice)
    assert (risk.inherent_likelihood, risk.inherent_impact) == (2, 3)


def test_items_of_a_non_draft_cannot_be_deleted(acme, system, olivia, alice):
    assessment = impact_services.impact_assessment_start(system=system, acting_user=olivia)
    item = ImpactItemFactory(assessment=assessment, acting_user=olivia)
    conclude(assessment, olivia)
    impact_services.impact_assessment_submit(assessment=assessment, acting_user=olivia)
    item.refresh_from_db()
    with pytest.raises(ValidationError):
        impact_services.impact_item_delete(item=item, acting_user=olivia)
    assert ImpactItem.objects.filter(pk=item.pk).exists()
