"""The layout of a pack as an auditor reads it: columns wide enough, fields apart, headings with their content."""

from __future__ import annotations

from datetime import date

from django.core.files.storage import default_storage
from django.test import TestCase

from audits.improvement import services as improvement
from audits.models import EvidencePack
from audits.packs import services
from registry import services as registry_services
from registry.models import AISystem
from risk.models import ImpactAssessment
from tests.audits.conftest import pdf_text
from tests.audits.factories import AuditFactory, AuditProgrammeFactory
from tests.registry.factories import MetricDefinitionFactory


def build(org, user, **options):
    with TestCase.captureOnCommitCallbacks(execute=True):
        pack, _ = services.evidence_pack_request(organization=org, acting_user=user, **options)
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.SUCCEEDED, pack.error
    reader, text = pdf_text(default_storage.open(pack.file.name).read())
    return reader, text


def page_texts(reader) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages]


def test_impact_descriptions_get_a_wide_column_and_the_system_facts_are_apart(acme, bob, risk_register):
    assessment = ImpactAssessment.objects.get(status=ImpactAssessment.Status.APPROVED)
    ImpactAssessment.objects.filter(pk=assessment.pk).update(
        system_information={"purpose": "Scores loan applications", "intended_use": "Score applicants for credit."}
    )
    reader, text = build(acme, bob, sections=["impact"])
    lines = [line.strip() for page in reader.pages for line in (page.extract_text() or "").splitlines()]
    # The description has the room of its column: it wrapped every two words before.
    [first] = [line for line in lines if "Younger applicants" in line]
    assert "Harm: Younger applicants refused more" in first, lines
    assert "applications Score applicants" not in text
    assert "Purpose Scores loan applications" in text and "Intended use Score applicants for credit." in text


def test_the_first_assessment_follows_the_list_of_missing_ones_on_the_same_page(acme, bob, inventory, risk_register):
    reader, _ = build(acme, bob, sections=["impact"])
    pages = page_texts(reader)
    [missing_page] = [p for p in pages if "Systems without an approved impact assessment" in p]
    assert "impact assessment v1" in missing_page and "Conclusion." in missing_page


def test_audits_show_their_planned_dates_not_the_day_they_were_started_in_the_portal(acme, bob, olivia, alice):
    programme = AuditProgrammeFactory(organization=acme, acting_user=alice)
    audit = AuditFactory(programme=programme, acting_user=alice, lead_auditor=bob)
    improvement.audit_start(audit=audit, acting_user=bob)  # recorded today, not in March
    _, text = build(acme, bob, sections=["audits"], period_start=date(2026, 1, 1))
    assert f"{audit.ref_code} Life cycle audit · 9 Mar 2026 \u2013 13 Mar 2026" in text
    assert "Planned dates 9 Mar 2026 \u2013 13 Mar 2026" in text
    assert "held" not in text


def test_systems_in_operation_are_not_counted_as_proposed(acme, bob, olivia, inventory):
    registry_services.inventory_record_save(
        instance=AISystem(
            organization=acme, name="Chatbot", purpose="Answer.", owner=olivia, lifecycle_stage="operation"
        ),
        acting_user=olivia,
    )
    proposed = registry_services.inventory_record_save(
        instance=AISystem(organization=acme, name="Idea", purpose="Maybe.", owner=olivia, lifecycle_stage="inception"),
        acting_user=olivia,
    )
    assert proposed.status == "proposed"
    _, text = build(acme, bob, sections=["scope"])
    by_status = text.split("AI systems by status")[1].split("AI systems by EU AI Act tier")[0]
    assert "Proposed: 1" in by_status  # the one still at inception
    assert "In use (operation and monitoring), status not updated: 1" in by_status
    assert "Active: 3" in by_status
    assert "Operation and monitoring: 1" in text.split("AI systems by lifecycle stage")[1]


def test_a_chart_heading_stays_on_the_page_of_its_chart(acme, bob, olivia, inventory):
    system = inventory[0]
    for n in range(1, 8):
        MetricDefinitionFactory(system=system, key=f"m{n}", name=f"Metric {n}", target=0.8 + n / 100)
    reader, _ = build(acme, bob, sections=["monitoring"])
    pages = page_texts(reader)
    for n in range(1, 8):
        [heading_page] = [p for p in pages if f"Metric {n} (m{n})" in p]
        assert f"Target {0.8 + n / 100:g}" in heading_page, n
