"""Writes of AI system impact assessments (6.1.4, 8.4): versions, items and their workflow.

Role checks (who may approve an assessment) happen where the request is handled, through
``Tenant.can``; the rules that hold whoever acts (only drafts change, the approver is not
the author, a retired system is not assessed) live here.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from aims.models import User
from aims.records import record_delete, record_save
from registry.models import AISystem, SystemStatus
from risk.impact.models import ImpactAssessment, ImpactItem
from risk.models import Risk
from risk.services import criteria_for, risk_save

Status = ImpactAssessment.Status
# The assessment's own text a new version copies from the latest one.
COPIED_FIELDS = ("title", "scope", "data_information", "model_information", "deployment_environment",
                 "interested_parties", "conclusion")  # fmt: skip


def system_snapshot(system: AISystem) -> dict[str, Any]:
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
def impact_assessment_start(*, system: AISystem, acting_user: User) -> ImpactAssessment:
    """Start the next version of a system's assessment as a draft.

    The new draft copies the latest version's text and items, so a re-assessment after a
    change starts from what was known, and takes a fresh snapshot of the inventory.
    """
    # Lock the system so two people starting at once cannot take the same version number.
    system = AISystem.objects.select_for_update().get(pk=system.pk)
    if system.status == SystemStatus.RETIRED:
        raise ValidationError(gettext("A retired system is not assessed any more."))
    previous = ImpactAssessment.objects.filter(system=system).order_by("-version").first()
    if previous is not None and previous.status in (Status.DRAFT, Status.IN_REVIEW):
        raise ValidationError(
            gettext("Version %(number)s of this system's assessment is still %(status)s.")
            % {"number": previous.version, "status": previous.status_in_sentence}
        )
    version = (ImpactAssessment.objects.filter(system=system).aggregate(v=Max("version"))["v"] or 0) + 1
    snapshot = system_snapshot(system)
    assessment = ImpactAssessment(
        organization_id=system.organization_id,
        system=system,
        version=version,
        title=gettext("Impact assessment of %(system)s") % {"system": system.name},
        system_information=snapshot,
        author=acting_user,
    )
    if previous is not None:
        for name in COPIED_FIELDS:
            setattr(assessment, name, getattr(previous, name))
    else:
        assessment.scope = gettext("The use of %(system)s as recorded in the inventory (%(ref)s).") % {
            "system": system.name,
            "ref": system.ref_code,
        }
        assessment.model_information = "; ".join(
            f"{m['name']} v{m['version']} ({m['type']})" for m in snapshot["models"]
        )
        assessment.data_information = "; ".join(snapshot["datasets"])
        assessment.deployment_environment = f"{snapshot['deployment_context']}. {snapshot['automation_level']}."
        assessment.interested_parties = system.affected_stakeholders
    record_save(assessment, acting_user=acting_user)
    if previous is not None:
        for item in previous.items.all():
            item.pk, item.id, item.assessment = None, None, assessment
            record_save(item, acting_user=acting_user)
    return assessment


def _ensure_draft(assessment: ImpactAssessment) -> None:
    if not assessment.editable:
        raise ValidationError(
            gettext("Version %(number)s is %(status)s: start a new version to change it.")
            % {"number": assessment.version, "status": assessment.status_in_sentence}
        )


@transaction.atomic
def impact_assessment_save(*, assessment: ImpactAssessment, acting_user: User) -> ImpactAssessment:
    stored = ImpactAssessment.objects.get(pk=assessment.pk)
    _ensure_draft(stored)
    return record_save(assessment, acting_user=acting_user)


@transaction.atomic
def impact_assessment_delete(*, assessment: ImpactAssessment, acting_user: User) -> None:
    """Delete a draft with its items; anything past draft is a record of the AIMS and stays."""
    stored = ImpactAssessment.objects.select_for_update().get(pk=assessment.pk)
    if not stored.editable:
        raise ValidationError(
            gettext("Version %(number)s is %(status)s: only a draft can be deleted.")
            % {"number": stored.version, "status": stored.status_in_sentence}
        )
    record_delete(stored, acting_user=acting_user)


@transaction.atomic
def impact_assessment_submit(*, assessment: ImpactAssessment, acting_user: User) -> ImpactAssessment:
    _ensure_draft(assessment)
    errors = {}
    if not assessment.items.exists():
        errors["__all__"] = gettext("Record at least one impact before submitting the assessment.")
    if not assessment.conclusion.strip():
        errors["conclusion"] = gettext("Write the conclusion before submitting the assessment.")
    if errors:
        raise ValidationError(errors)
    assessment.status, assessment.submitted_at, assessment.review_comment = Status.IN_REVIEW, timezone.now(), ""
    return record_save(assessment, acting_user=acting_user)


@transaction.atomic
def impact_assessment_return(*, assessment: ImpactAssessment, acting_user: User, comment: str) -> ImpactAssessment:
    """Send an assessment in review back to draft with the reviewer's comment."""
    if assessment.status != Status.IN_REVIEW:
        raise ValidationError(gettext("Only an assessment in review can be returned."))
    if not comment.strip():
        raise ValidationError({"comment": gettext("Say what needs to change.")})
    assessment.status, assessment.review_comment = Status.DRAFT, comment.strip()
    return record_save(assessment, acting_user=acting_user)


@transaction.atomic
def impact_assessment_approve(*, assessment: ImpactAssessment, acting_user: User) -> ImpactAssessment:
    """Approve an assessment in review; the system's previously approved version becomes superseded."""
    if assessment.status != Status.IN_REVIEW:
        raise ValidationError(gettext("Only an assessment in review can be approved."))
    if assessment.author_id == acting_user.pk:
        raise ValidationError(gettext("The author cannot approve their own assessment: ask another approver."))
    for older in ImpactAssessment.objects.filter(system=assessment.system, status=Status.APPROVED):
        older.status = Status.SUPERSEDED
        record_save(older, acting_user=acting_user)
    assessment.status, assessment.approved_by, assessment.approved_at = Status.APPROVED, acting_user, timezone.now()
    return record_save(assessment, acting_user=acting_user)


@transaction.atomic
def impact_item_save(*, item: ImpactItem, acting_user: User) -> ImpactItem:
    _ensure_draft(item.assessment)
    if item._state.adding and not item.order:
        item.order = (item.assessment.items.aggregate(o=Max("order"))["o"] or 0) + 1
    return record_save(item, acting_user=acting_user)


@transaction.atomic
def impact_item_delete(*, item: ImpactItem, acting_user: User) -> None:
    _ensure_draft(item.assessment)
    record_delete(item, acting_user=acting_user)


def _rescale(value: int, source_levels: int, target_levels: int) -> int:
    """Map a level from one scale to another of a different length, keeping its relative position."""
    return max(1, min(target_levels, round(value * target_levels / source_levels)))


@transaction.atomic
def impact_item_raise_risk(*, item: ImpactItem, acting_user: User) -> Risk:
    """Turn a harmful impact into a risk of the register, scored on the organisation's scales."""
    if item.risk_id:
        raise ValidationError(gettext("This impact already has a risk in the register."))
    if item.nature != ImpactItem.Nature.HARM:
        raise ValidationError(gettext("Only a harm can raise a risk."))
    assessment = item.assessment
    criteria = criteria_for(assessment.organization)
    risk = Risk(
        organization_id=assessment.organization_id,
        # Written in the language of the person raising it, as they would have written it.
        title=gettext("%(dimension)s harm to %(party)s: %(description)s")
        % {
            "dimension": item.get_dimension_display(),
            "party": item.party_in_sentence,
            "description": item.description[:120],
        },
        description=gettext(
            "%(description)s\n\nRaised from impact assessment v%(number)s of %(system)s. Measures: %(measures)s."
        )
        % {
            "description": item.description,
            "number": assessment.version,
            "system": assessment.system.ref_code,
            "measures": item.measures or gettext("none yet"),
        },
        system=assessment.system,
        owner=assessment.system.owner or acting_user,
        inherent_likelihood=_rescale(item.likelihood, len(ImpactItem.Likelihood), len(criteria.likelihood_levels)),
        inherent_impact=_rescale(item.severity, len(ImpactItem.Severity), len(criteria.impact_levels)),
    )
    risk_save(instance=risk, acting_user=acting_user)
    # Linking a risk is bookkeeping, allowed whatever the assessment's status; saved directly
    # (not through impact_item_save, which only accepts drafts) but still with its history.
    item.risk = risk
    record_save(item, acting_user=acting_user, update_fields=["risk"])
    return risk
