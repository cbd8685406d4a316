"""Production mode: refuses to start without a real secret, and `check --deploy` is clean."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def manage(*args, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**base, "DJANGO_SETTINGS_MODULE": "aims.settings.production", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "ALLOWED_HOSTS": "aims.example.com",
    "DATABASE_URL": "postgres://aims@db.example.com:5432/aims",
    "CELERY_BROKER_URL": "redis://redis.example.com:6379/0",
}


def test_production_check_deploy_reports_nothing():
    result = manage("check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=secrets.token_urlsafe(64), **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_real_secret_key():
    for key in ["", "insecure-development-key-change-me", "short"]:
        result = manage("check", SECRET_KEY=key, **PRODUCTION)
        assert result.returncode != 0
        assert "Production needs a real SECRET_KEY" in result.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(secrets.token_urlsafe(64) + "\n")
    result = manage("check", "--deploy", "--fail-level", "WARNING", SECRET_KEY_FILE=str(secret), **PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_development_defaults_need_nothing(settings):
    from aims.settings import base

    assert base.DATABASES["default"]["ENGINE"] in {
        "django.db.backends.sqlite3",
        "django.db.backends.postgresql",
    }
    assert base.CELERY_TASK_ALWAYS_EAGER is (not base.CELERY_BROKER_URL)
    assert str(base.PRIVATE_STORAGE_DIR) not in str(base.STATIC_ROOT)
