"""Settings for every environment, read from environment variables.

Defaults are safe for a first run on a laptop: SQLite, Celery tasks run eagerly,
e-mail printed to the console. ``aims.settings.production`` removes the defaults
that must never reach a real deployment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env.smart_cast = False


def env_secret(name: str, default: str | None = None) -> str | None:
    """Read ``NAME`` or, when ``NAME_FILE`` is set, the content of that file (Docker secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


# --- Core --------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env_secret("SECRET_KEY", "insecure-development-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "simple_history",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "allauth.mfa",
    "allauth.usersessions",
    "aims",
    "registry",
    "risk",
    "controls",
    "audits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # API input hardening: a query string or path no field could accept is a 400 before any query.
    "aims.api.input.ApiInputGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language for those signed out; a member's choice once the tenant is known.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "aims.csp.OffsiteRedirectHandoffMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "aims.identity.middleware.SessionActivityMiddleware",
    "aims.tenancy.CurrentOrganizationMiddleware",
    "aims.i18n.ResponseLanguageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "aims.urls"
WSGI_APPLICATION = "aims.wsgi.application"
AUTH_USER_MODEL = "aims.User"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "account_login"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "aims.context_processors.tenant",
                "aims.context_processors.portal",
                "aims.context_processors.notifications",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------
# SQLite file when DATABASE_URL is unset, so a first run needs no server.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Cache ---------------------------------------------------------------------
# Sign-in rate limits and lockouts are counted in the cache, so every web process must share
# one: Redis in a deployment (CACHE_URL=redis://...), process memory on a laptop.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Page content and API lists kept for their reader until the organisation's next recorded change
# (aims.content_cache).
AIMS_CONTENT_CACHE = env.bool("AIMS_CONTENT_CACHE", default=True)

# --- Content-Security-Policy (django-csp) -------------------------------------
# Every page runs only the portal's own scripts and stylesheets: no inline code, no inline
# style attributes, no eval, nothing from another origin (the portal runs air-gapped). Private
# file downloads keep their own stricter "sandbox" policy (aims.files), which the middleware
# never overwrites. The API documentation pages get a policy of their own (aims.csp), and a
# form whose answer sends the browser to an identity provider is handed over by a page of
# ours, so that form-action stays 'self' (aims.csp.OffsiteRedirectHandoffMiddleware).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

# --- Sign-in (django-allauth) ---------------------------------------------------
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Sessions end with the browser; the idle timeout of the organisation ends them sooner.
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_ADAPTER = "aims.identity.adapter.AccountAdapter"
ACCOUNT_FORMS = {"login": "aims.identity.forms.LoginForm", "signup": "aims.forms.SignupForm"}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "AIMS portal: "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
# Failed sign-ins are limited per address and per IP; once a limit is reached even the right
# password is refused until the window has passed, with the same message for every address.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env.str("LOGIN_FAILED_RATE_LIMIT", default="20/10m/ip,5/10m/key"),
    "login": "60/m/ip",
    "signup": "10/h/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reauthenticate": "10/m/user",
}
# Self-service sign-up: off unless the instance allows it (``make serve`` turns it on).
SIGNUP_ENABLED = env.bool("SIGNUP_ENABLED", default=False)
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_LOGIN_ON_GET = False
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="AIMS portal")
USERSESSIONS_TRACK_ACTIVITY = True

# --- Multi-factor sign-in, sessions and re-authentication ------------------------------
# Creating a token or changing members needs a sign-in or a confirmation within this many seconds.
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
# Browsers only offer security keys to an https origin, or to http://localhost; a laptop's
# ``make serve`` and the tests need the latter (set it there, never in production).
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env.bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", default=False)

# --- Single sign-on per organisation (aims.sso) ---------------------------------
# Each organisation's SsoConnection builds its own allauth app (OpenID Connect or SAML); the
# adapter signs people in only through their organisation's connection and makes them members
# just in time. The socialaccount connections pages are not offered: accounts link by e-mail domain.
SOCIALACCOUNT_ADAPTER = "aims.sso.adapter.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False

# --- Internationalisation ----------------------------------------------------
LANGUAGE_CODE = "en-gb"
# The languages the portal is written in (locale/<code>/LC_MESSAGES); each member may choose one,
# each organisation has a default (aims.i18n, applied when the tenant is known).
LANGUAGES = [("en-gb", "English"), ("fr", "Français"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Files -------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "staticfiles")))
# Uploaded evidence lives outside the web root and is only served by permission-checked
# views, never by the web server or WhiteNoise.
PRIVATE_STORAGE_DIR = Path(env.str("PRIVATE_STORAGE_DIR", default=str(BASE_DIR / "var" / "private")))
MEDIA_ROOT = PRIVATE_STORAGE_DIR
STORAGES: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_STORAGE_DIR, "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- E-mail ------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="AIMS portal <aims@localhost>")

# --- Celery ------------------------------------------------------------------
# Without a broker, tasks run in-process so the portal works with nothing else installed.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_TIMEZONE = TIME_ZONE
# Task modules of sub-packages; autodiscovery only finds each app's top-level tasks.py.
CELERY_IMPORTS = [
    "registry.monitoring.tasks",
    "audits.packs.tasks",
    "aims.outbox.tasks",
    "aims.webhooks.tasks",
    "aims.collaboration.tasks",
]
# Evidence packs run on their own queue, so a large pack never delays reminders or the
# outbox; a worker for packs runs with ``-Q packs`` (or ``-Q celery,packs``), see the README.
CELERY_TASK_ROUTES = {"audits.packs.tasks.*": {"queue": "packs"}}
CELERY_BEAT_SCHEDULE = {
    # The transactional outbox: sends tasks that a request could not hand to the broker.
    "dispatch-outbox": {"task": "aims.outbox.tasks.dispatch_outbox", "schedule": 60.0},
    # Well within the stale window, so an abandoned pack is back in the queue within minutes.
    "recover-stale-evidence-packs": {"task": "audits.packs.tasks.recover_stale_evidence_packs", "schedule": 60.0},
    "expire-evidence-packs": {"task": "audits.packs.tasks.expire_evidence_packs", "schedule": 86400.0},
    # Once a day; each item is reminded once per period however often this runs.
    "send-reminders": {"task": "controls.tasks.send_reminders", "schedule": 86400.0},
    "discard-stale-staged-files": {"task": "controls.tasks.discard_stale_staged_files", "schedule": 86400.0},
    "policy-review-reminders": {"task": "aims.tasks.send_policy_review_reminders", "schedule": 86400.0},
    # Daily; each member gets one digest per ISO week however often this runs.
    "weekly-digests": {"task": "aims.collaboration.tasks.send_weekly_digests", "schedule": 86400.0},
    # Stale metrics and new breaches are told once each, however often this runs.
    "check-monitoring": {"task": "registry.monitoring.tasks.check_monitoring", "schedule": 900.0},
    # Webhook retries whose back-off has elapsed (aims.webhooks.services.RETRY_DELAYS).
    "send-due-webhooks": {"task": "aims.webhooks.tasks.send_due_webhooks", "schedule": 60.0},
}

# --- REST API ----------------------------------------------------------------
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "aims.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["aims.api.permissions.HasOrganizationRole"],
    "DEFAULT_PAGINATION_CLASS": "aims.api.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # API input hardening: the usual parsers, refusing NUL/control characters and impossible offsets.
    "DEFAULT_PARSER_CLASSES": [
        "aims.api.input.JSONParser",
        "aims.api.input.FormParser",
        "aims.api.input.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "aims.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "aims.api.throttling.TokenRateThrottle",
        "aims.api.throttling.UserRateThrottle",
        "aims.api.throttling.AnonRateThrottle",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

# --- API throttling (tokens follow people) ---------------------------------------
# Generous limits that only a runaway script reaches; counted in the cache above.
API_THROTTLE_RATES = {
    "token": env.str("API_THROTTLE_TOKEN", default="1000/min"),
    "user": env.str("API_THROTTLE_USER", default="600/min"),
    "anon": env.str("API_THROTTLE_ANON", default="60/min"),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "AIMS portal API",
    "DESCRIPTION": (
        "REST API of the ISO/IEC 42001 AI management system portal. Authenticate with "
        "`Authorization: Bearer <token>`; a token belongs to one organisation and carries a role.\n\n"
        "A token follows the person who created it: it acts with the lower of its own role and its "
        "creator's current role (`effective_role` in `/api/v1/api-tokens/` and `/api/v1/me/`), and is "
        "refused (401) once its creator is no longer a member. An owner-role token changes only the "
        "records its creator owns. Calls are limited per token (and per user for session calls); over "
        "the limit the API answers 429 with a `Retry-After` header.\n\n"
        "No lost updates: `GET` of one record answers an `ETag`; send it back in `If-Match` with `PUT`/`PATCH` "
        "and a record changed meanwhile answers 412 (nothing written) with its `current_version`. Without "
        "`If-Match` a write proceeds."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    # No validator badge: it is an image from validator.swagger.io, which the portal's policy
    # (and an air-gapped network) refuses.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Every operation documents its error answers (400-503, 412 for If-Match writes) from one place.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "aims.api.schema.error_responses",
    ],
    # Evidence "kind" appears in the read and the create shape: one named enum for both.
    "ENUM_NAME_OVERRIDES": {
        "EvidenceKindEnum": "controls.models.Evidence.Kind",
        # Generic field names of the AIMS records: named after their model so other apps cannot clash.
        "ContextIssueCategoryEnum": "aims.governance.models.ContextIssue.Category",
        "ObjectiveDirectionEnum": "aims.governance.models.Objective.Direction",
        # Incident severity and the risk acceptance threshold share the low…critical scale: one name.
        "LevelEnum": "risk.models.Level",
        "FindingKindEnum": "audits.models.Finding.Kind",
        "ChecklistResultEnum": "audits.models.ChecklistItem.Result",
    },
}

# --- Portal ------------------------------------------------------------------
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=365)
# A choice of more rows than this (AI systems, risks, controls, members) is a search box, not a select.
AUTOCOMPLETE_ABOVE = env.int("AUTOCOMPLETE_ABOVE", default=100)
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=14)
# Evidence packs: the longest a render may run, and how long finished files are kept.
EVIDENCE_PACK_TIME_LIMIT = env.int("EVIDENCE_PACK_TIME_LIMIT", default=1800)
EVIDENCE_PACK_RETENTION_DAYS = env.int("EVIDENCE_PACK_RETENTION_DAYS", default=90)
# A pack is rendered in parts that any worker may take: the inventory in chunks of this many
# systems and the change history in chunks of this many entries, so that no single document
# (and no worker's memory) grows with the size of the organisation.
EVIDENCE_PACK_INVENTORY_CHUNK = env.int("EVIDENCE_PACK_INVENTORY_CHUNK", default=50)
EVIDENCE_PACK_HISTORY_CHUNK = env.int("EVIDENCE_PACK_HISTORY_CHUNK", default=500)
# The inventory's summary table of every system is split over parts of this many rows each.
EVIDENCE_PACK_SUMMARY_CHUNK = env.int("EVIDENCE_PACK_SUMMARY_CHUNK", default=500)
# A part that raises is tried again this many times before its pack is failed.
EVIDENCE_PACK_PART_RETRIES = env.int("EVIDENCE_PACK_PART_RETRIES", default=2)
# Seconds before a part's first retry, doubling for each further one.
EVIDENCE_PACK_PART_RETRY_SECONDS = env.float("EVIDENCE_PACK_PART_RETRY_SECONDS", default=5.0)

# --- Transactional outbox and stale work (nothing lost when the broker or a worker fails) ---
# How long a request waits for the broker before leaving its task to the periodic dispatcher.
OUTBOX_BROKER_TIMEOUT = env.float("OUTBOX_BROKER_TIMEOUT", default=2.0)
# Pending messages a request tries to send after it commits (its own and older ones).
OUTBOX_REQUEST_BATCH = env.int("OUTBOX_REQUEST_BATCH", default=20)
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=30)
# A running pack whose heartbeat is older than this is judged abandoned (worker killed, or
# its connection lost): the reaper fails it and an identical request may start again.
EVIDENCE_PACK_STALE_MINUTES = env.float("EVIDENCE_PACK_STALE_MINUTES", default=5.0)
# An abandoned pack goes back to the queue until it has been started this many times.
EVIDENCE_PACK_MAX_ATTEMPTS = env.int("EVIDENCE_PACK_MAX_ATTEMPTS", default=3)
# A worker beats this often while it builds a pack, also during the long layout step.
EVIDENCE_PACK_HEARTBEAT_SECONDS = env.float("EVIDENCE_PACK_HEARTBEAT_SECONDS", default=30.0)
# Evidence uploads: the largest file accepted and the extensions allowed (each checked against
# the file's content). Reminders go out this many days before evidence expires.
EVIDENCE_MAX_UPLOAD_MB = env.int("EVIDENCE_MAX_UPLOAD_MB", default=25)
EVIDENCE_ALLOWED_TYPES = env.list(
    "EVIDENCE_ALLOWED_TYPES",
    default=[
        "pdf",
        "png",
        "jpg",
        "jpeg",
        "gif",
        "txt",
        "csv",
        "md",
        "json",
        "xlsx",
        "docx",
        "pptx",
        "odt",
        "ods",
        "zip",
    ],
)
REMINDER_DAYS_BEFORE_EXPIRY = env.int("REMINDER_DAYS_BEFORE_EXPIRY", default=30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Webhooks (aims.webhooks) -------------------------------------------------------------------
# Webhooks go only to public addresses (SSRF): set this on an instance whose receivers live on
# its own private network, or in a test with a receiver on loopback.
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=False)

# --- Backup and restore (manage.py aims_backup / aims_restore) ---------------------------------
# Where pg_dump and pg_restore are (empty: found on PATH). They must be at least the server's
# major version, e.g. /usr/lib/postgresql/16/bin with several client versions installed.
BACKUP_PG_BIN_DIR = env.str("BACKUP_PG_BIN_DIR", default="")
