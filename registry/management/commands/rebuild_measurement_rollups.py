"""Recompute the hourly and daily roll-ups of measurements from the raw rows."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from registry.monitoring.services import measurement_rollups_rebuild


class Command(BaseCommand):
    help = "Recompute the measurement roll-ups (every metric, or those given) from the raw measurements."

    def add_arguments(self, parser):
        parser.add_argument("--metric", type=int, action="append", dest="metrics", help="Metric id (repeatable).")

    def handle(self, *args, metrics=None, **options):
        buckets = measurement_rollups_rebuild(metric_ids=metrics)
        self.stdout.write(f"Rebuilt {buckets} hourly buckets and their daily roll-ups.")
