"""An organisation whose language is French reads its AI system inventory in French: the list,
a system's page with its tabs, and the system form with its labels and validation messages."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from tests.registry.factories import AISystemFactory


@pytest.fixture
def french_client(acme, olivia, login):
    acme.language = "fr"
    acme.save()
    return login(olivia)


@pytest.fixture
def system(acme, olivia):
    return AISystemFactory(
        organization=acme,
        name="Credit scoring",
        owner=olivia,
        status="active",
        lifecycle_stage="operation",
        eu_ai_act_tier="high",
        tier_rationale="Creditworthiness of natural persons.",
        is_provider=True,
    )


def page_text(response) -> str:
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_the_inventory_list_is_in_french(french_client, system):
    text = page_text(french_client.get(reverse("inventory:system_list")))

    for french in [
        "Inventaire des systèmes d'IA",
        "Nouveau système d'IA",
        "Notre rôle",
        "Haut risque",
        "Exploitation et surveillance",
        "Fournisseur d'IA",
        "Étape du cycle de vie",
        "Sans redevable",
    ]:
        assert french in text, french
    for english in [
        "AI system inventory",
        "New AI system",
        "Our role",
        "High-risk",
        "Operation and monitoring",
        "AI provider",
        "Life-cycle stage",
        "No Accountable",
    ]:
        assert english not in text, english


def test_a_system_page_and_its_tabs_are_in_french(french_client, system):
    text = page_text(french_client.get(reverse("inventory:system_detail", args=[system.pk])))

    for french in [
        "Finalité et utilisation",
        "Mauvaise utilisation raisonnablement prévisible",
        "Modèles et données",
        "Fournisseurs et ressources",
        "Ce système actif n'a pas de personne redevable.",
        "Niveau d'automatisation",
        "Assistance : une personne décide, le système informe",
    ]:
        assert french in text, french
    for english in [
        "Purpose and use",
        "Reasonably foreseeable misuse",
        "Models and data",
        "Suppliers and resources",
        "This active system has no Accountable person",
        "Level of automation",
    ]:
        assert english not in text, english

    raci = page_text(french_client.get(reverse("inventory:system_raci", args=[system.pk])))
    assert "Attribuer un rôle" in raci and "Redevable" in raci
    assert "Assign a role" not in raci and "Accountable" not in raci


def test_the_system_form_and_its_errors_are_in_french(french_client, system):
    text = page_text(french_client.get(reverse("inventory:system_update", args=[system.pk])))

    for french in [
        "Identité et finalité",
        "Notre ou nos rôles vis-à-vis de ce système",
        "Niveau du règlement européen sur l'IA",
        "Indicateurs de performance",
        "Humain dans la boucle",
    ]:
        assert french in text, french
    for english in [
        "Identity and purpose",
        "Our role(s) towards this system",
        "EU AI Act tier",
        "Performance metrics",
        "Human in the loop",
    ]:
        assert english not in text, english

    invalid = {
        "name": "Credit scoring",
        "purpose": "Estimate default risk.",
        "lifecycle_stage": "operation",
        "deployment_context": "internal",
        "status": "active",
        "automation_level": "assistive",
        "people_decisions": "none",
        "eu_ai_act_tier": "limited",
        "annex_iii_area": "5",
        "performance_metrics": "AUC without a target",
    }
    response = french_client.post(reverse("inventory:system_update", args=[system.pk]), invalid)
    assert response.status_code == 400
    errors = unescape(response.content.decode())
    assert "Ligne 1 : écrivez « métrique = cible »" in errors
    assert "Line 1: write" not in errors
