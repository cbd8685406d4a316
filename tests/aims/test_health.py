"""Health probes: /healthz needs nothing, /readyz names what is broken, neither redirects nor sets cookies.

Failures are real: a database alias and a broker URL aimed at a closed TCP port on
127.0.0.1, a storage directory that does not exist.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
from django.db import connections
from django.db.utils import load_backend
from django.urls import reverse

from aims import health
from tests.aims.test_settings import PRODUCTION, REPO, manage


@pytest.fixture
def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound once, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def storage_dir(settings, tmp_path):
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"
    settings.PRIVATE_STORAGE_DIR.mkdir()
    return settings.PRIVATE_STORAGE_DIR


def assert_no_cookies(response) -> None:
    assert not response.cookies
    assert "Set-Cookie" not in response.headers


def test_healthz_answers_without_the_database(client):
    # No django_db mark: any database access would raise here.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    assert_no_cookies(response)
    assert reverse("healthz") == "/healthz"


@pytest.mark.django_db
def test_healthz_makes_no_query_for_a_signed_in_user_either(client, alice, django_assert_num_queries):
    client.force_login(alice)
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert_no_cookies(response)


@pytest.mark.django_db
def test_readyz_is_ok_when_everything_works(client, storage_dir):
    response = client.get(reverse("readyz"))
    assert response.status_code == 200, response.content
    # Celery runs eagerly in the tests: there is no broker to reach.
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "skipped", "storage": "ok"}}
    assert_no_cookies(response)
    assert not any(storage_dir.iterdir()), "the storage probe left its file behind"


@pytest.mark.django_db
def test_readyz_reaches_the_real_broker(client, storage_dir, settings, redis_broker):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = redis_broker
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok", "storage": "ok"}}


@pytest.fixture
def unreachable_database(monkeypatch, closed_port, tmp_path):
    """A connection configured like the default one, but aimed where no database answers."""
    config = {**connections["default"].settings_dict}
    config["OPTIONS"] = dict(config["OPTIONS"])
    if config["ENGINE"] == "django.db.backends.postgresql":
        config.update(HOST="127.0.0.1", PORT=str(closed_port))
        config["OPTIONS"]["connect_timeout"] = 2
    else:
        config["NAME"] = str(tmp_path / "no-such-directory" / "db.sqlite3")
    connection = load_backend(config["ENGINE"]).DatabaseWrapper(config, alias="readyz_unreachable")
    monkeypatch.setitem(health.CHECKS, "database", partial(health.check_database, connection))
    yield connection
    connection.close()


@pytest.mark.django_db
def test_readyz_fails_and_names_the_database_when_it_is_unreachable(client, storage_dir, unreachable_database):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("error: OperationalError")
    assert body["checks"]["broker"] == "skipped" and body["checks"]["storage"] == "ok"
    assert len(body["checks"]["database"]) <= health.MAX_ERROR_LENGTH + len("error: ")
    assert_no_cookies(response)


@pytest.mark.django_db
def test_readyz_fails_and_names_the_broker_without_leaking_its_password(client, storage_dir, settings, closed_port):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = f"redis://:broker-secret@127.0.0.1:{closed_port}/3"
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok" and body["checks"]["storage"] == "ok"
    assert body["checks"]["broker"].startswith("error:")
    assert "broker-secret" not in response.content.decode()


@pytest.mark.django_db
def test_readyz_fails_when_no_broker_is_configured(client, storage_dir, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = ""
    body = client.get("/readyz").json()
    assert body["checks"]["broker"] == "error: RuntimeError: CELERY_BROKER_URL is not set"


@pytest.mark.django_db
def test_readyz_fails_and_names_the_storage_when_its_directory_is_missing_or_a_file(client, settings, tmp_path):
    settings.PRIVATE_STORAGE_DIR = tmp_path / "missing"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "broker": "skipped",
        "storage": "error: FileNotFoundError: the private storage directory does not exist",
    }
    settings.PRIVATE_STORAGE_DIR = tmp_path / "a-file"
    settings.PRIVATE_STORAGE_DIR.write_text("not a directory")
    assert client.get("/readyz").status_code == 503


def test_errors_never_carry_the_credentials_of_a_url():
    exc = ConnectionError("cannot reach redis://user:hunter2@redis:6379/0\nsecond line")
    assert health._error(exc) == "error: ConnectionError: cannot reach redis://***@redis:6379/0"


def test_probes_answer_only_get_and_head(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_production_answers_probes_over_plain_http_and_redirects_the_rest():
    """With production settings, /healthz over http is served, any other page goes to https."""
    script = (
        "from django.test import Client; c = Client(HTTP_HOST='aims.example.com'); "
        "print(c.get('/healthz').status_code, c.get('/').status_code, c.get('/').get('Location'))"
    )
    result = manage("shell", "-c", script, SECRET_KEY=secrets.token_urlsafe(64), **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["200", "301", "https://aims.example.com/"]


def test_the_container_probe_script_reports_health_by_its_exit_status(live_server, closed_port):
    port = live_server.url.rsplit(":", 1)[1]
    script = REPO / "docker" / "healthcheck.py"
    env = {**os.environ, "ALLOWED_HOSTS": ".localhost,aims.example.com", "HEALTHCHECK_TIMEOUT": "5"}

    def probe(path: str, on_port: str) -> int:
        return subprocess.run(
            [sys.executable, str(script), path], env={**env, "PORT": on_port}, capture_output=True, timeout=30
        ).returncode

    assert probe("/healthz", port) == 0
    assert probe("/favicon.ico", port) == 1  # a redirect is not health
    assert probe("/healthz", str(closed_port)) == 1
    assert Path(script).is_file()
