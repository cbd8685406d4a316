"""Liveness and readiness probes for containers and load balancers.

``/healthz`` answers as long as the Python process serves requests: an orchestrator that
restarts the web container on a failed liveness probe must not do so because PostgreSQL is
down, which a restart would not fix. So it touches nothing outside the process.

``/readyz`` says whether this instance can do useful work: the database answers, the Celery
broker accepts connections (otherwise evidence packs and e-mails would queue nowhere) and
the private storage directory takes files (otherwise uploads and packs fail). A failing
readiness probe takes the instance out of rotation without killing it.

Both are anonymous, read no session and set no cookie, so a probe never creates state. The
error text is short and never contains a URL's credentials: the endpoints are public.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

#: Seconds to wait for the broker: a probe must answer before the orchestrator gives up on it.
BROKER_TIMEOUT = 2.0
#: Longest error text returned per check; the full exception goes to the log.
MAX_ERROR_LENGTH = 200

OK = "ok"
SKIPPED = "skipped"

_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]*@")


def _error(exc: BaseException) -> str:
    """A short, credential-free description of ``exc`` for the public response."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = _CREDENTIALS.sub("***@", text)
    message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return f"error: {message[:MAX_ERROR_LENGTH]}"


def check_database(connection: BaseDatabaseWrapper | None = None) -> str:
    """Run ``SELECT 1`` on the portal's own connection: proves the server is up and accepts us.

    ``connection`` is for tests, which pass a connection aimed where no database answers.
    """
    connection = connection if connection is not None else connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return OK


def check_broker() -> str:
    """Connect to the Celery broker once, with a short timeout and no retries.

    With eager Celery (development, tests) tasks run in the web process and there is no
    broker to reach, so the check is skipped rather than failed.
    """
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return SKIPPED
    url = getattr(settings, "CELERY_BROKER_URL", "")
    if not url:
        raise RuntimeError("CELERY_BROKER_URL is not set")
    from kombu import Connection

    with Connection(
        url, connect_timeout=BROKER_TIMEOUT, transport_options={"socket_timeout": BROKER_TIMEOUT}
    ) as connection:
        connection.ensure_connection(max_retries=0)
    return OK


def check_storage() -> str:
    """Create and delete a file in PRIVATE_STORAGE_DIR: existence alone misses read-only mounts."""
    directory = Path(settings.PRIVATE_STORAGE_DIR)
    if not directory.is_dir():
        raise FileNotFoundError("the private storage directory does not exist")
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".readyz-"):
        pass
    return OK


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "broker": check_broker,
    "storage": check_storage,
}


def run_checks() -> tuple[bool, dict[str, str]]:
    """Run every check, each isolated from the others, so the response names all that fail."""
    results: dict[str, str] = {}
    healthy = True
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:
            logger.warning("Readiness check %s failed", name, exc_info=True)
            results[name] = _error(exc)
            healthy = False
    return healthy, results


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. No database, broker or session access."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database, broker and storage work, else 503 naming the failures."""
    healthy, results = run_checks()
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": results},
        status=200 if healthy else 503,
    )
