"""The evidence pack benchmark runs end to end at a tiny size, and reports what it measured.

benchmarks/evidence_pack.py itself is run by hand at 1,000 or 10,000 systems, on real Celery
workers. Here it runs as a subprocess at four systems, in one process without workers (its
``--workers 0``) on its own SQLite file: it seeds the organisation with risks, the SoA, evidence
and assessments, builds a whole-AIMS pack through the portal's request service, verifies it and
prints the table and the last line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "evidence_pack.py"
sys.path.insert(0, str(REPO))

from benchmarks.evidence_pack import format_table, summary_line  # noqa: E402


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(  # this interpreter, the script, fixed arguments
        [sys.executable, str(SCRIPT), *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_last_line_compares_two_workers_with_one_at_the_largest_size():
    results = [
        {"systems": 10, "risks": 100, "runs": [{"workers": 1, "wall_s": 4.0, "peak_rss_process_mb": 900.0}]},
        {
            "systems": 1000,
            "risks": 10000,
            "runs": [
                {"workers": 1, "wall_s": 60.0, "peak_rss_process_mb": 371.2},
                {"workers": 2, "wall_s": 33.0, "peak_rss_process_mb": 466.0},
            ],
        },
    ]
    assert summary_line(results) == "peak RSS per process: 466 MB; wall with 2 workers / 1 worker: 0.55"
    one = [{"systems": 5, "risks": 50, "runs": [{"workers": 2, "wall_s": 12.5, "peak_rss_process_mb": 300.0}]}]
    assert summary_line(one) == "peak RSS per process: 300 MB; wall with 2 workers 12.5 s"
    assert summary_line([{"systems": 5, "runs": []}]).endswith("no pack was built")


def test_a_failed_run_is_a_row_of_the_table_saying_why():
    table = format_table([{"systems": 7, "risks": 70, "runs": [{"workers": 2, "error": "pack failed: no space"}]}])
    assert "pack failed: no space" in table.splitlines()[-1]


def test_workers_need_a_shared_database_and_a_broker():
    result = _run("--sizes", "3", "--workers", "1")
    assert result.returncode == 2
    assert "--workers N needs --use-env-db" in result.stderr


def test_the_benchmark_builds_and_verifies_a_pack_of_a_small_organisation(tmp_path):
    out = tmp_path / "pack.json"
    result = _run("--sizes", "4", "--risks-per-system", "3", "--workers", "0", "--json", str(out))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("peak RSS per process: ") and "wall with 0 workers" in last
    report = json.loads(out.read_text())
    (size,) = report["results"]
    assert size["systems"] == 4 and size["risks"] == 12
    counts = size["counts"]
    assert counts["aisystem"] == 4 and counts["risk"] == 12 and counts["treatmentaction"] == 12
    assert counts["impactassessment"] >= 1 and counts["evidence"] >= 1
    (run,) = size["runs"]
    assert run["verified"] == "yes" and run["detail"] == "all" and run["pages"] > 5
    keys = [part["key"] for part in run["part_timings"]]
    assert keys[0] == "front" and "data:risks" in keys and "section:evidence" in keys
    assert all(part["status"] == "succeeded" and part["seconds"] is not None for part in run["part_timings"])
    assert run["peak_rss_process_mb"] > 50 and run["records"] > 4
