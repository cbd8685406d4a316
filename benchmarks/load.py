"""Load run: compliance officers, integrators, an auditor and a probe against a real gunicorn.

Not a test: run it by hand from the repository root, with PostgreSQL and (optionally) Redis::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aims CELERY_BROKER_URL=redis://127.0.0.1:6379/2 \\
        .venv/bin/python benchmarks/load.py --users 50 --duration 120 --json load.json

1. benchmarks/load_setup.py (a subprocess) migrates the database of DATABASE_URL, loads the
   catalogue and builds the organisation "Load run" with the demo records, the accounts, the
   records each officer edits and the API tokens;
2. a Celery worker on CELERY_BROKER_URL (unset: tasks run eagerly inside the web requests) and
   gunicorn on a free loopback port start, with DEBUG off and the API throttles raised far above
   what the run sends (API_THROTTLE_TOKEN / API_THROTTLE_USER), so the integrator is measured,
   not throttled;
3. Locust drives the users of benchmarks/load_users.py headless in this process for
   ``--duration`` seconds;
4. the servers stop, load_setup.py removes the organisation again, and the figures are printed
   (and written to ``--json``): throughput, errors, p50/p95 per request type, each also as a ratio
   to the probe's ``/api/v1/me/``.

Exits 1 when any request failed. See benchmarks/README.md, "Load run".
"""

from __future__ import annotations

# Locust patches the standard library for gevent when it is imported: before anything else.
import locust  # noqa: F401

# isort: split
import argparse
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import gevent  # noqa: E402
from locust.env import Environment  # noqa: E402

from benchmarks import load_users  # noqa: E402

PYTHON = sys.executable
BIN = Path(PYTHON).parent
#: Far above what the run sends: the integrator is measured, not throttled.
THROTTLE_RATE = "1000000/min"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Load run of the portal with Locust (see benchmarks/README.md).")
    parser.add_argument("--users", type=int, default=50, help="concurrent simulated users (default 50)")
    parser.add_argument("--duration", type=int, default=120, help="seconds of load, ramp-up included (default 120)")
    parser.add_argument(
        "--spawn-rate",
        type=float,
        default=2.0,
        help="users started per second (default 2: each sign-in hashes a password for about 0.3 s of CPU)",
    )
    parser.add_argument("--integrators", type=int, default=4, help="API integrators among the users (default 4)")
    parser.add_argument("--auditors", type=int, default=1, help="auditors fetching evidence packs (default 1)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker (default 2)")
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the organisation and the server logs")
    args = parser.parse_args(argv)
    args.officers = args.users - args.integrators - args.auditors - 1
    if args.officers < 1:
        parser.error("--users must leave room for at least one officer (integrators + auditors + the probe)")
    if args.duration < 10:
        parser.error("--duration must be at least 10 seconds")
    return args


def log(message: str) -> None:
    print(f"[load] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environment(workdir: Path, broker: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="benchmarks.load_settings",
        PYTHONPATH=str(REPO),
        DEBUG="False",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PRIVATE_STORAGE_DIR=str(workdir / "private"),
        STATIC_ROOT=str(workdir / "static"),
        LOG_LEVEL="WARNING",
        # As in production: connections are kept between requests.
        CONN_MAX_AGE="60",
        API_THROTTLE_TOKEN=THROTTLE_RATE,
        API_THROTTLE_USER=THROTTLE_RATE,
    )
    if broker:
        env["CELERY_BROKER_URL"] = broker
        # As in production, throttles and sign-in limits are counted in Redis, shared by every worker.
        env.setdefault("CACHE_URL", broker)
    else:
        env.pop("CELERY_BROKER_URL", None)
    return env


def broker_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.exceptions.RedisError:
        return False


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise SystemExit(f"{what} did not start within {timeout:.0f} s")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback server
            return bool(response.status == 200)
    except OSError:
        return False


def stop(process: subprocess.Popen | None, name: str) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        log(f"{name} did not stop within 30 s; killing it")
        process.kill()
        process.wait()


class Recorder:
    """Every request's time and outcome, by request type (Locust's own stats round the times)."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.error_messages: Counter[str] = Counter()
        self.task_exceptions: Counter[str] = Counter()

    def __call__(self, request_type, name, response_time, response_length, exception=None, **kwargs) -> None:
        self.times[name].append(response_time)
        if exception is not None:
            self.errors[name] += 1
            self.error_messages[f"{name}: {str(exception)[:160]}"] += 1


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[round(fraction * 100) - 1]


def server_times(access_log: Path) -> dict[str, list[float]]:
    """Milliseconds gunicorn's workers spent per request, by request type, from the access log."""
    times: dict[str, list[float]] = defaultdict(list)
    if not access_log.exists():
        return times
    for line in access_log.read_text().splitlines():
        name, _, microseconds = line.rsplit("\t", 2) if line.count("\t") >= 2 else ("", "", "")
        if name and name != "-" and microseconds.isdigit():
            times[name].append(int(microseconds) / 1000)
    return times


def figures(recorder: Recorder, elapsed: float, served: dict[str, list[float]]) -> dict[str, Any]:
    rows = {}
    for name, times in sorted(recorder.times.items()):
        rows[name] = {
            "requests": len(times),
            "errors": recorder.errors[name],
            "per_s": round(len(times) / elapsed, 2),
            "p50_ms": round(percentile(times, 0.50), 1),
            "p95_ms": round(percentile(times, 0.95), 1),
            "max_ms": round(max(times), 1),
            # The server's part: from a worker taking the request to its answer (no wait for a free worker).
            # Its count can be higher: requests still in flight when the run stopped are logged too.
            "server_requests": len(served.get(name, [])),
            "server_p50_ms": round(percentile(served[name], 0.50), 1) if served.get(name) else None,
            "server_p95_ms": round(percentile(served[name], 0.95), 1) if served.get(name) else None,
        }
    baseline = rows.get(load_users.BASELINE)
    for row in rows.values():
        row["p50_ratio"] = round(row["p50_ms"] / baseline["p50_ms"], 1) if baseline else None
        row["p95_ratio"] = round(row["p95_ms"] / baseline["p95_ms"], 1) if baseline else None
    total = sum(row["requests"] for row in rows.values())
    return {
        "elapsed_s": round(elapsed, 1),
        "requests": total,
        "requests_per_s": round(total / elapsed, 1),
        "errors": sum(recorder.errors.values()) + sum(recorder.task_exceptions.values()),
        "task_exceptions": dict(recorder.task_exceptions),
        "stale_refusals": len(load_users.stale_refusals),
        "error_messages": dict(recorder.error_messages.most_common(20)),
        "packs_completed": len(load_users.pack_turnaround_s),
        "pack_turnaround_s": load_users.pack_turnaround_s,
        "by_type": rows,
    }


def print_table(result: dict[str, Any]) -> None:
    header = (
        f"{'request type':<34} {'count':>6} {'err':>4} {'/s':>6} {'p50 ms':>8} {'p95 ms':>8} {'p50 x':>6} "
        f"{'p95 x':>6} {'srv p50':>8} {'srv p95':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, row in result["by_type"].items():
        print(
            f"{name:<34} {row['requests']:>6} {row['errors']:>4} {row['per_s']:>6.2f} {row['p50_ms']:>8.1f} "
            f"{row['p95_ms']:>8.1f} {row['p50_ratio'] or 0:>6.1f} {row['p95_ratio'] or 0:>6.1f} "
            f"{row['server_p50_ms'] or 0:>8.1f} {row['server_p95_ms'] or 0:>8.1f}"
        )
    print("-" * len(header))
    print(
        f"{result['requests']} requests in {result['elapsed_s']} s: {result['requests_per_s']} requests/s, "
        f"{result['errors']} errors ({result['stale_refusals']} stale-version refusals), "
        f"{result['packs_completed']} evidence packs (turnaround s: {result['pack_turnaround_s']})"
    )
    for message, count in [*result["error_messages"].items(), *result["task_exceptions"].items()]:
        print(f"  {count} x {message}")


def drive(args: argparse.Namespace, host: str, recorder: Recorder) -> float:
    """Run the Locust users for ``args.duration`` seconds; return the elapsed seconds.

    An exception inside a user's task (not a failed request: a fault of the script or an answer it
    could not read) is counted in ``recorder.task_exceptions``.
    """
    load_users.Integrator.fixed_count = args.integrators
    load_users.Auditor.fixed_count = args.auditors
    environment = Environment(
        user_classes=[load_users.ComplianceOfficer, load_users.Integrator, load_users.Auditor, load_users.Probe],
        host=host,
    )
    environment.events.request.add_listener(recorder)
    runner = environment.create_local_runner()
    started = time.monotonic()
    runner.start(args.users, spawn_rate=args.spawn_rate)
    gevent.spawn_later(args.duration, runner.quit)
    assert runner.greenlet is not None  # noqa: S101 - set by start()
    runner.greenlet.join()
    for row in runner.exceptions.values():
        recorder.task_exceptions[row["msg"][:160]] += row["count"]
    return time.monotonic() - started


def start_worker(env: dict[str, str], workdir: Path) -> subprocess.Popen:
    """A Celery worker of the project on the broker, one task at a time (packs are CPU-bound)."""
    worker_log = workdir / "worker.log"
    worker = subprocess.Popen(  # noqa: S603 - the project's Celery
        [
            str(BIN / "celery"),
            "-A",
            "aims",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "-n",
            "load@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env=env,
        cwd=REPO,
        stdout=worker_log.open("w"),
        stderr=subprocess.STDOUT,
    )
    wait_until(lambda: "ready." in worker_log.read_text(), 60, "the Celery worker")
    return worker


def start_gunicorn(args: argparse.Namespace, env: dict[str, str], workdir: Path, port: int) -> subprocess.Popen:
    gunicorn = subprocess.Popen(  # noqa: S603 - the project's gunicorn
        [
            str(BIN / "gunicorn"),
            "aims.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={args.workers}",
            f"--threads={args.threads}",
            # An eager evidence pack renders inside its request.
            "--timeout=300",
            # Longer than any user's pause, so the server never closes a connection a user is about to reuse.
            "--keep-alive=75",
            "--log-level=warning",
            f"--access-logfile={workdir / 'access.log'}",
            # The request type (a header every simulated user sends), the status and the microseconds
            # the worker spent on the request: the server's share of the time the user waited.
            f"--access-logformat=%({{{load_users.TYPE_HEADER.lower()}}}i)s\t%(s)s\t%(D)s",
        ],
        env=env,
        cwd=REPO,
        stdout=(workdir / "gunicorn.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    wait_until(lambda: answers(f"http://127.0.0.1:{port}/healthz"), 60, "gunicorn")
    return gunicorn


def measure(args: argparse.Namespace, env: dict[str, str], workdir: Path, broker: str) -> dict[str, Any]:
    """Start the servers, drive the users, stop the servers; return the figures."""
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    gunicorn = worker = None
    try:
        if broker:
            worker = start_worker(env, workdir)
            log(f"Celery worker ready on {broker}")
        else:
            log("no CELERY_BROKER_URL: evidence packs render eagerly inside the web requests")
        gunicorn = start_gunicorn(args, env, workdir, port)
        log(f"gunicorn ready at {host} ({args.workers} workers x {args.threads} threads)")
        log(f"{args.users} users for {args.duration} s")
        load_before = os.getloadavg()
        recorder = Recorder()
        elapsed = drive(args, host, recorder)
        load_after = os.getloadavg()
    finally:
        stop(gunicorn, "gunicorn")
        stop(worker, "the Celery worker")
    result = figures(recorder, elapsed, server_times(workdir / "access.log"))
    result["load_average_before"] = [round(x, 2) for x in load_before]
    result["load_average_after"] = [round(x, 2) for x in load_after]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_s"] = {
        "servers": round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 1),
        "load_generator": round(own.ru_utime + own.ru_stime, 1),
    }
    return result


def run(args: argparse.Namespace) -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (postgres://...): the load run prepares it.")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if broker and not broker_reachable(broker):
        raise SystemExit(f"CELERY_BROKER_URL is set but Redis does not answer at {broker}")
    workdir = Path(tempfile.mkdtemp(prefix="aims-load-"))
    for folder in ("private", "static"):
        (workdir / folder).mkdir()
    env = server_environment(workdir, broker)
    plan_file = workdir / "plan.json"
    setup = [PYTHON, str(REPO / "benchmarks" / "load_setup.py")]
    people = f"{args.officers} officers, {args.integrators} integrators, {args.auditors} auditors"
    prepared = False
    try:
        log(f"preparing the database ({people})")
        started = time.monotonic()
        subprocess.run(  # noqa: S603 - our own script
            [
                *setup,
                "prepare",
                f"--plan={plan_file}",
                f"--officers={args.officers}",
                f"--integrators={args.integrators}",
                f"--auditors={args.auditors}",
            ],
            env=env,
            cwd=REPO,
            check=True,
        )
        prepared = True
        prepare_s = time.monotonic() - started
        load_users.PLAN.update(json.loads(plan_file.read_text()))
        result = measure(args, env, workdir, broker)
        result["prepare_s"] = round(prepare_s, 1)
    finally:
        if prepared and not args.keep:
            subprocess.run([*setup, "cleanup"], env=env, cwd=REPO, check=False)  # noqa: S603 - our own script
        if args.keep:
            log(f"kept the organisation and the logs in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    result["options"] = {
        key: getattr(args, key)
        for key in ("users", "duration", "spawn_rate", "officers", "integrators", "auditors", "workers", "threads")
    }
    result["celery"] = "worker on Redis" if broker else "eager"
    result["throttle_rates"] = {"token": THROTTLE_RATE, "user": THROTTLE_RATE}
    result["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
        log(f"figures written to {args.json}")
    return 1 if result["errors"] else 0


def main(argv: list[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
