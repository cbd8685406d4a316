"""Writes of the risk register: criteria, risks and their treatments.

Role checks (who may accept a risk) happen where the request is
handled, through ``Tenant.can``; the rules that hold whoever acts (levels within the
criteria, acceptance above the threshold needs an override) live here. Impact assessments
have their own services, :mod:`risk.impact.services`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BigIntegerField, Max
from django.db.models.functions import Cast, Substr
from django.utils import timezone
from django.utils.translation import gettext

from aims.models import Organization, User
from aims.records import record_delete, record_save
from controls.catalogue.models import Requirement
from risk.models import (
    DEFAULT_IMPACT,
    DEFAULT_LIKELIHOOD,
    LEVEL_RANK,
    Level,
    ReferenceCounter,
    Risk,
    RiskCriteria,
    TreatmentAction,
    TreatmentControl,
    default_matrix,
)

RISK_REF_PREFIX = "RSK-"


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
    likelihood_levels: list[dict[str, str]],
    impact_levels: list[dict[str, str]],
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
    record_save(criteria, acting_user=acting_user)
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
            # Saved directly, not through record_save: the history names the reason of the change.
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
            errors[f"{prefix}_impact" if impact is None else f"{prefix}_likelihood"] = gettext(
                "Give both likelihood and impact, or neither."
            )
        if likelihood is not None and not 1 <= likelihood <= top_l:
            errors[f"{prefix}_likelihood"] = gettext("Choose a likelihood from 1 to %(top)s.") % {"top": top_l}
        if impact is not None and not 1 <= impact <= top_i:
            errors[f"{prefix}_impact"] = gettext("Choose an impact from 1 to %(top)s.") % {"top": top_i}
    if risk.residual_likelihood is not None and not risk.treatment_option:
        errors["treatment_option"] = gettext("Choose how the risk is treated before giving its residual level.")
    if errors:
        raise ValidationError(errors)


# --- Risks -------------------------------------------------------------------------------------


def _highest_risk_number(organization: Organization) -> int:
    """The highest RSK-number in the organisation's register, read by one aggregate query."""
    numbered = Risk.objects.for_org(organization).filter(ref_code__regex=rf"^{RISK_REF_PREFIX}[0-9]+$")
    number = Cast(Substr("ref_code", len(RISK_REF_PREFIX) + 1), BigIntegerField())
    return int(numbered.aggregate(last=Max(number))["last"] or 0)


def _next_ref_code(organization: Organization) -> str:
    """The organisation's next RSK-NNNN, from its counter: three queries whatever the register's size.

    The counter's row lock makes concurrent saves take numbers one after the other; the very
    first one takes the organisation's row lock to create it. A number already taken by a risk
    written around this service (a bulk load) moves the counter past the highest one in use.
    """
    counters = ReferenceCounter.objects.select_for_update().filter(
        organization=organization, kind=ReferenceCounter.Kind.RISK
    )
    counter = counters.first()
    if counter is None:
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        counter = counters.first() or ReferenceCounter(
            organization=organization,
            kind=ReferenceCounter.Kind.RISK,
            last_number=_highest_risk_number(organization),
        )
    counter.last_number += 1
    ref_code = f"{RISK_REF_PREFIX}{counter.last_number:04d}"
    if Risk.objects.for_org(organization).filter(ref_code=ref_code).exists():
        counter.last_number = _highest_risk_number(organization) + 1
        ref_code = f"{RISK_REF_PREFIX}{counter.last_number:04d}"
    counter.save()
    return ref_code


@transaction.atomic
def risk_save(*, instance: Risk, acting_user: User | None) -> Risk:
    """Create or update a risk: reference, levels from the criteria, and the status rules.

    Acceptance is not set here (see :func:`risk_accept`); a change of an accepted risk's
    inherent or residual *level* sends it back to "assessed", since the acceptance no longer
    covers it (new scores that give the same levels keep it).
    """
    criteria = criteria_for(instance.organization)
    if instance.system is not None and instance.system.organization_id != instance.organization_id:
        raise ValidationError({"system": gettext("Choose one of your organisation's AI systems.")})
    _validate_scores(instance, criteria)
    previous = Risk.objects.filter(pk=instance.pk).first() if instance.pk else None
    if instance.status == Risk.Status.ACCEPTED and (previous is None or previous.status != Risk.Status.ACCEPTED):
        raise ValidationError({"status": gettext("Use “Accept risk”, which checks the level against the criteria.")})
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
    return record_save(instance, acting_user=acting_user)


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
        errors["__all__"] = gettext("Assess the risk's likelihood and impact before accepting it.")
    if not rationale.strip():
        errors["rationale"] = gettext("Explain why the organisation accepts this risk.")
    if risk.status == Risk.Status.CLOSED:
        errors["__all__"] = gettext("A closed risk cannot be accepted.")
    if level and not criteria.acceptable(level):
        if not override:
            errors["override"] = gettext(
                "The level (%(level)s) is above the acceptance threshold (%(threshold)s): treat the risk "
                "further, or tick the override and justify it."
            ) % {
                "level": Level(level).label.lower(),
                "threshold": Level(criteria.acceptance_threshold).label.lower(),
            }
        elif len(rationale.strip()) < 30:
            errors["rationale"] = gettext("An override needs a real justification (at least a sentence).")
    if errors:
        raise ValidationError(errors)
    risk.status = Risk.Status.ACCEPTED
    risk.accepted_by, risk.accepted_at = acting_user, timezone.now()
    risk.acceptance_rationale = rationale.strip()
    risk.acceptance_override = bool(level and not criteria.acceptable(level))
    return record_save(risk, acting_user=acting_user)


@transaction.atomic
def risk_delete(*, risk: Risk, acting_user: User) -> None:
    record_delete(risk, acting_user=acting_user)


# --- Treatments --------------------------------------------------------------------------------


def _controls(control_ids: Iterable[int]) -> list[Requirement]:
    wanted = set(control_ids)
    found = list(Requirement.objects.filter(pk__in=wanted, kind=Requirement.Kind.CONTROL))
    if len(found) != len(wanted):
        raise ValidationError({"controls": gettext("Choose Annex A controls from the catalogue.")})
    return found


@transaction.atomic
def treatment_save(
    *, instance: TreatmentAction, acting_user: User | None, control_ids: Iterable[int] | None = None
) -> TreatmentAction:
    """Create or update a treatment; with ``control_ids``, make them exactly the controls it relies on."""
    if instance.risk.organization_id != instance.organization_id:
        raise ValidationError({"risk": gettext("Choose one of your organisation's risks.")})
    record_save(instance, acting_user=acting_user)
    if control_ids is not None:
        controls = {c.pk: c for c in _controls(control_ids)}
        for link in instance.control_links.exclude(control_id__in=controls):
            record_delete(link, acting_user=acting_user)
        existing = set(instance.control_links.values_list("control_id", flat=True))
        for pk, control in controls.items():
            if pk not in existing:
                added = TreatmentControl(organization_id=instance.organization_id, treatment=instance, control=control)
                record_save(added, acting_user=acting_user)
    risk = instance.risk
    if (
        risk.status in (Risk.Status.IDENTIFIED, Risk.Status.ASSESSED)
        and instance.status != TreatmentAction.Status.CANCELLED
    ):
        risk.status = Risk.Status.IN_TREATMENT
        record_save(risk, acting_user=acting_user)
    return instance


@transaction.atomic
def treatment_delete(*, treatment: TreatmentAction, acting_user: User) -> None:
    record_delete(treatment, acting_user=acting_user)


def level_rank(level: str) -> int:
    return LEVEL_RANK.get(level, -1)
