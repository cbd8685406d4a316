"""French and German: every marked message has its translation, the compiled catalogues are
those of the sources, and a member reads the portal in their language (or their organisation's).

The catalogue tests need GNU gettext (``msgfmt``, ``xgettext``), which .ci/run installs; without
it they skip, which CI (AIMS_REQUIRE_SERVICES=1) turns into a failure.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

ROOT = Path(settings.BASE_DIR)
LANGUAGES = ["fr", "de"]
# What a copy of the project for extracting messages leaves out.
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "node_modules", "var", "*.sqlite3", "__pycache__", ".*_cache")


def _gettext() -> None:
    if shutil.which("msgfmt") is None or shutil.which("xgettext") is None:
        pytest.skip("GNU gettext is not installed (apt-get install gettext)")


def _statistics(po: Path) -> str:
    checked = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    return checked.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalogue_compiles_with_every_message_translated(language):
    _gettext()
    summary = _statistics(ROOT / "locale" / language / "LC_MESSAGES" / "django.po")
    assert "untranslated" not in summary and "fuzzy" not in summary, summary


def test_every_marked_message_is_in_the_catalogues_and_the_compiled_files_are_current(tmp_path):
    """Extract the messages again, as a developer would after marking new ones: nothing may be
    missing (msgmerge adds a new message untranslated, or as a fuzzy guess)."""
    _gettext()
    copy = tmp_path / "portal"
    shutil.copytree(ROOT, copy, ignore=NOT_COPIED)
    extracted = subprocess.run(
        [sys.executable, "manage.py", "makemessages", *(f"-l{code}" for code in LANGUAGES), "--no-location",
         "--ignore=tests", "--ignore=benchmarks"],
        cwd=copy, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "sqlite:///:memory:"},
    )  # fmt: skip
    assert extracted.returncode == 0, extracted.stderr
    for language in LANGUAGES:
        po = copy / "locale" / language / "LC_MESSAGES" / "django.po"
        summary = _statistics(po)
        assert "untranslated" not in summary and "fuzzy" not in summary, f"{language}: {summary}"
        compiled = tmp_path / f"{language}.mo"
        subprocess.run(["msgfmt", "-o", str(compiled), str(ROOT / "locale" / language / "LC_MESSAGES" / "django.po")],
                       check=True)  # fmt: skip
        committed = ROOT / "locale" / language / "LC_MESSAGES" / "django.mo"
        assert committed.read_bytes() == compiled.read_bytes(), f"run compilemessages for {language}"


@pytest.mark.django_db
def test_a_member_reads_the_portal_in_their_language_or_their_organisations(login, acme, olivia, alice, content_cache):
    english = login(olivia).get(reverse("dashboard"))
    assert english["Content-Language"] == "en-gb" and ">My work" in english.content.decode()

    acme.language = "de"
    acme.save()
    german = login(olivia).get(reverse("dashboard"))
    html = german.content.decode()
    assert german["Content-Language"] == "de" and '<html lang="de">' in html
    assert ">Meine Aufgaben" in html and ">Risiken</a>" in html
    assert "Offene Risiken" in html and "Ihr KI-Managementsystem auf einen Blick." in html

    olivia.language = "fr"
    olivia.save()
    french = login(olivia).get(reverse("dashboard")).content.decode()
    assert ">Mon travail" in french and ">Risques</a>" in french and "Aller au contenu principal" in french
    # The tiles are cached per language: the German reading before left nothing German here.
    assert "Risques ouverts" in french and "Offene Risiken" not in french
    # Another member of the same organisation still follows its default.
    assert ">Meine Aufgaben" in login(alice).get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_the_choice_is_made_on_the_account_and_organisation_pages(login, acme, olivia, alice):
    client = login(olivia)
    saved = client.post(reverse("account_security"), {"language": "de"})
    assert saved.status_code == 302 and saved.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    olivia.refresh_from_db()
    assert olivia.language == "de"
    # The account page needs no organisation: the cookie carries the choice there.
    assert "Kontosicherheit" in client.get(reverse("account_security")).content.decode()
    assert client.post(reverse("account_security"), {"language": "xx"}).status_code == 400
    assert client.post(reverse("account_security"), {"language": ""}).status_code == 302
    olivia.refresh_from_db()
    assert olivia.language == ""

    admin = login(alice)
    saved = admin.post(reverse("organization_settings"), {"name": acme.name, "language": "fr"})
    assert saved.status_code == 302
    acme.refresh_from_db()
    assert acme.language == "fr"
    assert acme.history.first().language == "fr"  # kept in the organisation's history


@pytest.mark.django_db
def test_signed_out_pages_follow_the_browser_and_the_language_does_not_leak_into_the_next_request(client):
    french = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    assert french["Content-Language"] == "fr" and "Portail AIMS" in french.content.decode()
    from django.utils import translation

    assert translation.get_language() == settings.LANGUAGE_CODE
    assert "Portail AIMS" not in client.get(reverse("account_login")).content.decode()
