"""Backup and restore on SQLite (what ``make serve`` runs on): a copy of the database file, restored whole.

The database here is a small SQLite file of its own, reached through an extra connection alias, so
the test needs no server; the PostgreSQL round trip with a full organisation is
tests/audits/test_backup_restore.py.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from django.db import connections

from aims.backup import BackupError, backup_create, backup_restore


@pytest.fixture
def sqlite_alias(tmp_path, django_db_blocker):
    """Register ``alias -> tmp file`` for the test; the connections are closed and removed afterwards.

    Only these files are opened (never the test database), so the blocker is lifted for them
    rather than taking a test database transaction that could not cover the extra aliases.
    """
    added = []
    django_db_blocker.unblock()

    def _alias(name: str):
        alias = f"backup_{name}"
        database = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / f"{name}.sqlite3")}
        # configure_settings fills in every default key (and insists on a "default" alias).
        connections.settings[alias] = connections.configure_settings({"default": {}, alias: database})[alias]
        added.append(alias)
        return alias

    yield _alias
    for alias in added:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]
    django_db_blocker.restore()


@pytest.fixture
def store(settings, tmp_path):
    def _store(name: str):
        root = tmp_path / f"private-{name}"
        root.mkdir()
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": root}},
        }
        return root

    return _store


def test_an_sqlite_database_and_its_files_are_backed_up_and_restored_whole(sqlite_alias, store, tmp_path):
    source = sqlite_alias("source")
    db = sqlite3.connect(connections[source].settings_dict["NAME"])
    db.executescript(
        "CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT, applied TEXT);"
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
        "INSERT INTO notes (body) VALUES ('one'), ('two'), ('three');"
    )
    db.commit()
    db.close()
    files = store("source")
    (files / "evidence" / "1").mkdir(parents=True)
    (files / "evidence" / "1" / "report.pdf").write_bytes(b"%PDF-1.4 report\n")

    archive = tmp_path / "backup.tar.gz"
    manifest = backup_create(archive, using=source, log=lambda _: None)
    assert manifest["database"]["vendor"] == "sqlite" and manifest["database"]["file"] == "database.sqlite3"
    assert manifest["tables"] == {"django_migrations": 0, "notes": 3}
    assert [entry["path"] for entry in manifest["files"]] == ["evidence/1/report.pdf"]

    target = sqlite_alias("target")
    restored = store("target")
    _, report = backup_restore(archive, using=target, log=lambda _: None)
    assert report.ok and (report.tables_checked, report.files_checked) == (2, 1)
    check = sqlite3.connect(connections[target].settings_dict["NAME"])
    assert [row[0] for row in check.execute("SELECT body FROM notes ORDER BY id")] == ["one", "two", "three"]
    check.close()
    assert (restored / "evidence" / "1" / "report.pdf").read_bytes() == b"%PDF-1.4 report\n"

    # A PostgreSQL installation cannot take it, and the manifest says which kind it is.
    folder = tmp_path / "unpacked"
    backup_create(folder, using=source, log=lambda _: None)
    assert json.loads((folder / "manifest.json").read_text())["database"]["method"].startswith("sqlite3")
    with pytest.raises(BackupError, match="not an empty directory"):
        backup_create(folder, using=source, log=lambda _: None)
