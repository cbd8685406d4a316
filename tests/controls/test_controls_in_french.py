"""The controls pages in French (and German where a cached reading could leak): the Statement of
Applicability and its versions, the inline editor, the evidence library and form, the catalogue and
readiness. The standard's identifiers and clause/control titles stay as published."""

from __future__ import annotations

import html as markup
from datetime import date

import pytest
from django.urls import reverse

from controls.models import ApplicabilityStatement, Evidence
from controls.soa import services as soa
from tests.controls.factories import NoteEvidenceFactory, evidence_on

HTMX = {"HTTP_HX_REQUEST": "true"}


def text(response) -> str:
    """The page as its reader sees the characters (templates escape apostrophes and quotes)."""
    return markup.unescape(response.content.decode())


@pytest.fixture
def french(acme):
    acme.language = "fr"
    acme.save()
    return acme


def test_the_soa_page_reads_in_french(login, french, olivia):
    soa.soa_rows_ensure(french)
    row = ApplicabilityStatement.objects.get(organization=french, control__ref="A.6.2.6")
    row.applicable, row.justification, row.implementation_status = True, "Needed.", "planned"
    soa.soa_row_update(statement=row, acting_user=olivia)

    page = login(olivia).get(reverse("soa:statement"))
    html = text(page)
    assert page["Content-Language"] == "fr"
    assert "<h1>Déclaration d'applicabilité</h1>" in html
    assert "Aucune version approuvée pour l'instant." in html
    assert ">Exporter en CSV</a>" in html and ">Tous les domaines</option>" in html
    assert ">Décision et justification</th>" in html and ">Non décidée</option>" in html
    # The row's decision and status labels, and the Annex A titles as the standard publishes them.
    assert ">Applicable</span>" in html and ">Planifiée</span>" in html and ">Non décidée</span>" in html
    assert ">Versions et approbation</a>" in html and ">Modifier</a>" in html
    assert "Statement of Applicability" not in html and "Decision and justification" not in html


def test_the_inline_editor_and_its_errors_read_in_french(login, french, olivia):
    client = login(olivia)
    form = text(client.get(reverse("soa:row_edit", args=["A.2.2"]), **HTMX))
    assert ">Justification" in form and ">État de mise en œuvre" in form and ">Systèmes d'IA couverts" in form
    assert ">Enregistrer</button>" in form and ">Annuler</a>" in form

    refused = client.post(
        reverse("soa:row_edit", args=["A.2.2"]),
        {"applicable": "no", "justification": "", "implementation_status": "not_started"},
        **HTMX,
    )
    assert "Expliquez pourquoi cette mesure est exclue" in text(refused)


def test_versions_and_their_approval_read_in_french(login, french, olivia, alice):
    soa.soa_rows_ensure(french)
    for row in ApplicabilityStatement.objects.for_org(french):
        row.applicable, row.justification = True, "Applies."
        soa.soa_row_update(statement=row, acting_user=olivia)
    submitted = text(login(olivia).post(reverse("soa:versions"), {"note": ""}, follow=True))
    assert "Version 1 soumise pour approbation." in submitted
    assert "Déclaration d'applicabilité, version 1" in submitted and ">Soumise</span>" in submitted

    approved = login(alice).post(reverse("soa:version", args=[1]), {"decision": "approve"}, follow=True)
    html = text(approved)
    assert "Version 1 approuvée." in html and ">Approuvée</span>" in html
    assert "<td>Applicable</td>" in html and "<td>Non commencée</td>" in html


def test_the_evidence_list_reads_in_french(login, french, olivia):
    evidence_on(french, "Bias test report", "A.6.2.4", valid_until=date(2020, 1, 1))
    page = login(olivia).get(reverse("evidence:list"))
    html = text(page)
    assert "<h1>Preuves</h1>" in html and ">Nouvelle preuve</a>" in html
    assert ">En vigueur depuis</th>" in html and ">Valable jusqu'au</th>" in html
    assert ">Expirée</span>" in html and ">Fichier</td>" in html
    # The filters shown above the list.
    assert ">Validité</label>" in html and ">Tout le monde</option>" in html and ">Expire bientôt</option>" in html
    assert "« Expire bientôt » : valable encore" in html
    assert "Valid until" not in html and "Effective from" not in html


def test_the_evidence_form_and_its_errors_read_in_french(login, french, olivia):
    client = login(olivia)
    form = text(client.get(reverse("evidence:create")))
    assert "<h1>Nouvelle preuve</h1>" in form and ">Enregistrer la preuve</button>" in form
    assert ">Titre" in form and ">Type" in form and ">En vigueur depuis" in form
    assert "Reçoit un rappel avant l'expiration de la preuve." in form
    assert "Choisissez ensuite le fichier, indiquez le lien ou rédigez la note ci-dessous." in form

    wrong = {"title": "Minutes", "kind": "note", "effective_from": "2026-05-01", "valid_until": "2026-01-01"}
    refused = client.post(reverse("evidence:create"), wrong)
    html = text(refused)
    assert refused.status_code == 400
    assert "Veuillez corriger les champs signalés ci-dessous." in html
    assert "La preuve ne peut pas expirer avant de prendre effet." in html and "Rédigez la note." in html
    assert not Evidence.objects.for_org(french).exists()


def test_the_evidence_page_and_its_messages_read_in_french(login, french, olivia):
    evidence = NoteEvidenceFactory(organization=french, acting_user=olivia)
    client = login(olivia)
    html = text(client.get(reverse("evidence:detail", args=[evidence.pk])))
    assert ">Nouvelle version</a>" in html and "<dt>En vigueur depuis</dt>" in html and "<h2>Historique</h2>" in html
    assert "Pas encore liée" in html and "<h2>Téléchargements</h2>" in html

    linked = client.post(reverse("evidence:link_add", args=[evidence.pk]), {"target": "control", "id": "A.99"},
                         follow=True)  # fmt: skip
    assert "Aucune mesure de l'annexe A de l'ISO/IEC 42001 « A.99 »" in text(linked)


def test_the_readiness_page_reads_in_french_and_its_cache_keeps_the_languages_apart(login, french, olivia, alice):
    html = text(login(olivia).get(reverse("soa:readiness")))
    assert "Préparation à la certification : " in html and "<h2>Articles 4 à 10" in html
    assert "<h2>Domaines de l'annexe A" in html and "Les critères de risque sont définis" in html
    assert "décidées ·" in html and "éléments manquants" in html and "décider et justifier" in html

    # Alice reads in German: the checks computed (and cached) for the French reading stay French.
    alice.language = "de"
    alice.save()
    german = text(login(alice).get(reverse("soa:readiness")))
    assert "Zertifizierungsreife: " in german and "Die Risikokriterien sind festgelegt" in german
    assert "Les critères de risque sont définis" not in german


def test_the_catalogue_reads_in_french_with_the_standard_as_published(login, french, olivia):
    client = login(olivia)
    assert "<h1>Catalogue des mesures</h1>" in text(client.get(reverse("catalogue:frameworks")))
    requirement = text(client.get(reverse("catalogue:requirement", args=["ISO42001", "A.6.2.6"])))
    assert "<h2>De quoi il s'agit</h2>" in requirement and ">Mesure</p>" in requirement
    control = text(client.get(reverse("soa:control", args=["A.6.2.6"])))
    assert ">Mesure de l'annexe A</p>" in control and "<h2>Ce que demande la mesure</h2>" in control
    assert "AI system operation and monitoring" in control  # the control's title, untranslated
