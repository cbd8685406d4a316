"""``manage.py load_catalogue``: load or refresh the shipped catalogues (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from controls.catalogue.services import catalogue_load


class Command(BaseCommand):
    help = "Load or refresh the shipped control catalogues (ISO/IEC 42001, EU AI Act, NIST AI RMF crosswalk)."

    def handle(self, *args, **options):
        report = catalogue_load()
        if options["verbosity"] == 0:
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Catalogue loaded: {report.frameworks} frameworks, {report.created} requirements created, "
                f"{report.updated} updated, {report.mappings} mappings."
            )
        )
        for ref in report.stale:
            self.stdout.write(self.style.WARNING(f"No longer in the data files (kept): {ref}"))
