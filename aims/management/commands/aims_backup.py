"""``manage.py aims_backup <dir-or-archive.tar.gz>``: the database and the private files, with a manifest."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aims.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump custom format on PostgreSQL, a copy of the file on SQLite) and the "
        "private file store, with manifest.json listing the SHA-256 of every file and the rows of every table. "
        "The target is a new or empty directory, or a path ending in .tar.gz for one archive."
    )

    def add_arguments(self, parser):
        parser.add_argument("target", type=Path, help="A new or empty directory, or a new .tar.gz archive.")
        parser.add_argument("--database", default="default", help="The database alias (default: default).")

    def handle(self, *args, target, database, **options):
        try:
            manifest = backup_create(target, using=database, log=self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            self.style.SUCCESS(
                f"✓ Backed up to {target}: {len(manifest['tables'])} tables ({rows} rows) and "
                f"{len(manifest['files'])} file(s); see {'the archive' if target.name.endswith('gz') else target}"
                "/manifest.json."
            )
        )
