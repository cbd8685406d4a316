"""The risk register, its criteria, treatments, heat maps and impact assessments read in French
(and German): headings, labels, choices and messages, and heat maps cached per language."""

from __future__ import annotations

import pytest
from django.urls import reverse

from risk.models import Risk
from tests.registry.factories import AISystemFactory
from tests.risk.factories import ImpactAssessmentFactory, ImpactItemFactory, RiskFactory, TreatmentActionFactory


@pytest.fixture
def french(acme):
    acme.language = "fr"
    acme.save()
    return acme


@pytest.fixture
def scored_risk(acme, olivia):
    system = AISystemFactory(organization=acme, owner=olivia)
    return RiskFactory(organization=acme, owner=olivia, system=system, assessed=True)


def _heat_maps(html: str) -> str:
    start = html.index('<section class="heatmaps"')
    return html[start : html.index("</section>", start)]


def test_the_register_reads_in_french(login, olivia, french, scored_risk):
    html = login(olivia).get(reverse("risk:list")).content.decode()
    assert "<h1>Registre des risques</h1>" in html
    assert "Critères de risque</a>" in html and "Nouveau risque</a>" in html
    # Column headings, the filter form and the row's choices.
    assert ">Inhérent</th>" in html and ">Résiduel</th>" in html and ">Prochaine revue" in html
    assert ">Niveau actuel</label>" in html and ">Revue en retard</option>" in html
    assert ">Évalué</span>" in html and ">Élevé</span>" in html  # likelihood 3 by impact 4: high
    # The heat maps: their headings, axes and the default scales' labels.
    maps = _heat_maps(html)
    assert "Risque inhérent" in maps and "Risque résiduel" in maps
    assert ">Impact</span>" in maps and ">Vraisemblance</th>" in maps
    assert "5 · Quasi certain" in maps and "5 · Grave" in maps and "1 risque ouvert coté" in maps
    assert "Likelihood" not in html and "Inherent risk" not in html and "Risk register" not in html


def test_a_risk_and_its_treatments_read_in_french(login, olivia, french, scored_risk):
    TreatmentActionFactory(risk=scored_risk, title="Surveillance de la dérive")
    html = login(olivia).get(reverse("risk:detail", args=[scored_risk.pk])).content.decode()
    assert "<h2>Évaluation</h2>" in html and "<h2>Traitements</h2>" in html
    assert "<dt>Source de risque</dt>" in html and "<dt>Risque inhérent</dt>" in html
    assert "vraisemblance 3 \u00d7 impact 4" in html and "<dt>Risque résiduel</dt><dd>Non évalué</dd>" in html
    assert "Option de traitement</dt><dd>Non choisie</dd>" in html
    assert ">Planifié</span>" in html and "Ajouter un traitement</a>" in html
    assert "Accepter le risque" in html and "Pourquoi l&#x27;organisation l&#x27;accepte" in html
    assert "Treatments" not in html and "Not assessed" not in html


def test_the_risk_form_reads_in_french_and_so_do_its_errors(login, olivia, french, scored_risk):
    client = login(olivia)
    html = client.get(reverse("risk:create")).content.decode()
    assert "<h1>Nouveau risque</h1>" in html
    assert "<legend>Le risque</legend>" in html and "<legend>Évaluation et traitement</legend>" in html
    assert "Vraisemblance inhérente" in html and "Option de traitement" in html and "Date de la prochaine revue" in html
    assert ">Non évalué</option>" in html and ">4 · Probable</option>" in html and ">4 · Majeur</option>" in html
    assert ">Modifier (réduire)</option>" in html and ">Identifié</option>" in html
    assert "Niveau de l&#x27;organisation (aucun système en particulier)" in html
    refused = client.post(
        reverse("risk:create"),
        {"title": "Sans impact", "owner": olivia.pk, "status": "identified", "inherent_likelihood": "3"},
    )
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "Veuillez corriger les champs signalés ci-dessous." in page
    assert "Indiquez à la fois la vraisemblance et l&#x27;impact, ou aucun des deux." in page
    assert not Risk.objects.filter(title="Sans impact").exists()


def test_the_criteria_page_reads_in_french(login, alice, french):
    html = login(alice).get(reverse("risk:criteria")).content.decode()
    assert "<h1>Critères de risque</h1>" in html and "<legend>Échelles</legend>" in html
    assert "Matrice et acceptation" in html and "Seuil d&#x27;acceptation" in html
    assert ">Moyen</option>" in html and "Enregistrer les critères" in html


def test_an_impact_assessment_reads_in_french(login, olivia, french):
    system = AISystemFactory(organization=french, owner=olivia)
    assessment = ImpactAssessmentFactory(system=system, author=olivia)
    ImpactItemFactory(assessment=assessment, acting_user=olivia)
    client = login(olivia)
    html = client.get(reverse("impact:detail", args=[assessment.pk])).content.decode()
    assert "Évaluation d'impact du système d'IA" in html and "Version 1</span>" in html
    assert ">Brouillon</span>" in html and "Soumettre à la revue" in html
    assert "<h2>1. Périmètre</h2>" in html and "<h2>7. Impacts</h2>" in html and "<h2>9. Conclusion</h2>" in html
    assert ">Gravité</th>" in html and ">Réversibilité</th>" in html
    assert "<td>Équité</td>" in html and ">Préjudice</span>" in html and ">Personnes</th>" in html
    assert "<strong>Équité, les personnes</strong> (préjudice)" in html
    assert "Submit for review" not in html and "Scope</h2>" not in html
    editor = client.get(reverse("impact:edit", args=[assessment.pk])).content.decode()
    assert "<h3>Ajouter un impact</h3>" in editor and "Partie concernée" in editor and "Bénéfice ou préjudice" in editor
    listed = client.get(reverse("impact:list")).content.decode()
    assert "<h1>Évaluations d'impact des systèmes d'IA</h1>" in listed


def test_a_refused_change_of_an_assessment_is_explained_in_french(login, olivia, alice, french):
    system = AISystemFactory(organization=french, owner=olivia)
    assessment = ImpactAssessmentFactory(system=system, author=olivia, in_review=True)
    response = login(olivia).get(reverse("impact:edit", args=[assessment.pk]), follow=True)
    assert "La version 1 est en revue : commencez une nouvelle version pour la modifier." in response.content.decode()


def test_the_cached_heat_maps_are_those_of_the_readers_language(login, olivia, french, scored_risk):
    client = login(olivia)
    french_maps = _heat_maps(client.get(reverse("risk:list")).content.decode())
    assert "Vraisemblance" in french_maps and "Quasi certain" in french_maps
    # Nothing is written in between: the figures, and whatever is cached from them, stay current.
    olivia.language = "de"
    olivia.save()
    german_maps = _heat_maps(client.get(reverse("risk:list")).content.decode())
    assert "Inhärentes Risiko" in german_maps and "Wahrscheinlichkeit" in german_maps
    assert "Fast sicher" in german_maps and "1 offenes Risiko bewertet" in german_maps
    for french_text in ("Vraisemblance", "Risque inhérent", "Quasi certain", "risque ouvert"):
        assert french_text not in german_maps
    # And back: the French map is still the French one.
    olivia.language = "fr"
    olivia.save()
    assert "Vraisemblance" in _heat_maps(client.get(reverse("risk:list")).content.decode())
