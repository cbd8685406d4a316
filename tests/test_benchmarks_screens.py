"""The screens benchmark runs end to end at a tiny size: every endpoint answers, every figure is reported.

benchmarks/screens.py itself is run by hand at 1,000 or 10,000 systems. Here it runs as a
subprocess at 20 systems and 50 risks, one round, on the test database's PostgreSQL server: it
seeds (or reuses) its template database, measures a copy of it, prints the table and writes the
JSON. The template is kept for the next run, as the script keeps it for a re-run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "screens.py"

pytestmark = pytest.mark.django_db


def _server_url() -> str:
    settings = connection.settings_dict
    assert connection.vendor == "postgresql", "benchmarks/screens.py measures PostgreSQL: set DATABASE_URL"
    credentials = quote(settings["USER"] or "postgres")
    if settings["PASSWORD"]:
        credentials += ":" + quote(settings["PASSWORD"])
    return f"postgres://{credentials}@{settings['HOST'] or 'localhost'}:{settings['PORT'] or 5432}/{settings['NAME']}"


def test_screens_benchmark_answers_every_endpoint_and_reports_every_figure(tmp_path):
    out = tmp_path / "screens.json"
    env = {**os.environ, "DATABASE_URL": _server_url()}
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            *("--systems", "20", "--risks", "50", "--measurements", "2000", "--rounds", "1"),
            *("--explain", "2", "--template-prefix", "test_aims_scale_", "--json", str(out)),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith("worst ratio: ") and lines[-1].endswith(")")
    header = next(line for line in lines if line.startswith("endpoint"))
    assert header.split() == [
        "endpoint", "status", "queries", "db", "ms", "median", "ms", "x", "me",
        "uncached", "ms", "x", "me", "KB", "runs",
    ]  # fmt: skip
    assert "Execution Time" in result.stdout  # the plans of --explain are printed

    report = json.loads(out.read_text())
    names = [row["name"] for row in report["endpoints"]]
    for expected in (
        "api: me (trivial)",
        "page: inventory",
        "page: inventory ?q=",
        "page: inventory deep page",
        "page: risks",
        "page: risks filter level",
        "page: SoA",
        "page: readiness",
        "page: dashboard",
        "page: activity",
        "page: impact assessments",
        "page: evidence",
        "page: audits",
        "page: corrective actions",
        "page: monitoring chart 1 day",
        "page: monitoring chart 2 years",
        "page: setup",
        "page: my work",
        "page: findings",
        "page: systems to assess",
        "page: search",
        "page: system risks tab",
        "page: system controls tab",
        "page: system findings tab",
        "api: systems deep page",
        "api: risks ?q=",
        "api: SoA",
        "api: save a new risk (POST)",
    ):
        assert expected in names, expected
    for row in report["endpoints"]:
        assert row["ok"], row
        assert row["status"] == (201 if row["method"] == "POST" else 200), row
        assert row["queries"] >= 1 and row["bytes"] > 0, row
        # One round: one run per endpoint, each after a run of the trivial endpoint.
        runs = len(report["endpoints"]) - 1 if row["name"] == "api: me (trivial)" else 1
        assert row["median_ms"] > 0 and row["ratio"] > 0 and len(row["times_ms"]) == runs, row
        # Reads are timed again with their cached content missed; the trivial endpoint and the write are not.
        if row["method"] == "GET" and row["name"] != "api: me (trivial)":
            assert len(row["uncached_times_ms"]) == 1 and row["uncached_ratio"] > 0, row
        else:
            assert "uncached_ratio" not in row, row
        assert row["name"] in result.stdout
    assert report["seed"]["counts"]["systems"] == 20 and report["seed"]["counts"]["risks"] == 50
    assert report["seed"]["counts"]["history_rows"] > 0
    assert len(report["explain"]) == 2 and all("Execution Time" in item["plan"] for item in report["explain"])
    worst = max((r for r in report["endpoints"] if r["name"] != "api: me (trivial)"), key=lambda r: r["ratio"])
    assert lines[-1] == f"worst ratio: {worst['ratio']:.1f} ({worst['name']})"
    slowest = max((r for r in report["endpoints"] if "uncached_ratio" in r), key=lambda r: r["uncached_ratio"])
    assert lines[-2] == f"worst uncached ratio: {slowest['uncached_ratio']:.1f} ({slowest['name']})"
