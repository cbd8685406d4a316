"""A member switches the portal to German on their account page and walks the main pages; an
organisation whose default is French shows it to members who chose nothing."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAIN_PAGES = ["/", "/my-work/", "/inventory/", "/risks/", "/impact-assessments/", "/controls/soa/", "/evidence/",
              "/audits/", "/aims/context/", "/organisation/settings/"]  # fmt: skip


def test_the_main_pages_in_french_and_german(page, catalogue, acme, olivia):
    from playwright.sync_api import expect

    acme.language = "fr"
    acme.save()
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(olivia.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()

    nav = page.get_by_role("navigation", name="Principale")
    for path in MAIN_PAGES:
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(nav.get_by_role("link", name="Tableau de bord")).to_be_visible()
        expect(page.get_by_role("link", name="Mon travail")).to_be_visible()

    # The first-run checklist and My work are French through and through.
    page.goto("/setup/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mettre en place votre système de management de l'IA")
    expect(page.locator(".setup-step").first).to_contain_text("Définir le domaine d'application et le contexte")
    page.goto("/my-work/")
    expect(page.get_by_label("Échéance")).to_be_visible()
    expect(page.get_by_text("Rien ne vous attend.")).to_be_visible()

    page.get_by_role("link", name="Sécurité du compte").click()
    # The account page is French too, its form included.
    page.get_by_label("Langue").select_option("de")
    page.get_by_role("button", name="Enregistrer").last.click()
    nav = page.get_by_role("navigation", name="Hauptnavigation")
    for path in MAIN_PAGES:
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(nav.get_by_role("link", name="Übersicht")).to_be_visible()
        expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
    page.goto("/setup/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihr KI-Managementsystem einrichten")
