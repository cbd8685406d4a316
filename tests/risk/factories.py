"""Risk and impact factories: records saved through the module's services, as the pages save them.

Risks, treatments, assessments and impacts are written by their services (reference codes,
levels from the criteria, history naming who acted), so a factory-made record is one the
portal could have made. ``acting_user`` (default: the record's owner or author; ``None`` for
a change without a person) names who acted.
"""

from __future__ import annotations

from typing import Any

import factory

from controls.catalogue.models import Requirement
from risk import services
from risk.impact import services as impact_services
from risk.models import (
    DEFAULT_IMPACT,
    DEFAULT_LIKELIHOOD,
    ImpactAssessment,
    ImpactItem,
    Risk,
    RiskCriteria,
    TreatmentAction,
    TreatmentControl,
    default_matrix,
)
from tests.aims.factories import OrganizationFactory, UserFactory
from tests.registry.factories import AISystemFactory

_UNSET: Any = object()


def annex_a_controls(*refs: str) -> list[Requirement]:
    """Annex A controls of the shipped catalogue, in the order asked."""
    rows = {r.ref: r for r in Requirement.objects.of_framework("ISO42001").controls().filter(ref__in=refs)}
    return [rows[ref] for ref in refs]


class RiskCriteriaFactory(factory.django.DjangoModelFactory):
    """The organisation's criteria (the default 5 x 5 scales unless told otherwise)."""

    class Meta:
        model = RiskCriteria

    organization = factory.SubFactory(OrganizationFactory)
    likelihood_levels = factory.LazyFunction(lambda: [dict(level) for level in DEFAULT_LIKELIHOOD])
    impact_levels = factory.LazyFunction(lambda: [dict(level) for level in DEFAULT_IMPACT])
    matrix = factory.LazyFunction(default_matrix)


class RiskFactory(factory.django.DjangoModelFactory):
    """A risk of the register, saved by ``risk_save``: reference and levels follow from the criteria.

    ``assessed=True`` gives it an inherent likelihood 3 and impact 4.
    """

    class Meta:
        model = Risk

    class Params:
        assessed = factory.Trait(inherent_likelihood=3, inherent_impact=4)

    organization = factory.SubFactory(OrganizationFactory)
    title = "Model drift degrades triage"
    owner = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class: type[Risk], *args: Any, acting_user: Any = _UNSET, **kwargs: Any) -> Risk:
        risk = model_class(*args, **kwargs)
        return services.risk_save(instance=risk, acting_user=risk.owner if acting_user is _UNSET else acting_user)


class TreatmentActionFactory(factory.django.DjangoModelFactory):
    """A treatment saved by ``treatment_save``; ``control_refs`` are the Annex A controls it relies on."""

    class Meta:
        model = TreatmentAction

    risk = factory.SubFactory(RiskFactory)
    organization = factory.SelfAttribute("risk.organization")
    title = "Drift monitoring"
    owner = factory.SelfAttribute("risk.owner")

    @classmethod
    def _create(
        cls,
        model_class: type[TreatmentAction],
        *args: Any,
        acting_user: Any = _UNSET,
        control_refs: tuple[str, ...] | list[str] = (),
        **kwargs: Any,
    ) -> TreatmentAction:
        treatment = model_class(*args, **kwargs)
        ids = [c.pk for c in annex_a_controls(*control_refs)] if control_refs else None
        return services.treatment_save(
            instance=treatment,
            acting_user=treatment.owner if acting_user is _UNSET else acting_user,
            control_ids=ids,
        )


class TreatmentControlFactory(factory.django.DjangoModelFactory):
    """A plain link of a treatment to an Annex A control (A.6.2.6 unless told otherwise)."""

    class Meta:
        model = TreatmentControl

    treatment = factory.SubFactory(TreatmentActionFactory)
    organization = factory.SelfAttribute("treatment.organization")
    control = factory.LazyFunction(lambda: annex_a_controls("A.6.2.6")[0])


class ImpactAssessmentFactory(factory.django.DjangoModelFactory):
    """The next version of a system's assessment, started by ``impact_assessment_start`` as a draft.

    Other fields given (``conclusion``, ``scope``…) are saved on the draft. ``in_review=True``
    adds one impact (made by ``item_factory``) and a conclusion and submits it for review.
    """

    class Meta:
        model = ImpactAssessment

    system = factory.SubFactory(AISystemFactory)
    author = factory.SubFactory(UserFactory)

    @classmethod
    def _create(
        cls,
        model_class: type[ImpactAssessment],
        *args: Any,
        in_review: bool = False,
        item_factory: Any = None,
        **kwargs: Any,
    ) -> ImpactAssessment:
        system, author = kwargs.pop("system"), kwargs.pop("author")
        kwargs.pop("organization", None)  # the system's
        assessment = impact_services.impact_assessment_start(system=system, acting_user=author)
        if in_review:
            (item_factory or ImpactItemFactory)(assessment=assessment, acting_user=author)
            kwargs.setdefault("conclusion", "Acceptable with the listed measures.")
        if kwargs:
            for name, value in kwargs.items():
                setattr(assessment, name, value)
            impact_services.impact_assessment_save(assessment=assessment, acting_user=author)
        if in_review:
            impact_services.impact_assessment_submit(assessment=assessment, acting_user=author)
        return assessment


class ImpactItemFactory(factory.django.DjangoModelFactory):
    """An impact of a draft assessment, saved by ``impact_item_save`` (a harm to individuals' fairness)."""

    class Meta:
        model = ImpactItem

    assessment = factory.SubFactory(ImpactAssessmentFactory)
    organization = factory.SelfAttribute("assessment.organization")
    affected_party = ImpactItem.Party.INDIVIDUALS
    dimension = ImpactItem.Dimension.FAIRNESS
    description = "Lower triage priority for non-native speakers."

    @classmethod
    def _create(cls, model_class: type[ImpactItem], *args: Any, acting_user: Any = _UNSET, **kwargs: Any) -> ImpactItem:
        item = model_class(*args, **kwargs)
        user = item.assessment.author if acting_user is _UNSET else acting_user
        return impact_services.impact_item_save(item=item, acting_user=user)
