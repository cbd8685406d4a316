"""The audits pages in the organisation's language, and evidence packs written in their requester's."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.test import TestCase
from django.urls import reverse

from audits.improvement import services as improvement
from audits.models import EvidencePack, PackSection
from audits.packs import services
from tests.audits.conftest import pdf_text
from tests.audits.factories import AuditFactory, AuditProgrammeFactory, CorrectiveActionFactory, FindingFactory
from tests.audits.packs.pdf_checks import check_pdfa


def _finding(acme, olivia, bob):
    programme = AuditProgrammeFactory(organization=acme, acting_user=olivia)
    audit = AuditFactory(programme=programme, acting_user=olivia, lead_auditor=bob)
    improvement.audit_start(audit=audit, acting_user=olivia)
    audit.refresh_from_db()
    return FindingFactory(audit=audit, organization=acme, acting_user=bob)


def test_the_audit_pages_read_in_french_when_the_organisation_reads_french(login, acme, olivia, bob):
    finding = _finding(acme, olivia, bob)
    action = CorrectiveActionFactory(finding=finding, owner=olivia, acting_user=olivia)
    acme.language = "fr"
    acme.save()
    client = login(olivia)

    audits = client.get(reverse("audits:home"))
    html = audits.content.decode()
    assert audits["Content-Language"] == "fr"
    assert "Audits internes et amélioration" in html and "Planifier un audit" in html
    assert "Auditeur principal" in html and "Internal audits and improvement" not in html

    page = client.get(reverse("audits:finding_detail", args=[finding.pk])).content.decode()
    assert "Constat d'audit" in page and "Non-conformité mineure" in page and "Actions correctives" in page
    assert "Audit finding" not in page and "Minor nonconformity" not in page

    detail = client.get(reverse("audits:ca_detail", args=[action.pk])).content.decode()
    assert "Vérification de l'efficacité" in detail and "Cause racine" in detail
    assert "Effectiveness check" not in detail and "Root cause" not in detail
    # The same organisation's English reader is untouched by the French pages before.
    olivia.language = "en-gb"
    olivia.save()
    assert "Internal audits and improvement" in login(olivia).get(reverse("audits:home")).content.decode()


def test_a_pack_is_written_in_the_language_of_the_member_who_requested_it(login, acme, bob, inventory):
    bob.language = "de"
    bob.save()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = login(bob).post(
            reverse("packs:list"),
            {
                "scope": "aims",
                "period_start": "2026-01-01",
                "period_end": "2026-06-30",
                "sections": ["scope", "audits", "evidence"],
            },
        )
    pack = EvidencePack.objects.get()
    assert response.status_code == 302 and pack.language == "de"
    assert pack.status == EvidencePack.Status.SUCCEEDED, pack.error
    content = default_storage.open(pack.file.name).read()
    check_pdfa(content)
    reader, text = pdf_text(content)
    total = len(reader.pages)
    assert "Nachweispaket" in text and "Inhalt" in text and f"Seite 2 von {total}" in text
    assert "1. Kontext der Organisation und Anwendungsbereich des AIMS (Abschnitt 4)" in text
    assert "2. Interne Audits (Abschnitt 9.2)" in text and "Nachweisverzeichnis" in text
    assert "Kein internes Audit in diesem Zeitraum geplant oder durchgeführt." in text
    assert "Contents" not in text and "Page 2 of" not in text and "Internal audits (clause 9.2)" not in text
    # ISO/IEC 42001 identifiers stay as published.
    assert "ISO/IEC 42001:2023" in text
    # The worker's thread is back to the default language once the pack is rendered.
    assert str(PackSection.AUDITS.label) == "Internal audits (clause 9.2)"


def test_without_a_choice_of_their_own_a_member_gets_the_organisations_language(login, acme, bob):
    acme.language = "fr"
    acme.save()
    with TestCase.captureOnCommitCallbacks(execute=False):
        login(bob).post(
            reverse("packs:list"),
            {"scope": "aims", "period_start": "2026-01-01", "period_end": "2026-06-30", "sections": ["scope"]},
        )
    assert EvidencePack.objects.get().language == "fr"


def test_the_same_pack_in_another_language_is_another_pack(acme, bob, django_capture_on_commit_callbacks):
    options = {"period_start": None, "sections": [PackSection.SCOPE]}
    with django_capture_on_commit_callbacks(execute=False):
        german, created = services.evidence_pack_request(organization=acme, acting_user=bob, language="de", **options)
        again, created_again = services.evidence_pack_request(
            organization=acme, acting_user=bob, language="de", **options
        )
        english, created_english = services.evidence_pack_request(
            organization=acme, acting_user=bob, language="en-gb", **options
        )
        unknown, _ = services.evidence_pack_request(organization=acme, acting_user=bob, language="xx", **options)
    assert created and not created_again and again.pk == german.pk
    assert created_english and english.pk != german.pk and english.fingerprint != german.fingerprint
    # A language the portal does not offer falls back to the default (the English pack already queued).
    assert unknown.pk == english.pk and unknown.language == "en-gb"
