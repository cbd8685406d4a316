"""Times every main screen and API list of the portal on one organisation at scale.

Not a test: run it by hand from the repository root, on PostgreSQL, e.g.::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aims_bench \\
        .venv/bin/python benchmarks/screens.py --systems 10000 --risks 100000 --json screens.json

What one run does (see benchmarks/README.md for the figures):

1. **A seeded template.** The organisation "Scale run" is seeded by benchmarks/scale_seed.py
   into a template database on the server of ``DATABASE_URL``, named after the sizes and a
   fingerprint of the migrations and the seeder (benchmarks/scale_db.py). A template that
   exists and is complete is reused: a re-run does not seed again (``--reseed`` forces it).
2. **A copy per run.** The run measures ``<DATABASE_URL's database>_screens``, a copy of the
   template, dropped afterwards unless ``--keep``.
3. **The timings**, in a subprocess with ``DEBUG=False``, through Django's test client in that
   process (no HTTP server: no socket or worker scheduling noise on a shared machine, so the
   figures are the portal's own work: middleware, views, queries, templates, serializers). Pages
   are requested as the organisation's admin (a signed-in session), the API with an admin API
   token. A warm-up pass counts every endpoint's queries and response size and keeps each
   query's SQL and time; then ``--rounds`` rounds request every endpoint, each right after the
   trivial endpoint ``/api/v1/me/``, and the medians are compared. An endpoint gets at most
   ``--budget`` seconds of rounds (at least one; an endpoint whose warm-up alone took longer
   is reported with that one figure), so a 10,000-system run stays within minutes. The reads
   are timed first, then the write path (a write makes every reader's cached content stale),
   then the reads again with the content cache missed ("uncached": the organisation's content
   generation moved on before each request), which is what the first reader after a change waits.

It prints a table (endpoint, status, queries and their database time in the warm-up pass,
median ms, ratio to ``/api/v1/me/``, the same two uncached, response size, number of timed runs),
writes every figure to ``--json FILE``, with ``--explain N`` prints ``EXPLAIN (ANALYZE, BUFFERS)`` of the N slowest
queries of the warm-up pass, and ends with the lines ``worst uncached ratio: X (endpoint)`` and
``worst ratio: X (endpoint)``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import scale_db  # noqa: E402 - the path above makes the package importable as a script

TRIVIAL = "api: me (trivial)"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time the portal's screens and API lists at scale.")
    parser.add_argument("--systems", type=int, default=1000, help="AI systems of the organisation")
    parser.add_argument("--risks", type=int, default=10000, help="risks (one treatment each)")
    parser.add_argument(
        "--measurements", type=int, default=1_000_000, help="raw measurements of the charted metric (two years)"
    )
    parser.add_argument("--history", type=int, default=5, help="history rows per seeded record")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (the median is reported)")
    parser.add_argument(
        "--budget",
        type=float,
        default=15.0,
        metavar="S",
        help="seconds of timed rounds per endpoint at most: a slow endpoint gets fewer rounds (at least one)",
    )
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--explain", type=int, default=0, metavar="N", help="EXPLAIN the N slowest queries")
    parser.add_argument("--keep", action="store_true", help="keep the run's copy of the template")
    parser.add_argument("--reseed", action="store_true", help="drop the template of these sizes and seed again")
    parser.add_argument(
        "--template-prefix", default=scale_db.PREFIX, help="name prefix of the template databases (default aims_scale_)"
    )
    parser.add_argument("--child", choices=["seed", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(f"[screens {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- The parent: databases, subprocesses, the table ---------------------------------------------


def child_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CELERY_BROKER_URL", None)  # Celery eager: no worker, no broker
    env.pop("CACHE_URL", None)  # process memory, as on a laptop: cached summaries stay in the process
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="aims.settings.base",
        DEBUG="False",
        LOG_LEVEL="WARNING",
        # The seed's notifications stay in memory: the run's output is the table.
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        # Far above what a run sends: the figures measure the portal, not the throttle.
        API_THROTTLE_TOKEN="1000000/min",  # noqa: S106 - a rate, not a secret
        API_THROTTLE_USER="1000000/min",
        PRIVATE_STORAGE_DIR=tempfile.mkdtemp(prefix="aims-screens-"),
        STATIC_ROOT=tempfile.mkdtemp(prefix="aims-screens-static-"),
    )
    return env


def run_child(mode: str, url: str, args: argparse.Namespace, report: Path, out: Path | None = None) -> None:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        mode,
        "--systems",
        str(args.systems),
        "--risks",
        str(args.risks),
        "--measurements",
        str(args.measurements),
        "--history",
        str(args.history),
        "--rounds",
        str(args.rounds),
        "--explain",
        str(args.explain),
        "--budget",
        str(args.budget),
        "--report",
        str(report),
    ]
    if out is not None:
        command += ["--out", str(out)]
    subprocess.run(command, env=child_env(url), cwd=REPO, check=True)  # noqa: S603 - our own script


def ensure_template(server: scale_db.Server, args: argparse.Namespace, work: Path) -> tuple[str, dict, bool]:
    """The template of these sizes, seeded if needed; returns its name, its report and whether it was seeded."""
    name = scale_db.template_name(args.systems, args.risks, args.measurements, args.template_prefix)
    if args.reseed:
        server.drop(name)
    report = server.report(name)
    if report is not None:
        log(f"reusing the template {name} (seeded {report.get('seeded_at', '?')})")
        return name, report, False
    for old in server.drop_older_templates(name):
        log(f"dropped {old}, a template of older code")
    server.drop(name)  # an incomplete one, from an interrupted seeding
    log(f"seeding the template {name}")
    started = time.perf_counter()
    server.create(name)
    report_file = work / "seed.json"
    run_child("seed", scale_db.database_url(server.url, name), args, report_file)
    report = json.loads(report_file.read_text())
    report["seed_wall_s"] = round(time.perf_counter() - started, 1)
    report["seeded_at"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    server.mark_complete(name, report)
    log(f"seeded in {report['seed_wall_s']} s")
    return name, report, True


def format_table(results: dict[str, Any]) -> str:
    rows = [("endpoint", "status", "queries", "db ms", "median ms", "x me", "uncached ms", "x me", "KB", "runs")]
    for row in results["endpoints"]:
        rows.append(
            (
                row["name"],
                str(row["status"]),
                str(row["queries"]),
                f"{row['query_ms']:.0f}",
                f"{row['median_ms']:.1f}",
                f"{row['ratio']:.1f}",
                f"{row['uncached_median_ms']:.1f}" if "uncached_median_ms" in row else "",
                f"{row['uncached_ratio']:.1f}" if "uncached_ratio" in row else "",
                f"{row['bytes'] / 1000:.1f}",
                str(len(row["times_ms"])),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def run_parent(args: argparse.Namespace) -> int:
    url = os.environ.get("DATABASE_URL", "")
    server = scale_db.Server(url)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="aims-screens-"))
    run_db = f"{scale_db.database_of(url)}_screens"
    try:
        template, report, seeded = ensure_template(server, args, work)
        server.drop(run_db)
        copy_started = time.perf_counter()
        server.create(run_db, template=template)
        copy_s = round(time.perf_counter() - copy_started, 1)
        log(f"copied the template to {run_db} in {copy_s} s ({server.size_mb(run_db)} MB)")
        report_file, out = work / "report.json", work / "results.json"
        report_file.write_text(json.dumps(report))
        run_child("measure", scale_db.database_url(url, run_db), args, report_file, out)
        results = json.loads(out.read_text())
    finally:
        if not args.keep:
            server.drop(run_db)
        server.close()
    results.update(
        template=template,
        seeded_this_run=seeded,
        seed=report,
        copy_s=copy_s,
        total_s=round(time.perf_counter() - started, 1),
        options={k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k not in {"child"}},
        machine={"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        date=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    )
    print(format_table(results))
    for item in results.get("explain", []):
        print(f"\n-- {item['ms']:.1f} ms, {item['endpoint']}\n{item['sql']}\n{item['plan']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
        log(f"wrote {args.json}")
    log(f"total {results['total_s']} s (seeding {'done now' if seeded else 'reused'}, copy {copy_s} s)")
    uncached = [r for r in results["endpoints"] if "uncached_ratio" in r]
    if uncached:
        slowest = max(uncached, key=lambda r: r["uncached_ratio"])
        print(f"worst uncached ratio: {slowest['uncached_ratio']:.1f} ({slowest['name']})")
    worst = max((r for r in results["endpoints"] if r["name"] != TRIVIAL), key=lambda r: r["ratio"])
    print(f"worst ratio: {worst['ratio']:.1f} ({worst['name']})")
    return 0 if all(r["ok"] for r in results["endpoints"]) else 1


# --- The children: seeding, measuring ------------------------------------------------------------


def django_setup() -> None:
    import django

    django.setup()


def child_seed(args: argparse.Namespace) -> int:
    django_setup()
    from django.core.management import call_command

    from benchmarks.scale_seed import seed

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_catalogue", verbosity=0)
    migrate_s = round(time.perf_counter() - started, 1)
    log(f"  migrated and loaded the catalogue in {migrate_s} s")
    report = seed(
        systems=args.systems,
        risks=args.risks,
        measurements=args.measurements,
        history_per_record=args.history,
        log=log,
    )
    report["seed_timings"]["migrate and catalogue"] = migrate_s
    args.report.write_text(json.dumps(report))
    return 0


def endpoints(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every endpoint of the run: name, client ("page" or "api"), method, path and body."""
    from registry.models import AISystem, EUAIActTier
    from risk.models import Level, Risk
    from risk.pagination import cursor_after

    org_id = report["organization_id"]
    systems = AISystem.objects.filter(organization_id=org_id).count()
    risks = Risk.objects.filter(organization_id=org_id).count()

    def deep(count: int, per_page: int) -> int:
        return max(1, int(count / per_page * 0.9))

    # The register pages by keyset: its links carry a cursor, which costs the same at any depth;
    # numbered pages (?page=N, kept for old links) are measured too.
    by_reference = Risk.objects.filter(organization_id=org_id).order_by("ref_code", "id")
    deep_cursor = cursor_after(by_reference, by_reference[int(risks * 0.9)]) if risks > 1 else ""

    chart = f"/inventory/systems/{report['chart_system_id']}/monitoring/"
    pages = [
        ("inventory", "/inventory/"),
        ("inventory ?q=", "/inventory/?q=fraud"),
        ("inventory filter tier", f"/inventory/?tier={EUAIActTier.HIGH.value}"),
        ("inventory ordering", "/inventory/?ordering=-updated_at"),
        ("inventory deep page", f"/inventory/?page={deep(systems, 25)}"),
        ("risks", "/risks/"),
        ("risks filter level", f"/risks/?level={Level.HIGH.value}"),
        ("risks ordering", "/risks/?ordering=-next_review_date"),
        ("risks ?q=", "/risks/?q=drift"),
        ("risks deep page", f"/risks/?cursor={deep_cursor}"),
        ("risks deep page ?page=N", f"/risks/?page={deep(risks, 25)}"),
        ("SoA", "/controls/soa/"),
        ("readiness", "/controls/readiness/"),
        ("dashboard", "/"),
        ("activity", "/organisation/activity/"),
        ("impact assessments", "/impact-assessments/"),
        ("evidence", "/evidence/"),
        ("audits", "/audits/"),
        ("corrective actions", "/audits/corrective-actions/"),
        ("monitoring chart 1 day", f"{chart}?period=1d"),
        ("monitoring chart 2 years", f"{chart}?period=2y"),
        ("setup", "/setup/"),
        ("my work", "/my-work/"),
        ("findings", "/audits/findings/"),
        ("systems to assess", "/impact-assessments/systems-to-assess/"),
        ("search", "/search/?q=fraud"),
        ("system risks tab", f"/risks/systems/{report['chart_system_id']}/"),
        ("system controls tab", f"/controls/systems/{report['chart_system_id']}/"),
        ("system findings tab", f"/audits/systems/{report['chart_system_id']}/findings/"),
    ]
    apis = [
        ("systems", "/api/v1/systems/"),
        ("systems ?q=", "/api/v1/systems/?q=fraud"),
        ("systems filter tier", f"/api/v1/systems/?tier={EUAIActTier.HIGH.value}"),
        ("systems ordering", "/api/v1/systems/?ordering=-updated_at"),
        ("systems deep page", f"/api/v1/systems/?page={deep(systems, 50)}"),
        ("risks", "/api/v1/risks/"),
        ("risks filter level", f"/api/v1/risks/?level={Level.HIGH.value}"),
        ("risks ordering", "/api/v1/risks/?ordering=-next_review_date"),
        ("risks ?q=", "/api/v1/risks/?q=drift"),
        ("risks deep page", f"/api/v1/risks/?cursor={deep_cursor}"),
        ("risks deep page ?page=N", f"/api/v1/risks/?page={deep(risks, 50)}"),
        ("SoA", "/api/v1/soa/"),
    ]
    found = [{"name": TRIVIAL, "client": "api", "method": "get", "path": "/api/v1/me/"}]
    found += [{"name": f"page: {name}", "client": "page", "method": "get", "path": path} for name, path in pages]
    found += [{"name": f"api: {name}", "client": "api", "method": "get", "path": path} for name, path in apis]
    found.append(
        {
            "name": "api: save a new risk (POST)",
            "client": "api",
            "method": "post",
            "path": "/api/v1/risks/",
            "body": {
                "title": "Benchmark risk: scores drift after a data source changes",
                "description": "A new upstream source shifts the input distribution.",
                "system": report["chart_system_id"],
                "inherent_likelihood": 3,
                "inherent_impact": 4,
            },
        }
    )
    return found


def clients(report: dict[str, Any]) -> dict[str, Any]:
    """A signed-in admin's browser and a client with an admin API token."""
    from allauth.account.internal.flows.login import record_authentication
    from django.http import HttpRequest
    from django.test import Client

    from aims.models import Organization, User
    from aims.roles import Role
    from aims.services import api_token_create
    from aims.tenancy import SESSION_KEY
    from benchmarks.scale_seed import EMAIL_DOMAIN

    admin = User.objects.get(email=f"admin@{EMAIL_DOMAIN}")
    browser = Client()
    browser.force_login(admin)
    session = browser.session
    # What a real sign-in leaves in the session (force_login does not): the password was typed now.
    request = HttpRequest()
    request.session = session
    record_authentication(request, admin, method="password", reauthenticated=True)
    session[SESSION_KEY] = report["organization_id"]
    session.save()
    token, raw_key = api_token_create(
        organization=Organization.objects.get(pk=report["organization_id"]),
        name="Screens benchmark",
        role=Role.ADMIN,
        expires_in_days=7,
        acting_user=admin,
    )
    api = Client(headers={"authorization": f"Bearer {raw_key}"})
    return {"page": browser, "api": api}


def request(client, endpoint: dict[str, Any]):
    if endpoint["method"] == "post":
        return client.post(endpoint["path"], endpoint["body"], content_type="application/json")
    return client.get(endpoint["path"])


def body_size(response) -> int:
    if getattr(response, "streaming", False):
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


def timed(client, endpoint: dict[str, Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    response = request(client, endpoint)
    size = body_size(response)  # a streamed body is produced while it is read: part of the time
    return (time.perf_counter() - started) * 1000, (response, size)


def explain(slowest: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from django.db import connection, transaction

    plans = []
    for item in slowest:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + item["sql"])
                plan = "\n".join(row[0] for row in cursor.fetchall())
                transaction.set_rollback(True)
        except Exception as exc:  # a query that cannot be replayed as text; say so, go on
            plan = f"(not explained: {exc})"
        plans.append({**item, "plan": plan})
    return plans


def child_measure(args: argparse.Namespace) -> int:
    django_setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from aims.summaries import CONTENT, summaries_changed

    report = json.loads(args.report.read_text())
    points = endpoints(report)
    by_client = clients(report)
    rows: dict[str, dict[str, Any]] = {}
    captured: list[dict[str, Any]] = []
    log(f"warm-up pass over {len(points)} endpoints")
    for endpoint in points:
        with CaptureQueriesContext(connection) as queries:
            ms, (response, size) = timed(by_client[endpoint["client"]], endpoint)
        expected = 201 if endpoint["method"] == "post" else 200
        rows[endpoint["name"]] = {
            "name": endpoint["name"],
            "path": endpoint["path"],
            "method": endpoint["method"].upper(),
            "status": response.status_code,
            "ok": response.status_code == expected,
            "queries": len(queries),
            "query_ms": round(sum(float(q["time"]) for q in queries.captured_queries) * 1000, 1),
            "bytes": size,
            "warmup_ms": round(ms, 1),
            "times_ms": [],
        }
        if response.status_code != expected:
            log(f"  {endpoint['name']}: HTTP {response.status_code} {response.content[:300]!r}")
        captured += [
            {"endpoint": endpoint["name"], "ms": float(q["time"]) * 1000, "sql": q["sql"]}
            for q in queries.captured_queries
            if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
        ]
    trivial = points[0]
    # A slow endpoint gets the rounds that fit in its budget; one slower than the whole budget is
    # timed once more only if its warm-up was not already over it (then the warm-up is the figure).
    for endpoint in points[1:]:
        row = rows[endpoint["name"]]
        row["rounds"] = max(1, min(args.rounds, int(args.budget * 1000 / max(row["warmup_ms"], 1))))
        if row["warmup_ms"] > args.budget * 1000:
            row["rounds"], row["times_ms"] = 0, [row["warmup_ms"]]
    reads = [endpoint for endpoint in points[1:] if endpoint["method"] == "get"]
    writes = [endpoint for endpoint in points[1:] if endpoint["method"] != "get"]

    def rounds(endpoints: list[dict[str, Any]], figure: str, before: Any = None) -> None:
        for number in range(1, args.rounds + 1):
            log(f"{figure}: round {number} of {args.rounds}")
            for endpoint in endpoints:
                if rows[endpoint["name"]]["rounds"] < number:
                    continue
                if before is not None:
                    before()
                ms, _ = timed(by_client["api"], trivial)
                rows[TRIVIAL][figure].append(round(ms, 2))
                ms, _ = timed(by_client[endpoint["client"]], endpoint)
                rows[endpoint["name"]][figure].append(round(ms, 2))

    for row in rows.values():
        row["uncached_times_ms"] = []
    # Reads first, then the writes: each write records a change, after which every reader's
    # cached content (aims.content_cache) is stale. The reads are then timed once more with the
    # organisation's content generation moved on before each request: what the first reader
    # after a change waits (the cached summaries of the registers stay as they were).
    rounds(reads, "times_ms")
    rounds(writes, "times_ms")
    rounds(reads, "uncached_times_ms", before=lambda: summaries_changed(report["organization_id"], CONTENT))
    baseline = statistics.median(rows[TRIVIAL]["times_ms"]) if rows[TRIVIAL]["times_ms"] else 1.0
    for row in rows.values():
        times = row["times_ms"] or [row["warmup_ms"]]
        row["median_ms"] = round(statistics.median(times), 2)
        row["ratio"] = round(row["median_ms"] / baseline, 2)
        uncached = row.pop("uncached_times_ms")
        if uncached and row["name"] != TRIVIAL:
            row["uncached_times_ms"] = uncached
            row["uncached_median_ms"] = round(statistics.median(uncached), 2)
            row["uncached_ratio"] = round(row["uncached_median_ms"] / baseline, 2)
    slowest = sorted(captured, key=lambda q: q["ms"], reverse=True)[: args.explain]
    results = {"endpoints": list(rows.values()), "trivial_median_ms": baseline, "explain": explain(slowest)}
    args.out.write_text(json.dumps(results, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child == "seed":
        return child_seed(args)
    if args.child == "measure":
        return child_measure(args)
    return run_parent(args)


if __name__ == "__main__":
    sys.exit(main())
