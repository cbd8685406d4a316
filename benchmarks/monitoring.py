"""Benchmark measurement ingest and chart reads of performance monitoring.

Not a test: run it by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/monitoring.py --count 1000000 --json monitoring.json

It builds a fresh temporary SQLite database (or, with ``--use-env-db``, uses the PostgreSQL
database of DATABASE_URL, where a dedicated organisation is created and deleted again), with
one organisation, one AI system and one metric. It ingests ``--count`` measurements, one
about every minute over two years, through ``registry.monitoring.services.measurements_ingest`` in
batches of 5,000 (the API's path: ISO strings parsed, every item validated, duplicates
checked, alerts evaluated), then times ``metric_series`` over the last day, 30 days and two
years. See benchmarks/README.md for results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BATCH = 5000
SPAN = timedelta(days=730)
RANGES = (("1 day", timedelta(days=1)), ("30 days", timedelta(days=30)), ("2 years", SPAN))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark monitoring ingest and metric_series.")
    parser.add_argument("--count", type=int, default=1_000_000, help="measurements to ingest")
    parser.add_argument("--max-points", type=int, default=500, help="max_points of metric_series")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each series query (the median is reported)")
    parser.add_argument("--json", type=Path, help="write the results to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (the database)")
    parser.add_argument(
        "--use-env-db",
        action="store_true",
        help="use the PostgreSQL database of DATABASE_URL (a dedicated organisation, deleted afterwards)",
    )
    args = parser.parse_args(argv)
    if args.count < BATCH:
        parser.error(f"count must be at least {BATCH}")
    return args


def configure(args: argparse.Namespace, workdir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "aims.settings.base"
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["DEBUG"] = "False"  # no query log growing during the inserts
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not args.use_env_db:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'monitoring.sqlite3'}"
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django

    django.setup()


def value_at(i: int) -> float:
    """An AUC around 0.85 with a short dip below the alert threshold every 100,000 points."""
    if i % 100_000 in range(50_000, 50_020):
        return 0.70
    return 0.85 + ((i * 7919) % 100) / 2000


def run(args: argparse.Namespace) -> dict:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from aims.models import Membership, Organization, User
    from aims.roles import Role
    from registry.models import AISystem
    from registry.monitoring.models import Measurement, MetricDefinition, MonitoringAlert
    from registry.monitoring.selectors import metric_series
    from registry.monitoring.services import measurements_ingest, metric_save

    if not args.use_env_db:
        call_command("migrate", verbosity=0, interactive=False)
    stamp = int(time.time())
    organization = Organization.objects.create(name=f"Monitoring benchmark {stamp}", slug=f"bench-mon-{stamp}")
    user = User.objects.create_user(email=f"bench-mon-{stamp}@example.com", password=None)
    Membership.objects.create(organization=organization, user=user, role=Role.ADMIN)
    try:
        system = AISystem.objects.create(
            organization=organization, ref_code="AIS-0001", name="Credit scoring", purpose="Benchmark", owner=user
        )
        metric = metric_save(
            instance=MetricDefinition(
                organization=organization,
                system=system,
                key="auc",
                name="AUC",
                direction="higher",
                target=0.8,
                alert_threshold=0.75,
                expected_every_minutes=5,
            ),
            acting_user=user,
        )
        end = timezone.now().replace(microsecond=0) - timedelta(minutes=1)
        step = SPAN / args.count
        start = end - step * (args.count - 1)
        totals = {"created": 0, "duplicates": 0, "alerts_opened": 0, "alerts_closed": 0}
        began = time.perf_counter()
        batch_times = []
        for first in range(0, args.count, BATCH):
            items = [
                {"metric": metric.pk, "measured_at": (start + step * i).isoformat(), "value": value_at(i)}
                for i in range(first, min(first + BATCH, args.count))
            ]
            t0 = time.perf_counter()
            result = measurements_ingest(organization=organization, items=items, acting_user=user)
            batch_times.append(time.perf_counter() - t0)
            for name in totals:
                totals[name] += getattr(result, name)
            done = first + len(items)
            if done % 100_000 == 0 or done == args.count:
                elapsed = time.perf_counter() - began
                print(
                    f"  {done:>9,} ingested, {done / elapsed:,.0f}/s overall, last batch {batch_times[-1]:.2f} s",
                    flush=True,
                )
        ingest_seconds = time.perf_counter() - began
        # The same batch again: the idempotent path (all duplicates).
        t0 = time.perf_counter()
        again = measurements_ingest(organization=organization, items=items, acting_user=user)
        duplicate_batch = time.perf_counter() - t0
        stored = Measurement.objects.filter(metric=metric).count()
        if again.created != 0 or again.duplicates != len(items) or stored != args.count:
            raise SystemExit(f"Idempotency check failed: {again}, {stored} stored")

        series = {}
        for label, span in RANGES:
            timings, result = [], None
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                result = metric_series(metric, end - span, end, max_points=args.max_points)
                timings.append((time.perf_counter() - t0) * 1000)
            series[label] = {
                "ms_median": round(statistics.median(timings), 1),
                "ms_max": round(max(timings), 1),
                "bucket": result["bucket"],
                "points": len(result["points"]),
            }
            print(f"  metric_series {label:>8}: {series[label]}", flush=True)
        return {
            "database": connection.vendor,
            "count": args.count,
            "batch": BATCH,
            "ingest_seconds": round(ingest_seconds, 1),
            "ingest_per_second": round(args.count / ingest_seconds),
            "batch_seconds_median": round(statistics.median(batch_times), 3),
            "batch_seconds_max": round(max(batch_times), 3),
            "duplicate_batch_seconds": round(duplicate_batch, 3),
            "alerts": MonitoringAlert.objects.filter(metric=metric).count(),
            **{f"total_{k}": v for k, v in totals.items()},
            "series": series,
            "python": platform.python_version(),
            "machine": platform.machine(),
        }
    finally:
        if args.use_env_db:
            Measurement.objects.filter(organization=organization).delete()
            organization.delete()
            user.delete()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="aims-bench-monitoring-"))
    try:
        configure(args, workdir)
        numbers = run(args)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(numbers, indent=2))
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
