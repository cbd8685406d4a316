"""Test settings: the services come from the environment (CI sets PostgreSQL and Redis)."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Celery runs eagerly in ordinary tests; the worker test starts a real worker on
# CELERY_BROKER_URL itself.
CELERY_TASK_ALWAYS_EAGER = True
PRIVATE_STORAGE_DIR = Path(env.str("PRIVATE_STORAGE_DIR", default="/tmp/aims-test-private"))  # noqa: F405
# The readiness check expects the store to exist, as a deployment creates it; on a fresh
# machine nothing may have saved a file yet when that check runs.
PRIVATE_STORAGE_DIR.mkdir(parents=True, exist_ok=True)
STORAGES["default"]["OPTIONS"]["location"] = PRIVATE_STORAGE_DIR  # noqa: F405
MEDIA_ROOT = PRIVATE_STORAGE_DIR
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# The suite makes thousands of API calls as a few personas (the route walker especially):
# throttling tests lower these with override_settings.
API_THROTTLE_RATES = {"token": "100000/min", "user": "100000/min", "anon": "100000/min"}
# The browser tests drive http://localhost:<port>, where security keys need this.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
# Pages and API lists are not served from the reader's content cache (aims.content_cache) in
# tests that count what a view itself costs; the content cache's own tests and the tenant
# isolation walk turn it on.
AIMS_CONTENT_CACHE = False
