"""Personas and shared fixtures.

alice administers Acme, olivia is its compliance officer, bob its auditor, victor its
viewer; charlie administers Globex, the other tenant. Nobody from Acme may learn anything
about Globex and the other way round.

Set AIMS_REQUIRE_SERVICES=1 (CI does) to turn every skipped test into a failure, so a
missing PostgreSQL, Redis, worker or Chromium can never pass unnoticed.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest
from django.core.cache import cache
from django.core.management import call_command
from pytest_django.plugin import blocking_manager_key
from rest_framework.test import APIClient

from aims.roles import Role
from tests.aims.factories import ApiTokenFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.aims.identity.sessions import session_mark_authenticated

REQUIRE_SERVICES = os.environ.get("AIMS_REQUIRE_SERVICES") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_SERVICES and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"Skipped while AIMS_REQUIRE_SERVICES=1 (a required service is missing): {reason}"


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache (process memory in tests): cached summaries and page
    content are keyed by organisation and user ids, which a database that reuses ids after a
    rollback (SQLite) would give again."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def content_cache(settings):
    """Pages and API lists served from the reader's content cache, as in a deployment (the test
    settings turn it off, so that query counts are what the views themselves cost)."""
    settings.AIMS_CONTENT_CACHE = True


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test database starts with the shipped catalogue, as a real installation does."""
    with django_db_blocker.unblock():
        call_command("load_catalogue", verbosity=0)


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    return bool({"transactional_db", "live_server", "django_db_reset_sequences"} & set(item.fixturenames))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test empties every table when it ends, the shipped catalogue included.

    Test modules are spread over parallel workers, so the next test on the same worker may be an
    ordinary one that expects the catalogue: once every fixture is torn down (the flush is the
    last), load it again.
    """
    yield
    if nextitem is not None and _is_transactional(item):
        with item.config.stash[blocking_manager_key].unblock():
            call_command("load_catalogue", verbosity=0)


@pytest.fixture
def catalogue(transactional_db):
    """Transactional tests empty the database after each test: load the catalogue again."""
    from controls.catalogue.services import catalogue_load

    catalogue_load()


@pytest.fixture
def acme(db):
    return OrganizationFactory(name="Acme Health AI", slug="acme")


@pytest.fixture
def globex(db):
    return OrganizationFactory(name="Globex Analytics", slug="globex")


def _member(org, role, email):
    return MembershipFactory(organization=org, role=role, user=UserFactory(email=email)).user


@pytest.fixture
def alice(acme):
    return _member(acme, Role.ADMIN, "alice@acme.example")


@pytest.fixture
def olivia(acme):
    return _member(acme, Role.OFFICER, "olivia@acme.example")


@pytest.fixture
def bob(acme):
    return _member(acme, Role.AUDITOR, "bob@acme.example")


@pytest.fixture
def victor(acme):
    return _member(acme, Role.VIEWER, "victor@acme.example")


@pytest.fixture
def charlie(globex):
    return _member(globex, Role.ADMIN, "charlie@globex.example")


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        # As a real sign-in: recent enough for the steps that ask for a fresh authentication.
        session_mark_authenticated(client.session, user)
        return client

    return _login


@pytest.fixture
def api_for():
    """An API client authenticated with a fresh token of ``org`` carrying ``role``."""

    def _api(org, role=Role.OFFICER, created_by=None, **kwargs):
        if created_by is None:
            created_by = MembershipFactory(organization=org, role=Role.ADMIN).user
        token = ApiTokenFactory(organization=org, role=role, created_by=created_by, **kwargs)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.raw_key}")
        client.token = token
        return client

    return _api


@pytest.fixture
def wsgi_app(settings):
    """The portal's WSGI application, answering in this test's transaction (schemathesis calls it in-process).

    Neither end of a request may close the test's database connection, as Django's own test
    client arranges too.
    """
    from django.core import signals
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    settings.ALLOWED_HOSTS = ["*"]
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# --- A real Celery worker on Redis -------------------------------------------------------------


@pytest.fixture
def redis_broker():
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        pytest.skip("CELERY_BROKER_URL is not set to a Redis URL: no broker for a real worker")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis at {url} is not reachable: {exc}")
    return url


@pytest.fixture(scope="session", autouse=True)
def celery_pool_on_the_live_broker():
    """Create the Celery app's producer pool once, on the broker of ``CELERY_BROKER_URL``.

    Celery builds that pool on first use from the broker URL of that moment, and every
    publish touches it, even one on a connection of its own (the outbox's). Created first
    while a test has the broker pointing somewhere unreachable, it would keep that address
    for every later ``delay()`` of this process.
    """
    if os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        from aims.celery import app

        assert app.producer_pool is not None


@pytest.fixture
def broker_lock(redis_broker):
    """One live worker at a time across the parallel test processes.

    Celery takes the broker from the ``CELERY_BROKER_URL`` environment variable ahead of any
    setting, so every process shares one Redis database; holding this lock, no worker ever
    takes a task meant for another process's test database.
    """
    import redis

    client = redis.Redis.from_url(redis_broker)
    lock = client.lock("aims-tests:celery-worker", timeout=900, blocking_timeout=900)
    with lock:
        # Messages an earlier test's worker left behind (a retry it held when it stopped) would
        # be taken by this test's worker ahead of its own, for rows that no longer exist.
        queues = [
            f"{name}{suffix}" for name in ("celery", "packs") for suffix in ("", "\x06\x163", "\x06\x166", "\x06\x169")
        ]
        client.delete(*queues, "unacked", "unacked_index")
        yield redis_broker


@pytest.fixture
def worker(broker_lock, settings):
    """A Celery worker consuming from Redis in a thread of this process, on the test database.

    The Celery app reads Django's settings (namespace CELERY), so overriding them switches
    from eager mode to the real broker; pytest-django restores them afterwards.
    """
    from celery.contrib.testing.worker import start_worker

    from aims.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = broker_lock
    # The default queue and the evidence packs' own (CELERY_TASK_ROUTES), as a production
    # worker started with ``-Q celery,packs`` does.
    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=30, queues=["celery", "packs"]
    ) as running:
        yield running


# Nothing listens on port 1: connecting is refused at once, like a broker that is down.
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


class BrokerSwitch:
    """Takes the broker away from the web tier and gives it back, while the worker stays up."""

    def __init__(self, monkeypatch, live: str):
        self._monkeypatch = monkeypatch
        self.live = live

    def down(self) -> None:
        self._monkeypatch.setenv("CELERY_BROKER_URL", UNREACHABLE_BROKER)

    def up(self) -> None:
        self._monkeypatch.setenv("CELERY_BROKER_URL", self.live)


@pytest.fixture
def broker(worker, monkeypatch):
    """The real broker of ``worker``, with ``down()`` and ``up()`` for the outbox's publisher."""
    return BrokerSwitch(monkeypatch, os.environ["CELERY_BROKER_URL"])


def wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Ask a service process to stop, and kill it if it has not within ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def terminate_request_connection() -> None:
    """Have the server end this thread's database connection, as a restart or failover would.

    Another connection runs ``pg_terminate_backend`` on this one's backend; the next query on
    it fails with a lost connection.
    """
    from django.db import connection, connections

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    def terminate():
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        connections["default"].close()

    killer = threading.Thread(target=terminate)
    killer.start()
    killer.join(timeout=30)
