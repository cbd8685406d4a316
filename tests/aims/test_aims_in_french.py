"""The core pages in the organisation's language: an organisation set to French reads its
leadership and planning pages, members and settings in French, messages and form errors
included; a visitor whose browser asks for German signs in in German."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.aims.factories import ContextIssueFactory, ObjectiveFactory, PolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def french(acme):
    acme.language = "fr"
    acme.save()
    return acme


def _page(client, url, **extra):
    response = client.get(url, **extra)
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_the_context_and_scope_page_reads_in_french(login, french, olivia):
    ContextIssueFactory(organization=french, title="Nouvelle réglementation")
    html = _page(login(olivia), reverse("governance:context"))
    assert '<html lang="fr">' in html
    assert "<h1>Leadership et planification</h1>" in html
    assert ">Contexte et domaine d'application</a>" in html
    assert "Domaine d'application du système de management de l'IA" in html
    assert "Enjeux internes et externes" in html
    assert '<th scope="col">Interne ou externe</th>' in html and '<th scope="col">Effet sur l\'AIMS</th>' in html
    assert "Nouvel enjeu" in html
    assert "Internal and external issues" not in html and "Context and scope" not in html


def test_the_policy_list_and_form_read_in_french(login, french, olivia):
    PolicyFactory(organization=french, title="Politique d'utilisation de l'IA", owner=olivia)
    client = login(olivia)
    listing = _page(client, reverse("governance:policies"))
    assert '<th scope="col">Dernière version</th>' in listing and '<th scope="col">En vigueur</th>' in listing
    assert ">Nouvelle politique</a>" in listing
    assert "Latest version" not in listing

    form = _page(client, reverse("governance:policy_create"))
    assert "Revue tous les (mois)" in form
    assert "À quoi sert la politique et à qui elle s'applique." in form
    assert "Politique IA (5.2)" in form and "Gouvernance des données" in form
    assert "Review every (months)" not in form and "What the policy is for" not in form


def test_a_refused_progress_record_explains_itself_in_french(login, french, olivia):
    objective = ObjectiveFactory(organization=french, owner=olivia)
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = login(olivia).post(
        reverse("governance:progress_add", args=[objective.pk]), {"date": tomorrow.isoformat(), "value": "5"}
    )
    assert response.status_code == 400
    assert "L'avancement est enregistré pour aujourd'hui ou une date passée." in unescape(response.content.decode())
    assert not objective.progress.exists()


def test_the_members_page_reads_in_french(login, french, alice, olivia):
    html = _page(login(alice), reverse("members"))
    assert "<h1>Membres</h1>" in html and "Personnes ayant accès" in html
    assert ">Envoyer l'invitation</button>" in html and "Que peut faire chaque rôle ?" in html
    # The role labels, in the role choices and in what each role may do.
    assert ">Responsable conformité</option>" in html and "<dt>Administrateur</dt>" in html
    assert "People with access" not in html and "Compliance officer" not in html


def test_the_organisation_settings_page_reads_in_french(login, french, alice):
    client = login(alice)
    html = _page(client, reverse("organization_settings"))
    assert "<h1>Paramètres de l'organisation</h1>" in html
    assert "Nom de l'organisation" in html and "Langue par défaut" in html
    assert "Organisation name" not in html

    response = client.post(reverse("organization_settings"), {"name": "Acme Santé IA", "language": "fr"}, follow=True)
    assert "Paramètres de l'organisation enregistrés." in unescape(response.content.decode())


def test_the_same_pages_stay_english_for_an_english_organisation(login, acme, alice):
    assert "Internal and external issues" in _page(login(alice), reverse("governance:context"))
    assert "People with access" in _page(login(alice), reverse("members"))


def test_the_sign_in_page_follows_the_browser_s_language(client):
    html = _page(client, reverse("account_login"), HTTP_ACCEPT_LANGUAGE="de")
    assert '<html lang="de">' in html
    assert "<h1>Anmelden</h1>" in html and "Passwort vergessen?" in html
    assert "E-Mail-Adresse" in html and "Leer lassen, wenn sich Ihre Organisation per Single Sign-on anmeldet." in html
    assert "Forgot your password?" not in html

    refused = client.post(
        reverse("account_login"), {"login": "nobody@example.com", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert "Die E-Mail-Adresse oder das Passwort ist nicht korrekt." in unescape(refused.content.decode())
