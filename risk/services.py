"""Writes of the risk module: criteria, risks, treatments, impact assessments and their workflow.

Role checks (who may accept a risk or approve an assessment) happen where the request is
handled, through ``Tenant.can``; the rules that hold whoever acts (levels within the
criteria, approver is not the author, only drafts change) live here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Model
from django.utils import timezone

from aims.models import Organization, User
from risk.models import (
    DEFAULT_IMPACT,
    DEFAULT_LIKELIHOOD,
    LEVEL_RANK,
    ImpactAssessment,
    ImpactItem,
    Level,
    Risk,
    RiskCriteria,
    TreatmentAction,
    TreatmentControl,
    default_matrix,
)

REF_PATTERN = re.compile(r"^RSK-(\d+)$")
Status = ImpactAssessment.Status


def _save(instance: Model, acting_user: User | None) -> Model:
    if acting_user is not None:
        instance._history_user = acting_user
    instance.full_clean()
    instance.save()
    return instance


# --- Criteria ----------------------------------------------------------------------------------


def criteria_for(organization: Organization) -> RiskCriteria:
    """The organisation's criteria, created with sensible defaults the first time."""
    criteria = RiskCriteria.objects.for_org(organization).first()
    if criteria is None:
        criteria = RiskCriteria(
            organization=organization,
            likelihood_levels=DEFAULT_LIKELIHOOD,
            impact_levels=DEFAULT_IMPACT,
            matrix=default_matrix(),
        )
        criteria.save()
    return criteria


@transaction.atomic
def criteria_update(
    *,
    criteria: RiskCriteria,
    likelihood_levels: list[dict],
    impact_levels: list[dict],
    matrix: list[list[str]],
    acceptance_threshold: str,
    acting_user: User,
) -> tuple[RiskCriteria, int]:
    """Change the criteria and re-score every open risk; returns the criteria and how many risks changed.

    Likelihood or impact values beyond a shortened scale move to its top level. An accepted
    risk whose level changes goes back to "assessed": its acceptance covered the old level.
    """
    criteria.likelihood_levels = likelihood_levels
    criteria.impact_levels = impact_levels
    criteria.matrix = matrix
    criteria.acceptance_threshold = acceptance_threshold
    _save(criteria, acting_user)
    rescored = 0
    for risk in Risk.objects.for_org(criteria.organization).open().select_related("organization"):
        before = (risk.inherent_likelihood, risk.inherent_impact, risk.inherent_level, risk.residual_likelihood,
                  risk.residual_impact, risk.residual_level)  # fmt: skip
        _score(risk, criteria, clamp=True)
        after = (risk.inherent_likelihood, risk.inherent_impact, risk.inherent_level, risk.residual_likelihood,
                 risk.residual_impact, risk.residual_level)  # fmt: skip
        if before != after:
            if risk.status == Risk.Status.ACCEPTED and (before[2], before[5]) != (after[2], after[5]):
                risk.status = Risk.Status.ASSESSED
                risk.accepted_by, risk.accepted_at, risk.acceptance_override = None, None, False
            risk._history_user = acting_user
            risk._change_reason = "Re-scored after a change of the risk criteria"
            risk.save()
            rescored += 1
    return criteria, rescored


def _score(risk: Risk, criteria: RiskCriteria, clamp: bool = False) -> None:
    top_l, top_i = len(criteria.likelihood_levels), len(criteria.impact_levels)
    if clamp:
        for name, top in (("inherent_likelihood", top_l), ("residual_likelihood", top_l),
                          ("inherent_impact", top_i), ("residual_impact", top_i)):  # fmt: skip
            value = getattr(risk, name)
            if value is not None and value > top:
                setattr(risk, name, top)
    risk.inherent_level = criteria.level_for(risk.inherent_likelihood, risk.inherent_impact)
    risk.residual_level = criteria.level_for(risk.residual_likelihood, risk.residual_impact)


def _validate_scores(risk: Risk, criteria: RiskCriteria) -> None:
    errors = {}
    top_l, top_i = len(criteria.likelihood_levels), len(criteria.impact_levels)
    for prefix in ("inherent", "residual"):
        likelihood, impact = getattr(risk, f"{prefix}_likelihood"), getattr(risk, f"{prefix}_impact")
        if (likelihood is None) != (impact is None):
            errors[f"{prefix}_impact" if impact is None else f"{prefix}_likelihood"] = (
                "Give both likelihood and impact, or neither."
            )
        if likelihood is not None and not 1 <= likelihood <= top_l:
            errors[f"{prefix}_likelihood"] = f"Choose a likelihood from 1 to {top_l}."
        if impact is not None and not 1 <= impact <= top_i:
            errors[f"{prefix}_impact"] = f"Choose an impact from 1 to {top_i}."
    if risk.residual_likelihood is not None and not risk.treatment_option:
        errors["treatment_option"] = "Choose how the risk is treated before giving its residual level."
    if errors:
        raise ValidationError(errors)


# --- Risks -------------------------------------------------------------------------------------


def _next_ref_code(organization: Organization) -> str:
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    numbers = [
        int(m.group(1))
        for ref in Risk.objects.for_org(organization).values_list("ref_code", flat=True)
        if (m := REF_PATTERN.match(ref))
    ]
    return f"RSK-{max(numbers, default=0) + 1:04d}"


@transaction.atomic
def risk_save(*, instance: Risk, acting_user: User | None) -> Risk:
    """Create or update a risk: reference, levels from the criteria, and the status rules.

    Acceptance is not set here (see :func:`risk_accept`); a change of an accepted risk's
    inherent or residual *level* sends it back to "assessed", since the acceptance no longer
    covers it (new scores that give the same levels keep it).
    """
    criteria = criteria_for(instance.organization)
    if instance.system_id and instance.system.organization_id != instance.organization_id:
        raise ValidationError({"system": "Choose one of your organisation's AI systems."})
    _validate_scores(instance, criteria)
    previous = Risk.objects.filter(pk=instance.pk).first() if instance.pk else None
    if instance.status == Risk.Status.ACCEPTED and (previous is None or previous.status != Risk.Status.ACCEPTED):
        raise ValidationError({"status": "Use “Accept risk”, which checks the level against the criteria."})
    _score(instance, criteria)
    if (
        previous is not None
        and previous.status == Risk.Status.ACCEPTED
        and (previous.residual_level != instance.residual_level or previous.inherent_level != instance.inherent_level)
    ):
        instance.status = Risk.Status.ASSESSED
        instance.accepted_by, instance.accepted_at, instance.acceptance_override = None, None, False
    if instance.status == Risk.Status.IDENTIFIED and instance.inherent_level:
        instance.status = Risk.Status.ASSESSED
    if not instance.ref_code:
        instance.ref_code = _next_ref_code(instance.organization)
    return _save(instance, acting_user)


@transaction.atomic
def risk_accept(*, risk: Risk, acting_user: User, rationale: str, override: bool = False) -> Risk:
    """Accept a risk at its residual (or, untreated, inherent) level.

    Within the acceptance threshold a rationale suffices; above it, acceptance needs an
    explicit override with a justification.
    """
    criteria = criteria_for(risk.organization)
    level = risk.current_level
    errors = {}
    if not level:
        errors["__all__"] = "Assess the risk's likelihood and impact before accepting it."
    if not rationale.strip():
        errors["rationale"] = "Explain why the organisation accepts this risk."
    if risk.status == Risk.Status.CLOSED:
        errors["__all__"] = "A closed risk cannot be accepted."
    if level and not criteria.acceptable(level):
        if not override:
            errors["override"] = (
                f"The level ({Level(level).label.lower()}) is above the acceptance threshold "
                f"({Level(criteria.acceptance_threshold).label.lower()}): treat the risk further, or "
                "tick the override and justify it."
            )
        elif len(rationale.strip()) < 30:
            errors["rationale"] = "An override needs a real justification (at least a sentence)."
    if errors:
        raise ValidationError(errors)
    risk.status = Risk.Status.ACCEPTED
    risk.accepted_by, risk.accepted_at = acting_user, timezone.now()
    risk.acceptance_rationale = rationale.strip()
    risk.acceptance_override = bool(level and not criteria.acceptable(level))
    return _save(risk, acting_user)


@transaction.atomic
def risk_delete(*, risk: Risk, acting_user: User) -> None:
    risk._history_user = acting_user
    risk.delete()


# --- Treatments --------------------------------------------------------------------------------


def _controls(control_ids: Iterable) -> list[Model]:
    requirement = apps.get_model("controls", "Requirement")
    wanted = set(control_ids)
    found = list(requirement.objects.filter(pk__in=wanted, kind="control"))
    if len(found) != len(wanted):
        raise ValidationError({"controls": "Choose Annex A controls from the catalogue."})
    return found


@transaction.atomic
def treatment_save(
    *, instance: TreatmentAction, acting_user: User | None, control_ids: Iterable | None = None
) -> TreatmentAction:
    """Create or update a treatment; with ``control_ids``, make them exactly the controls it relies on."""
    if instance.risk.organization_id != instance.organization_id:
        raise ValidationError({"risk": "Choose one of your organisation's risks."})
    _save(instance, acting_user)
    if control_ids is not None:
        controls = {c.pk: c for c in _controls(control_ids)}
        for link in instance.control_links.exclude(control_id__in=controls):
            link._history_user = acting_user
            link.delete()
        existing = set(instance.control_links.values_list("control_id", flat=True))
        for pk, control in controls.items():
            if pk not in existing:
                _save(TreatmentControl(organization_id=instance.organization_id, treatment=instance, control=control),
                      acting_user)  # fmt: skip
    risk = instance.risk
    if (
        risk.status in (Risk.Status.IDENTIFIED, Risk.Status.ASSESSED)
        and instance.status != TreatmentAction.Status.CANCELLED
    ):
        risk.status = Risk.Status.IN_TREATMENT
        _save(risk, acting_user)
    return instance


@transaction.atomic
def treatment_delete(*, treatment: TreatmentAction, acting_user: User) -> None:
    treatment._history_user = acting_user
    treatment.delete()


# --- Impact assessments ------------------------------------------------------------------------


def system_snapshot(system) -> dict:
    """What the inventory says about the system now: kept with the assessment as its starting point."""
    links = system.model_links.select_related("model").prefetch_related("model__dataset_links__dataset")
    models = [{"name": link.model.name, "version": link.model.version, "type": link.model.get_kind_display(),
               "source": link.model.get_source_display()} for link in links]  # fmt: skip
    datasets = sorted(
        {
            f"{d.dataset.name} ({d.get_usage_display().lower()})"
            for link in links
            for d in link.model.dataset_links.all()
        }
    )
    return {
        "ref_code": system.ref_code,
        "name": system.name,
        "description": system.description,
        "purpose": system.purpose,
        "intended_use": system.intended_use,
        "foreseeable_misuse": system.foreseeable_misuse,
        "deployment_context": system.get_deployment_context_display(),
        "automation_level": system.get_automation_level_display(),
        "human_oversight": system.human_oversight,
        "design_choices": system.design_choices,
        "people_decisions": system.get_people_decisions_display(),
        "eu_ai_act_tier": system.get_eu_ai_act_tier_display(),
        "personal_data": system.personal_data,
        "affected_stakeholders": system.affected_stakeholders,
        "models": models,
        "datasets": datasets,
        "captured_at": timezone.now().isoformat(),
    }


@transaction.atomic
def impact_assessment_start(*, system, acting_user: User) -> ImpactAssessment:
    """Start the next version of a system's assessment as a draft.

    The new draft copies the latest version's text and items, so a re-assessment after a
    change starts from what was known, and takes a fresh snapshot of the inventory.
    """
    # Lock the system so two people starting at once cannot take the same version number.
    system = type(system).objects.select_for_update().get(pk=system.pk)
    if system.status == "retired":
        raise ValidationError("A retired system is not assessed any more.")
    previous = ImpactAssessment.objects.filter(system=system).order_by("-version").first()
    if previous is not None and previous.status in (Status.DRAFT, Status.IN_REVIEW):
        raise ValidationError(
            f"Version {previous.version} of this system's assessment is still {previous.get_status_display().lower()}."
        )
    version = (ImpactAssessment.objects.filter(system=system).aggregate(v=Max("version"))["v"] or 0) + 1
    snapshot = system_snapshot(system)
    assessment = ImpactAssessment(
        organization_id=system.organization_id,
        system=system,
        version=version,
        title=f"Impact assessment of {system.name}",
        system_information=snapshot,
        author=acting_user,
    )
    if previous is not None:
        for name in ("title", "scope", "data_information", "model_information", "deployment_environment",
                     "interested_parties", "conclusion"):  # fmt: skip
            setattr(assessment, name, getattr(previous, name))
    else:
        assessment.scope = f"The use of {system.name} as recorded in the inventory ({system.ref_code})."
        assessment.model_information = "; ".join(
            f"{m['name']} v{m['version']} ({m['type']})" for m in snapshot["models"]
        )
        assessment.data_information = "; ".join(snapshot["datasets"])
        assessment.deployment_environment = f"{snapshot['deployment_context']}. {snapshot['automation_level']}."
        assessment.interested_parties = system.affected_stakeholders
    _save(assessment, acting_user)
    if previous is not None:
        for item in previous.items.all():
            item.pk, item.id, item.assessment, item.risk_id = None, None, assessment, item.risk_id
            _save(item, acting_user)
    return assessment


def _ensure_draft(assessment: ImpactAssessment) -> None:
    if not assessment.editable:
        status = assessment.get_status_display().lower()
        raise ValidationError(f"Version {assessment.version} is {status}: start a new version to change it.")


@transaction.atomic
def impact_assessment_save(*, assessment: ImpactAssessment, acting_user: User) -> ImpactAssessment:
    stored = ImpactAssessment.objects.get(pk=assessment.pk)
    _ensure_draft(stored)
    return _save(assessment, acting_user)


@transaction.atomic
def impact_assessment_delete(*, assessment: ImpactAssessment, acting_user: User) -> None:
    """Delete a draft with its items; anything past draft is a record of the AIMS and stays."""
    stored = ImpactAssessment.objects.select_for_update().get(pk=assessment.pk)
    if not stored.editable:
        status = stored.get_status_display().lower()
        raise ValidationError(f"Version {stored.version} is {status}: only a draft can be deleted.")
    stored._history_user = acting_user
    stored.delete()


@transaction.atomic
def impact_assessment_submit(*, assessment: ImpactAssessment, acting_user: User) -> ImpactAssessment:
    _ensure_draft(assessment)
    errors = {}
    if not assessment.items.exists():
        errors["__all__"] = "Record at least one impact before submitting the assessment."
    if not assessment.conclusion.strip():
        errors["conclusion"] = "Write the conclusion before submitting the assessment."
    if errors:
        raise ValidationError(errors)
    assessment.status, assessment.submitted_at, assessment.review_comment = Status.IN_REVIEW, timezone.now(), ""
    return _save(assessment, acting_user)


@transaction.atomic
def impact_assessment_return(*, assessment: ImpactAssessment, acting_user: User, comment: str) -> ImpactAssessment:
    """Send an assessment in review back to draft with the reviewer's comment."""
    if assessment.status != Status.IN_REVIEW:
        raise ValidationError("Only an assessment in review can be returned.")
    if not comment.strip():
        raise ValidationError({"comment": "Say what needs to change."})
    assessment.status, assessment.review_comment = Status.DRAFT, comment.strip()
    return _save(assessment, acting_user)


@transaction.atomic
def impact_assessment_approve(*, assessment: ImpactAssessment, acting_user: User) -> ImpactAssessment:
    """Approve an assessment in review; the system's previously approved version becomes superseded."""
    if assessment.status != Status.IN_REVIEW:
        raise ValidationError("Only an assessment in review can be approved.")
    if assessment.author_id == acting_user.pk:
        raise ValidationError("The author cannot approve their own assessment: ask another approver.")
    for older in ImpactAssessment.objects.filter(system=assessment.system, status=Status.APPROVED):
        older.status = Status.SUPERSEDED
        _save(older, acting_user)
    assessment.status, assessment.approved_by, assessment.approved_at = Status.APPROVED, acting_user, timezone.now()
    return _save(assessment, acting_user)


@transaction.atomic
def impact_item_save(*, item: ImpactItem, acting_user: User) -> ImpactItem:
    _ensure_draft(item.assessment)
    if item._state.adding and not item.order:
        item.order = (item.assessment.items.aggregate(o=Max("order"))["o"] or 0) + 1
    return _save(item, acting_user)


@transaction.atomic
def impact_item_delete(*, item: ImpactItem, acting_user: User) -> None:
    _ensure_draft(item.assessment)
    item._history_user = acting_user
    item.delete()


def _rescale(value: int, source_levels: int, target_levels: int) -> int:
    """Map a level from one scale to another of a different length, keeping its relative position."""
    return max(1, min(target_levels, round(value * target_levels / source_levels)))


@transaction.atomic
def impact_item_raise_risk(*, item: ImpactItem, acting_user: User) -> Risk:
    """Turn a harmful impact into a risk of the register, scored on the organisation's scales."""
    if item.risk_id:
        raise ValidationError("This impact already has a risk in the register.")
    if item.nature != ImpactItem.Nature.HARM:
        raise ValidationError("Only a harm can raise a risk.")
    assessment = item.assessment
    criteria = criteria_for(assessment.organization)
    risk = Risk(
        organization_id=assessment.organization_id,
        title=f"{item.get_dimension_display()} harm to {item.get_affected_party_display().lower()}: "
        f"{item.description[:120]}",
        description=f"{item.description}\n\nRaised from impact assessment v{assessment.version} of "
        f"{assessment.system.ref_code}. Measures: {item.measures or 'none yet'}.",
        system=assessment.system,
        owner=assessment.system.owner or acting_user,
        inherent_likelihood=_rescale(item.likelihood, len(ImpactItem.Likelihood), len(criteria.likelihood_levels)),
        inherent_impact=_rescale(item.severity, len(ImpactItem.Severity), len(criteria.impact_levels)),
    )
    risk_save(instance=risk, acting_user=acting_user)
    # Linking a risk is bookkeeping, allowed whatever the assessment's status; saved directly
    # (not through impact_item_save, which only accepts drafts) but still with its history.
    item.risk = risk
    item._history_user = acting_user
    item.save(update_fields=["risk"])
    return risk


def level_rank(level: str) -> int:
    return LEVEL_RANK.get(level, -1)
