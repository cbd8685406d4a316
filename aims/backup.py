"""Backup and restore of a whole installation: the database plus the private file store.

A backup is a directory (or the same directory as a ``.tar.gz`` archive) holding:

- ``database.dump``: on PostgreSQL, ``pg_dump --format=custom`` of the database;
  ``database.sqlite3`` on SQLite: a consistent copy made with SQLite's online backup API
  (what ``make serve`` uses when ``DATABASE_URL`` is unset);
- ``files/``: every file of the private store (``PRIVATE_STORAGE_DIR``: evidence, policy
  versions, evidence packs);
- ``manifest.json``, written last: the SHA-256 and size of the database file and of every
  stored file, and the number of rows of every table.

On PostgreSQL the row counts and the dump come from the same snapshot (``pg_export_snapshot``
then ``pg_dump --snapshot``), so the counts describe exactly what the dump holds even while the
portal keeps writing. Restoring checks the backup against its manifest before anything is
touched, refuses a target that already holds organisations, users or files unless forced, and
checks the restored database and files against the manifest afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import FileSystemStorage, storages
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from aims.models import Organization

FORMAT = "aims-backup/1"
MANIFEST_NAME = "manifest.json"
FILES_DIR = "files"
PG_DUMP_NAME = "database.dump"
SQLITE_NAME = "database.sqlite3"
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
CHUNK = 1024 * 1024


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why and what to do."""


@dataclass
class RestoreReport:
    tables_checked: int = 0
    files_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- Helpers ------------------------------------------------------------------------------------


def is_archive(path: Path) -> bool:
    return path.name.endswith(ARCHIVE_SUFFIXES)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_hashing(source: Path, target: Path) -> tuple[str, int]:
    """Copy ``source`` to ``target`` and hash the bytes copied, so the manifest describes the copy."""
    digest, size = hashlib.sha256(), 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as src, target.open("wb") as dst:
        for chunk in iter(lambda: src.read(CHUNK), b""):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    shutil.copystat(source, target)
    return digest.hexdigest(), size


def storage_root() -> Path:
    """The private file store: the default storage's folder (``PRIVATE_STORAGE_DIR`` unless overridden)."""
    storage = storages["default"]
    if not isinstance(storage, FileSystemStorage):
        raise BackupError(f"Only a file-system private store can be backed up (the default storage is {storage!r}).")
    return Path(storage.location)


def _stored_files(root: Path) -> Iterator[Path]:
    if root.exists():
        yield from sorted(p for p in root.rglob("*") if p.is_file())


def _table_counts(connection: BaseDatabaseWrapper) -> dict[str, int]:
    with connection.cursor() as cursor:
        names = sorted(connection.introspection.table_names(cursor))
        counts = {}
        for name in names:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(name)}")  # noqa: S608  # introspected
            counts[name] = cursor.fetchone()[0]
    return counts


def _latest_migrations(connection: BaseDatabaseWrapper) -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        latest[app] = max(latest.get(app, ""), name)
    return dict(sorted(latest.items()))


# --- PostgreSQL client tools --------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    folder = getattr(settings, "BACKUP_PG_BIN_DIR", "")
    path = str(Path(folder) / name) if folder else shutil.which(name)
    if not path or not Path(path).exists():
        raise BackupError(
            f"{name} was not found: install the PostgreSQL client tools (Debian: apt-get install postgresql-client)"
            " or set BACKUP_PG_BIN_DIR to their folder."
        )
    return path


def _tool_version(path: str) -> tuple[int, str]:
    """The major version and full version of a PostgreSQL client tool (``pg_dump (PostgreSQL) 15.20 ...``)."""
    output = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    match = re.search(r"(\d+)(?:\.(\d+))?", output)
    if match is None:
        raise BackupError(f"Cannot read the version of {path}: {output!r}.")
    return int(match.group(1)), match.group(0)


def _server_version(connection: BaseDatabaseWrapper) -> tuple[int, str]:
    number = int(connection.pg_version)  # type: ignore[attr-defined]  # the PostgreSQL backend's own
    return number // 10000, f"{number // 10000}.{number % 10000}"


def pg_tool_checked(name: str, connection: BaseDatabaseWrapper) -> tuple[str, str]:
    """The tool's path and version, once it is known to be at least the server's major version.

    An older ``pg_dump`` refuses a newer server ("server version mismatch"); an older
    ``pg_restore`` cannot read a newer dump. Said plainly here, before anything is written.
    """
    path = _pg_tool(name)
    major, version = _tool_version(path)
    connection.ensure_connection()
    server_major, server_version = _server_version(connection)
    if major < server_major:
        raise BackupError(
            f"{name} {version} is older than the PostgreSQL server ({server_version}): install "
            f"postgresql-client-{server_major} (or set BACKUP_PG_BIN_DIR to its bin folder)."
        )
    return path, version


def _pg_env(connection: BaseDatabaseWrapper) -> dict[str, str]:
    """libpq settings of the connection, passed in the environment so the password stays out of ``ps``."""
    params = connection.settings_dict
    env = {**os.environ, "PGDATABASE": str(params["NAME"])}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if params.get(key):
            env[var] = str(params[key])
    if sslmode := params.get("OPTIONS", {}).get("sslmode"):
        env["PGSSLMODE"] = str(sslmode)
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode:
        raise BackupError(f"{Path(command[0]).name} failed ({result.returncode}): {result.stderr.strip()}")


# --- Backup -------------------------------------------------------------------------------------


def _backup_postgresql(connection: BaseDatabaseWrapper, folder: Path) -> dict[str, Any]:
    pg_dump, version = pg_tool_checked("pg_dump", connection)
    target = folder / PG_DUMP_NAME
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # One snapshot for the counts and the dump: the transaction stays open while pg_dump reads it.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counts = _table_counts(connection)
        migrations = _latest_migrations(connection)
        _run(
            [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}", f"--file={target}"],
            _pg_env(connection),
        )
    return {
        "vendor": "postgresql",
        "method": "pg_dump --format=custom",
        "file": PG_DUMP_NAME,
        "server_version": _server_version(connection)[1],
        "pg_dump_version": version,
        "tables": counts,
        "migrations": migrations,
    }


def _backup_sqlite(connection: BaseDatabaseWrapper, folder: Path) -> dict[str, Any]:
    target = folder / SQLITE_NAME
    source = sqlite3.connect(str(connection.settings_dict["NAME"]))
    copy = sqlite3.connect(str(target))
    try:
        source.backup(copy)  # consistent even while the portal writes
    finally:
        source.close()
        copy.close()
    # Counted from the copy, so the counts are those of the file backed up.
    counts_conn = sqlite3.connect(str(target))
    try:
        names = [row[0] for row in counts_conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        counts = {
            name: counts_conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]  # noqa: S608  # from sqlite_master
            for name in sorted(names)
            if not name.startswith("sqlite_")
        }
    finally:
        counts_conn.close()
    return {
        "vendor": "sqlite",
        "method": "sqlite3 online backup (a copy of the database file)",
        "file": SQLITE_NAME,
        "tables": counts,
        "migrations": _latest_migrations(connection),
    }


def backup_create(target: Path, *, using: str = DEFAULT_DB_ALIAS, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Write a backup to ``target`` (a new or empty directory, or a ``.tar.gz`` path); answer the manifest."""
    target = target.resolve()
    archive = is_archive(target)
    if archive and target.exists():
        raise BackupError(f"{target} already exists: choose a new archive name.")
    if not archive and target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} is not an empty directory: choose a new one.")
    connection = connections[using]
    if connection.vendor not in ("postgresql", "sqlite"):
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {connection.vendor}.")
    root = storage_root()
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".aims-backup-", dir=target.parent)) if archive else target
    folder.mkdir(parents=True, exist_ok=True)
    try:
        log(f"Database ({connection.vendor}) …")
        database = (
            _backup_postgresql(connection, folder)
            if connection.vendor == "postgresql"
            else _backup_sqlite(connection, folder)
        )
        db_file = folder / database["file"]
        database.update(sha256=file_sha256(db_file), size=db_file.stat().st_size)
        # Files after the database: a file written meanwhile is extra, never a row without its file.
        log(f"Private files from {root} …")
        files = []
        for path in _stored_files(root):
            name = path.relative_to(root).as_posix()
            sha256, size = _copy_hashing(path, folder / FILES_DIR / name)
            files.append({"path": name, "size": size, "sha256": sha256})
        tables = database.pop("tables")
        manifest = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(),
            "database": database,
            "tables": tables,
            "files": files,
        }
        (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        if archive:
            partial = target.with_name(target.name + ".partial")
            with tarfile.open(partial, "w:gz") as tar:
                for entry in sorted(folder.iterdir()):
                    tar.add(entry, arcname=entry.name)
            partial.rename(target)
    except BaseException:
        if archive:
            target.with_name(target.name + ".partial").unlink(missing_ok=True)
        raise
    finally:
        if archive:
            shutil.rmtree(folder, ignore_errors=True)
    return manifest


# --- Restore ------------------------------------------------------------------------------------


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST_NAME
    if not path.exists():
        raise BackupError(f"{folder} holds no {MANIFEST_NAME}: it is not a complete backup.")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{path} is not readable JSON ({exc}).") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not an {FORMAT} manifest (format: {manifest.get('format')!r}).")
    return manifest


def backup_check(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """What in the backup differs from its manifest (a damaged or edited backup)."""
    problems = []
    database = manifest["database"]
    db_file = folder / database["file"]
    if not db_file.exists():
        problems.append(f"The database file {database['file']} is missing.")
    elif file_sha256(db_file) != database["sha256"]:
        problems.append(f"The database file {database['file']} does not match its SHA-256.")
    listed = set()
    for entry in manifest["files"]:
        listed.add(entry["path"])
        path = folder / FILES_DIR / entry["path"]
        if not path.is_file():
            problems.append(f"File {entry['path']} is listed but missing from the backup.")
        elif file_sha256(path) != entry["sha256"]:
            problems.append(f"File {entry['path']} in the backup does not match its SHA-256.")
    for path in _stored_files(folder / FILES_DIR):
        if path.relative_to(folder / FILES_DIR).as_posix() not in listed:
            problems.append(f"File {path.relative_to(folder / FILES_DIR).as_posix()} is in the backup but not listed.")
    return problems


def target_contents(connection: BaseDatabaseWrapper, root: Path) -> list[str]:
    """What the target already holds that a restore would replace: organisations, users, stored files.

    A freshly migrated database with the catalogue loaded (what docker compose's ``migrate``
    service leaves) counts as empty: it holds nobody's records.
    """
    found = []
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    for model, label in ((Organization, "organisation(s)"), (get_user_model(), "user(s)")):
        if model._meta.db_table in tables:
            count = model._base_manager.using(connection.alias).count()
            if count:
                found.append(f"{count} {label}")
    stored = sum(1 for _ in _stored_files(root))
    if stored:
        found.append(f"{stored} stored file(s) in {root}")
    return found


def _restore_postgresql(connection: BaseDatabaseWrapper, folder: Path, manifest: dict[str, Any]) -> None:
    pg_restore, version = pg_tool_checked("pg_restore", connection)
    dumped_by = int(str(manifest["database"].get("pg_dump_version", "0")).split(".")[0])
    if int(version.split(".")[0]) < dumped_by:
        raise BackupError(f"pg_restore {version} cannot read a dump made by pg_dump {dumped_by}: install a newer one.")
    env = _pg_env(connection)
    connections.close_all()  # hold no lock on the tables pg_restore drops and recreates
    # One transaction: the target ends as the backup or as it was, never half restored.
    _run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={env['PGDATABASE']}",
            str(folder / PG_DUMP_NAME),
        ],
        env,
    )


def _restore_sqlite(connection: BaseDatabaseWrapper, folder: Path) -> None:
    connections.close_all()
    source = sqlite3.connect(str(folder / SQLITE_NAME))
    target = sqlite3.connect(str(connection.settings_dict["NAME"]))
    try:
        source.backup(target)  # replaces the target's whole content, pages and all
    finally:
        source.close()
        target.close()


def restore_verify(connection: BaseDatabaseWrapper, root: Path, manifest: dict[str, Any]) -> RestoreReport:
    """Compare the database's row counts and the stored files with the manifest."""
    report = RestoreReport()
    counts = _table_counts(connection)
    for table, expected in sorted(manifest["tables"].items()):
        report.tables_checked += 1
        if table not in counts:
            report.problems.append(f"Table {table} is missing (the backup has {expected} row(s)).")
        elif counts[table] != expected:
            report.problems.append(f"Table {table} has {counts[table]} row(s), the backup {expected}.")
    for entry in manifest["files"]:
        report.files_checked += 1
        path = root / entry["path"]
        if not path.is_file():
            report.problems.append(f"File {entry['path']} is missing from the private store.")
        elif file_sha256(path) != entry["sha256"]:
            report.problems.append(f"File {entry['path']} in the private store does not match its SHA-256.")
    return report


def _restore_from(
    folder: Path, *, force: bool, using: str, log: Callable[[str], None]
) -> tuple[dict[str, Any], RestoreReport]:
    manifest = _read_manifest(folder)
    if problems := backup_check(folder, manifest):
        raise BackupError("The backup is damaged; nothing was restored:\n" + "\n".join(f"  {p}" for p in problems))
    connection = connections[using]
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(f"This is a {vendor} backup; the target database is {connection.vendor}.")
    root = storage_root()
    if (found := target_contents(connection, root)) and not force:
        raise BackupError(
            f"The target is not empty ({', '.join(found)}); nothing was restored. "
            "Restore into an empty database and private store, or pass --force to replace them."
        )
    log(f"Database ({vendor}) …")
    if vendor == "postgresql":
        _restore_postgresql(connection, folder, manifest)
    else:
        _restore_sqlite(connection, folder)
    log(f"Private files into {root} …")
    for entry in manifest["files"]:
        _copy_hashing(folder / FILES_DIR / entry["path"], root / entry["path"])
    return manifest, restore_verify(connection, root, manifest)


def backup_restore(
    source: Path, *, force: bool = False, using: str = DEFAULT_DB_ALIAS, log: Callable[[str], None] = print
) -> tuple[dict[str, Any], RestoreReport]:
    """Restore the backup at ``source`` (a directory or ``.tar.gz``); answer its manifest and the check."""
    source = source.resolve()
    if not source.exists():
        raise BackupError(f"{source} does not exist.")
    if not is_archive(source):
        return _restore_from(source, force=force, using=using, log=log)
    with tempfile.TemporaryDirectory(prefix=".aims-restore-") as tmp:
        try:
            with tarfile.open(source, "r:gz") as tar:
                tar.extractall(tmp, filter="data")  # refuses absolute paths, links out and devices
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BackupError(f"{source} is not a readable backup archive ({exc}).") from exc
        return _restore_from(Path(tmp), force=force, using=using, log=log)
