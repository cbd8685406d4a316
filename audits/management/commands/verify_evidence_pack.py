"""``manage.py verify_evidence_pack <id>``: recompute a pack's hashes and report what differs.

The pack is named by its number (the API's ``id``) or by the UUID on its cover page.
"""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError

from audits.models import EvidencePack
from audits.packs.services import evidence_pack_verify


class Command(BaseCommand):
    help = "Verify an evidence pack: recompute the PDF's SHA-256 and every record and file in its manifest."

    def add_arguments(self, parser):
        parser.add_argument("pack_id", help="The pack's id (as in the API) or its UUID (on the cover page).")

    def handle(self, *args, pack_id, **options):
        pack = _find_pack(pack_id.strip())
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


def _find_pack(pack_id: str) -> EvidencePack:
    packs = EvidencePack.objects.select_related("organization")
    if pack_id.isdecimal() and len(pack_id) <= 18:  # fits a bigint: anything longer is no id
        pack = packs.filter(pk=int(pack_id)).first()
    else:
        try:
            pack = packs.filter(uid=uuid.UUID(pack_id)).first()
        except ValueError:
            raise CommandError(f"{pack_id!r} is neither a pack id (a number) nor a pack UUID.") from None
    if pack is None:
        raise CommandError(f"No evidence pack with id {pack_id}.")
    return pack
