"""Fault injection against the real services: workers in processes of their own, a Redis to restart.

Packs write into each test's own private directory (``private_storage``), which worker
processes share through ``PRIVATE_STORAGE_DIR``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.audits.conftest import private_storage  # noqa: F401  (autouse: packs never touch the real store)
from tests.conftest import stop_process, wait_for

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class WorkerProcess:
    """``celery worker`` as its own OS process on the test database, so that it can be killed."""

    def __init__(self, broker_url: str, storage: Path, log_dir: Path, extra_env: dict[str, str]):
        database = connection.settings_dict
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "aims.settings.test",
            "DATABASE_URL": (
                f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
                f"/{database['NAME']}"
            ),
            "CELERY_BROKER_URL": broker_url,
            "PRIVATE_STORAGE_DIR": str(storage),
            **extra_env,
        }
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        log = (self.log_dir / f"worker-{len(self.started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "aims", "worker", "--pool", "solo", "--without-mingle",
             "--without-gossip", "--loglevel", "INFO", "-Q", "celery,packs",
             "--hostname", f"fault{len(self.started)}-{os.getpid()}@%h"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.started.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """``kill -9``: no shutdown, no acknowledgement, no last database update."""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for process in self.started:
            stop_process(process, timeout=30)

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace")[-3000:] for path in sorted(self.log_dir.glob("*.log")))


@pytest.fixture
def broker_url(broker_lock, settings) -> str:
    """The broker shared by the web tier (the test) and its worker processes, held for this test."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = broker_lock
    return broker_lock


@pytest.fixture
def worker_processes(broker_url, private_storage, tmp_path_factory):  # noqa: F811
    """Start worker processes with ``start()``; they all stop after the test."""
    # Short stale window and heartbeat, the same in the worker processes and in the test; a
    # failed part is retried at once rather than after a countdown (see test_parts_worker.py).
    stale = {
        "EVIDENCE_PACK_STALE_MINUTES": "0.1",
        "EVIDENCE_PACK_HEARTBEAT_SECONDS": "1",
        "EVIDENCE_PACK_PART_RETRY_SECONDS": "0",
    }
    workers = WorkerProcess(broker_url, private_storage, tmp_path_factory.mktemp("worker-logs"), stale)
    yield workers
    workers.stop_all()


class RedisServer:
    """A Redis of this test's own, on a free port, that the test may stop and start again."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        def answers() -> bool:
            try:
                return bool(redis.Redis.from_url(self.url, socket_connect_timeout=1).ping())
            except redis.exceptions.ConnectionError:
                return False

        assert wait_for(answers, timeout=30), "redis-server did not start"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def restart(self, down_for: float = 1.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()


@pytest.fixture
def own_redis(tmp_path_factory):
    import shutil

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()
