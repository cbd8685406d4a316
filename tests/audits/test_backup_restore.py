"""Backup and restore round trip: an organisation with evidence files and a generated pack is backed up,
restored into a new, empty PostgreSQL database and an empty private store, and every table's rows,
every file's SHA-256 and the pack's own verification match.

It lives with the audits tests for their inventory, risk register and private-storage fixtures. The
restore runs ``manage.py aims_restore`` in a separate process pointed at the scratch database, as an
operator (or ``docker compose run``) does; pg_dump and pg_restore are the real client tools.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from aims.backup import MANIFEST_NAME, file_sha256
from audits.models import EvidencePack
from audits.packs import services as pack_services
from controls.evidence import services as evidence_services
from controls.models import Evidence, EvidenceDownload
from tests.audits.factories import req
from tests.controls.factories import PDF, FileEvidenceFactory, upload

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("The round trip needs PostgreSQL (set DATABASE_URL).")
    return connection.settings_dict


def _server(params, dbname: str) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(
        dbname=dbname, host=params["HOST"] or None, port=params["PORT"] or None,
        user=params["USER"] or None, password=params["PASSWORD"] or None,
    )  # fmt: skip
    conn.autocommit = True
    return conn


@pytest.fixture
def scratch_database(postgresql):
    """An empty database on the same server, dropped afterwards (also when the test fails)."""
    name = f"aims_restore_{os.getpid()}"
    admin = _server(postgresql, "postgres")
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _database_url(params, name: str) -> str:
    auth = quote(params["USER"] or "postgres") + (f":{quote(params['PASSWORD'])}" if params["PASSWORD"] else "")
    return f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{name}"


def manage(*args: str, database_url: str, storage: Path) -> subprocess.CompletedProcess[str]:
    """Run manage.py in a new process on another database and private store, as an operator would."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aims.settings.test",
        "DATABASE_URL": database_url,
        "PRIVATE_STORAGE_DIR": str(storage),
    }
    return subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _counts(conn) -> dict[str, int]:
    with conn.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [row[0] for row in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608  # names from pg_tables
            counts[table] = cursor.fetchone()[0]
    return counts


def _hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): file_sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def evidence_library(catalogue, acme, olivia):
    """Acme with file evidence in storage: enough for the checks that need no pack."""
    return FileEvidenceFactory(organization=acme, acting_user=olivia, title="Data sheet", name="datasheet.pdf")


@pytest.fixture
def organisation(catalogue, login, acme, olivia, bob, inventory, risk_register, private_storage):
    """Acme with two file evidence items (one with two versions, one downloaded) and a generated pack."""
    report = FileEvidenceFactory(organization=acme, acting_user=olivia, title="Bias test report", owner=olivia)
    evidence_services.evidence_add_version(
        evidence=report, acting_user=olivia, upload=upload("bias-q2.pdf", PDF + b"% Q2\n"), comment="Q2"
    )
    evidence_services.evidence_link(evidence=report, target="control", obj=req("A.6.2.4"), acting_user=olivia)
    FileEvidenceFactory(organization=acme, acting_user=olivia, title="Data sheet", name="datasheet.pdf")
    version = report.versions.order_by("-number").first()
    assert login(bob).get(reverse("evidence:download", args=[report.pk, version.pk])).status_code == 200
    # Celery is eager here and the test is transactional: the request's commit runs the pack at once.
    pack, _ = pack_services.evidence_pack_request(organization=acme, acting_user=bob, include_files=True)
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.SUCCEEDED, pack.error
    assert pack_services.evidence_pack_verify(pack).ok
    return pack


def test_backup_restores_into_an_empty_database_and_store_with_every_row_and_file(
    organisation, postgresql, scratch_database, private_storage, tmp_path_factory
):
    pack = organisation
    archive = tmp_path_factory.mktemp("backups") / "acme.tar.gz"
    call_command("aims_backup", str(archive), verbosity=0)
    assert archive.exists()

    source_conn = _server(postgresql, postgresql["NAME"])
    source_counts, source_files = _counts(source_conn), _hashes(private_storage)
    source_conn.close()
    assert source_counts["controls_evidenceversion"] == 3 and source_counts["audits_evidencepack"] == 1
    assert source_counts["controls_evidencedownload"] == 1
    assert len(source_files) == 4  # three evidence versions and the pack's PDF

    restored = tmp_path_factory.mktemp("restored-private")
    url = _database_url(postgresql, scratch_database)
    result = manage("aims_restore", str(archive), database_url=url, storage=restored)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "match their SHA-256" in result.stdout

    # Checked here independently of the command's own check: every table, every row count, every file.
    target = _server(postgresql, scratch_database)
    assert _counts(target) == source_counts
    target.close()
    assert _hashes(restored) == source_files

    # The pack verifies in the restored installation: its PDF, every record and every evidence file.
    verified = manage("verify_evidence_pack", str(pack.uid), database_url=url, storage=restored)
    assert verified.returncode == 0, verified.stderr + verified.stdout
    assert "records are unchanged" in verified.stdout

    # A restored installation is not empty any more: a second restore is refused without --force.
    again = manage("aims_restore", str(archive), database_url=url, storage=restored)
    assert again.returncode != 0 and "The target is not empty (1 organisation(s)" in again.stderr


def test_a_restore_that_differs_from_the_manifest_fails_and_says_what_differs(
    evidence_library, postgresql, scratch_database, tmp_path_factory
):
    folder = tmp_path_factory.mktemp("backups") / "acme"
    call_command("aims_backup", str(folder), verbosity=0)
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    assert manifest["database"]["sha256"] == hashlib.sha256((folder / "database.dump").read_bytes()).hexdigest()
    assert {entry["path"] for entry in manifest["files"]} == {
        p.relative_to(folder / "files").as_posix() for p in (folder / "files").rglob("*") if p.is_file()
    }
    # The manifest claims one organisation more than the dump holds: the restore's check must notice.
    manifest["tables"]["aims_organization"] += 1
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))
    url = _database_url(postgresql, scratch_database)
    result = manage("aims_restore", str(folder), database_url=url, storage=tmp_path_factory.mktemp("restored"))
    assert result.returncode != 0
    expected = manifest["tables"]["aims_organization"]
    assert f"Table aims_organization has {expected - 1} row(s), the backup {expected}." in result.stderr


def test_a_damaged_backup_or_a_non_empty_target_is_refused_and_nothing_changes(
    evidence_library, acme, tmp_path_factory, private_storage
):
    folder = tmp_path_factory.mktemp("backups") / "acme"
    call_command("aims_backup", str(folder), verbosity=0)
    before = (Evidence.objects.count(), EvidenceDownload.objects.count(), _hashes(private_storage))

    with pytest.raises(CommandError, match=r"The target is not empty \(1 organisation\(s\), 1 user\(s\), 1 stored"):
        call_command("aims_restore", str(folder), verbosity=0)

    stored = next((folder / "files" / "evidence").rglob("*.pdf"))
    stored.write_bytes(b"%PDF-1.4 edited\n")
    with pytest.raises(CommandError, match=r"damaged; nothing was restored:\n.*does not match its SHA-256"):
        call_command("aims_restore", str(folder), "--force", verbosity=0)
    assert (Evidence.objects.count(), EvidenceDownload.objects.count(), _hashes(private_storage)) == before

    with pytest.raises(CommandError, match="not an empty directory"):
        call_command("aims_backup", str(folder), verbosity=0)


def test_missing_client_tools_are_named_before_anything_is_written(evidence_library, postgresql, settings, tmp_path):
    settings.BACKUP_PG_BIN_DIR = str(tmp_path / "no-such-bin")
    target = tmp_path / "backup"
    with pytest.raises(CommandError, match="pg_dump was not found: install the PostgreSQL client tools"):
        call_command("aims_backup", str(target), verbosity=0)
    assert not target.exists() or not any(target.iterdir())
