"""``manage.py aims_restore <dir-or-archive.tar.gz> [--force]``: restore a backup, then check it."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aims.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by aims_backup into this installation's database and private file store, then "
        "check every table's row count and every file's SHA-256 against the backup's manifest (non-zero exit on "
        "any difference). Refuses a target holding organisations, users or files unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", type=Path, help="A backup directory or .tar.gz archive.")
        parser.add_argument(
            "--force", action="store_true", help="Replace a target that already holds organisations, users or files."
        )
        parser.add_argument("--database", default="default", help="The database alias (default: default).")

    def handle(self, *args, source, force, database, **options):
        try:
            _manifest, report = backup_restore(source, force=force, using=database, log=self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        for problem in report.problems:
            self.stderr.write(self.style.ERROR(f"✗ {problem}"))
        if not report.ok:
            raise CommandError(f"The restore differs from the backup ({len(report.problems)} problem(s)).")
        self.stdout.write(
            self.style.SUCCESS(
                f"✓ Restored from {source}: all {report.tables_checked} tables have the backup's row counts and all "
                f"{report.files_checked} file(s) match their SHA-256. Run `manage.py migrate` if this portal "
                "is newer than the backup."
            )
        )
