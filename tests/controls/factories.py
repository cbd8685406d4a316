"""Factories of the controls app: evidence (recorded through its service or as plain rows), versions,
links, SoA rows and versions, and one record of each kind evidence can support."""

from __future__ import annotations

from typing import Any

import factory
from django.core.files.uploadedfile import SimpleUploadedFile

from controls.catalogue.models import Requirement
from controls.evidence import services as evidence_services
from controls.evidence.models import Evidence, EvidenceLink, EvidenceVersion
from controls.soa.models import ApplicabilityStatement, ImplementationStatus, SoAVersion
from risk import services as risk_services
from risk.impact import services as impact_services
from risk.models import Risk, TreatmentAction
from tests.aims.factories import OrganizationFactory, UserFactory
from tests.registry.factories import AISystemFactory

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def control(ref: str) -> Requirement:
    """An ISO/IEC 42001 Annex A control by its reference."""
    return Requirement.objects.of_framework("ISO42001").controls().get(ref=ref)


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


class EvidenceFactory(factory.django.DjangoModelFactory):
    """A plain evidence row (no version), for reads that only count evidence and its validity."""

    class Meta:
        model = Evidence

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Evidence {n}")


class EvidenceVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvidenceVersion

    evidence = factory.SubFactory(EvidenceFactory)
    organization = factory.SelfAttribute("evidence.organization")
    number = factory.Sequence(lambda n: n + 1)


class EvidenceLinkFactory(factory.django.DjangoModelFactory):
    """A link from evidence to an Annex A control (the default ``A.6.2.6``)."""

    class Meta:
        model = EvidenceLink

    evidence = factory.SubFactory(EvidenceFactory)
    organization = factory.SelfAttribute("evidence.organization")
    target = EvidenceLink.Target.CONTROL
    control = factory.LazyFunction(lambda: control("A.6.2.6"))


def evidence_on(organization: Any, title: str, *refs: str, valid_until: Any = None) -> Evidence:
    """A plain evidence row linked to the given Annex A controls."""
    evidence = EvidenceFactory(organization=organization, title=title, valid_until=valid_until)
    for ref in refs:
        EvidenceLinkFactory(evidence=evidence, control=control(ref))
    return evidence


class RecordedEvidenceFactory(factory.Factory):
    """Evidence recorded through ``evidence_create`` (version 1 included), as the portal records it.

    ``acting_user`` records it; the other attributes are the service's keywords.
    """

    class Meta:
        model = Evidence

    organization = factory.SubFactory(OrganizationFactory)
    acting_user = factory.SubFactory(UserFactory)
    title = "Bias test report"

    @classmethod
    def _create(cls, model_class: type[Evidence], *args: Any, **kwargs: Any) -> Evidence:
        return evidence_services.evidence_create(**kwargs)

    @classmethod
    def _build(cls, model_class: type[Evidence], *args: Any, **kwargs: Any) -> Evidence:
        raise NotImplementedError("Recorded evidence is created through the service; use EvidenceFactory to build.")


class FileEvidenceFactory(RecordedEvidenceFactory):
    """File evidence: ``name`` and ``content`` make the uploaded file (a small PDF by default)."""

    class Params:
        name = "report.pdf"
        content = PDF

    kind = Evidence.Kind.FILE
    upload = factory.LazyAttribute(lambda o: upload(o.name, o.content))


class NoteEvidenceFactory(RecordedEvidenceFactory):
    title = "Review minutes"
    kind = Evidence.Kind.NOTE
    note = "Reviewed."


class ApplicabilityStatementFactory(factory.django.DjangoModelFactory):
    """A decided SoA row (applicable, justified, planned) for the control ``ref`` (default ``A.6.2.6``)."""

    class Meta:
        model = ApplicabilityStatement

    class Params:
        ref = "A.6.2.6"

    organization = factory.SubFactory(OrganizationFactory)
    control = factory.LazyAttribute(lambda o: control(o.ref))
    applicable = True
    justification = "Needed for the organisation's AI use."
    implementation_status = ImplementationStatus.PLANNED


class SoAVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SoAVersion

    organization = factory.SubFactory(OrganizationFactory)
    number = factory.Sequence(lambda n: n + 1)
    submitted_by = factory.SubFactory(UserFactory)


def link_targets(organization: Any, user: Any) -> dict[str, Any]:
    """One record of each kind evidence can support."""
    system = AISystemFactory(organization=organization, owner=user)
    risk = risk_services.risk_save(
        instance=Risk(organization=organization, title="Bias against young applicants", system=system, owner=user),
        acting_user=user,
    )
    treatment = risk_services.treatment_save(
        instance=TreatmentAction(organization=organization, risk=risk, title="Quarterly bias tests"), acting_user=user
    )
    assessment = impact_services.impact_assessment_start(system=system, acting_user=user)
    return {
        "control": Requirement.objects.get(framework__code="ISO42001", ref="A.6.2.4"),
        "system": system,
        "risk": risk,
        "treatment": treatment,
        "assessment": assessment,
    }
