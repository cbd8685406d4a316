"""Factories for the audits app: programmes, audits, findings, corrective actions, incidents,
management reviews and evidence packs.

Records with rules of their own (reference numbers, team checks, who may record) are created
through their services, so a test gets the same record and history as the portal writes;
``acting_user`` names who acted.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import factory
from django.utils import timezone

from aims.roles import Role
from audits.improvement import services as improvement
from audits.models import (
    Audit,
    AuditProgramme,
    CorrectiveAction,
    EvidencePack,
    Finding,
    Incident,
    ManagementReview,
)
from controls.models import Requirement
from tests.aims.factories import MembershipFactory, OrganizationFactory, UserFactory

CRITERIA = ["8.2", "A.6.2.6", "A.6.2.8"]


def req(ref: str) -> Requirement:
    """An ISO/IEC 42001 clause or Annex A control of the catalogue."""
    return Requirement.objects.get(framework__code="ISO42001", ref=ref)


def member(org, role, email, name=""):
    """A member of ``org`` with ``role``, named after the e-mail address unless ``name`` is given."""
    user = UserFactory(email=email, full_name=name or email.split("@")[0].capitalize())
    MembershipFactory(organization=org, user=user, role=role)
    return user


class _ServiceFactory(factory.django.DjangoModelFactory):
    """Build the instance, then hand it to the module's save service."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Any:
        acting_user = kwargs.pop("acting_user", None)
        extra = {name: kwargs.pop(name) for name in cls.service_arguments() if name in kwargs}
        return cls.save(model_class(*args, **kwargs), acting_user, **extra)

    @classmethod
    def service_arguments(cls) -> tuple[str, ...]:
        return ()

    @classmethod
    def save(cls, instance: Any, acting_user: Any, **extra: Any) -> Any:
        raise NotImplementedError


class AuditProgrammeFactory(_ServiceFactory):
    class Meta:
        model = AuditProgramme

    organization = factory.SubFactory(OrganizationFactory)
    year = 2026
    objectives = "Cover every clause."

    @classmethod
    def save(cls, instance, acting_user, **extra):
        return improvement.programme_save(programme=instance, acting_user=acting_user)


class AuditFactory(_ServiceFactory):
    """An audit; ``criteria_refs``, ``auditors`` and ``area_owners`` set its criteria and team."""

    class Meta:
        model = Audit

    programme = factory.SubFactory(AuditProgrammeFactory)
    organization = factory.SelfAttribute("programme.organization")
    title = "Life cycle audit"
    scope = "Development and operation of AI systems."
    auditee_area = "AI engineering"
    planned_start = date(2026, 3, 9)
    planned_end = date(2026, 3, 13)

    @classmethod
    def service_arguments(cls):
        return ("criteria_refs", "auditors", "area_owners")

    @classmethod
    def save(cls, instance, acting_user, *, criteria_refs=CRITERIA, auditors=(), area_owners=()):
        return improvement.audit_save(
            audit=instance,
            acting_user=acting_user,
            criteria=[req(ref) for ref in criteria_refs],
            auditors=list(auditors),
            area_owners=list(area_owners),
        )


class FindingFactory(_ServiceFactory):
    """A finding of ``audit`` (minor nonconformity on A.6.2.8), recorded in ``acting_role``."""

    class Meta:
        model = Finding

    audit = factory.SubFactory(AuditFactory)
    organization = factory.SelfAttribute("audit.organization")
    kind = Finding.Kind.MINOR_NC
    title = "Logs kept 7 days"
    description = "The logging procedure asks for 90 days."

    @classmethod
    def service_arguments(cls):
        return ("acting_role", "ref")

    @classmethod
    def save(cls, instance, acting_user, *, acting_role=Role.AUDITOR, ref="A.6.2.8"):
        instance.requirement = req(ref) if ref else None
        return improvement.finding_save(finding=instance, acting_user=acting_user, acting_role=acting_role)


class CorrectiveActionFactory(_ServiceFactory):
    """A corrective action of ``finding`` or ``incident``, owned by ``owner``."""

    class Meta:
        model = CorrectiveAction

    organization = factory.LazyAttribute(lambda o: (o.finding or o.incident).organization)
    finding = None
    incident = None
    title = "Keep logs 90 days"
    correction = "Retention raised at once."
    root_cause = "Platform default retention never changed."
    action = "Retention as code; deployment checklist item."
    due_date = None

    @classmethod
    def save(cls, instance, acting_user, **extra):
        return improvement.corrective_action_save(action=instance, acting_user=acting_user)


class IncidentFactory(_ServiceFactory):
    class Meta:
        model = Incident

    organization = factory.SubFactory(OrganizationFactory)
    system = None
    title = "Assistant quoted a non-existent fee"
    severity = Incident.Severity.HIGH
    description = "A customer was told about a 3 % fee that does not exist."
    detected_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))

    @classmethod
    def save(cls, instance, acting_user, **extra):
        return improvement.incident_save(incident=instance, acting_user=acting_user)


class ManagementReviewFactory(_ServiceFactory):
    class Meta:
        model = ManagementReview

    organization = factory.SubFactory(OrganizationFactory)
    title = "Management review"
    held_on = factory.LazyFunction(timezone.localdate)
    period_start = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=365))
    period_end = factory.LazyFunction(timezone.localdate)

    @classmethod
    def save(cls, instance, acting_user, **extra):
        return improvement.management_review_create(review=instance, acting_user=acting_user)


class EvidencePackFactory(factory.django.DjangoModelFactory):
    """A pack row as requested (queued); generation is the worker's job."""

    class Meta:
        model = EvidencePack

    organization = factory.SubFactory(OrganizationFactory)
    period_start = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=90))
    period_end = factory.LazyFunction(timezone.localdate)
