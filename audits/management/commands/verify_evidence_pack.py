"""``manage.py verify_evidence_pack <id>``: recompute a pack's hashes and report what differs."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from audits.models import EvidencePack
from audits.packs.services import evidence_pack_verify


class Command(BaseCommand):
    help = "Verify an evidence pack: recompute the PDF's SHA-256 and every record and file in its manifest."

    def add_arguments(self, parser):
        parser.add_argument("pack_id", help="The pack id (UUID) shown on the cover page.")

    def handle(self, *args, pack_id, **options):
        pack = EvidencePack.objects.select_related("organization").filter(uid=pack_id).first()
        if pack is None:
            raise CommandError(f"No evidence pack with id {pack_id}.")
        report = evidence_pack_verify(pack)
        for problem in report.problems:
            self.stdout.write(self.style.ERROR(f"✗ {problem}"))
        if not report.ok:
            raise CommandError(f"Pack {pack_id} failed verification ({len(report.problems)} problem(s)).")
        self.stdout.write(
            self.style.SUCCESS(
                f"✓ Pack {pack_id}: the file's SHA-256 matches and all {report.records_checked} records are unchanged."
            )
        )
