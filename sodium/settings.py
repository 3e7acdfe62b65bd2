"""Settings, configured only by environment variables (see README, "Configuration")."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp import constants as csp

from sodium.env import (
    ensure_dotenv_secret,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_prefixed,
    env_str,
    load_dotenv,
)
from sodium.observability import logs, sentry

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")

DEBUG = env_bool("SODIUM_DEBUG", default=True)
DATA_DIR = Path(env_str("SODIUM_DATA_DIR", str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)
(DATA_DIR / "staticfiles").mkdir(exist_ok=True)

if DEBUG:
    SECRET_KEY = ensure_dotenv_secret(BASE_DIR / ".env", "SODIUM_SECRET_KEY")
else:
    SECRET_KEY = env_str("SODIUM_SECRET_KEY")

ALLOWED_HOSTS = env_list("SODIUM_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("SODIUM_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SODIUM_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The Messages page shows the links in clients' emails (a client's access, for whoever holds
# them) only in development, where it is how a newcomer follows the demo's emails.
SHOW_CLIENT_LINKS = env_bool("SODIUM_SHOW_CLIENT_LINKS", default=DEBUG)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # Django's widget templates, for FORM_RENDERER below
    "django_htmx",
    "csp",
    "template_partials",
    "anymail",
    "phonenumber_field",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "sodium",
    "workflows",
    "portal",
    "checks",
    "collections_ar",
]

MIDDLEWARE = [
    # First and last: request counts and latency (django-prometheus), whatever answers.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # The request id of every log line, echoed as X-Request-ID (sodium/observability).
    "sodium.observability.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # /health/ and /metrics, answered before sessions, auth, tenancy and the host check.
    "sodium.observability.middleware.OpsEndpointsMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "sodium.uploads.UploadLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sodium.tenancy.PracticeMiddleware",
    "sodium.observability.middleware.RequestUserMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "sodium.urls"
WSGI_APPLICATION = "sodium.wsgi.application"
AUTH_USER_MODEL = "sodium.User"
LOGIN_URL = "sodium:login"
LOGIN_REDIRECT_URL = "sodium:dashboard"
LOGOUT_REDIRECT_URL = "sodium:login"

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
                "sodium.context_processors.practice",
                "sodium.context_processors.csp_nonce",
            ],
            # sodium.templatetags.urls: `{% url %}` reversing ids without the resolver
            # each time (sodium/urlshapes.py); it must come after Django's own builtins.
            "builtins": [
                "template_partials.templatetags.partials",
                "sodium.templatetags.urls",
            ],
        },
    }
]

# Widgets render through the project's template engine (TemplatesSetting), so
# templates/django/forms/ may override Django's widget templates; selects are written in
# Python when they are plain text (sodium/form_renderer.py).
FORM_RENDERER = "sodium.form_renderer.FormRenderer"

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'sodium.sqlite3'}"),
        conn_max_age=env_int("SODIUM_DB_CONN_MAX_AGE", 0),
        # A connection kept between requests or tasks is checked before reuse, so a restarted
        # database costs a reconnect rather than one failed request per web or worker process.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web process read while the worker writes; IMMEDIATE takes the write lock
        # at BEGIN so two writers queue on busy_timeout instead of failing with "database locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "SODIUM_DB_PREPARED_STATEMENTS", True
):
    # Server-side parameter binding lets psycopg prepare a statement that a connection runs
    # more than five times, so PostgreSQL stops parsing and planning the engine's statements
    # on every transition (a quarter of the database's CPU per transition, measured with
    # bench/engine.py). It pays with persistent connections (SODIUM_DB_CONN_MAX_AGE). Turn
    # it off behind a connection pooler in transaction mode, which cannot keep them.
    DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env_int("SODIUM_SESSION_AGE_SECONDS", 60 * 60 * 12)
# django-axes refuses sign-in after repeated failures, counted in the database (so every web
# process sees the same count): per account whatever the address, and per address whatever
# the account. The lock lifts a cool-off after the last failure, or when an owner unlocks.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env_int("SODIUM_SIGN_IN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SODIUM_SIGN_IN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "sodium.lockout.username_of"
AXES_CLIENT_IP_CALLABLE = "sodium.ratelimit.client_ip"
AXES_LOCKOUT_CALLABLE = "sodium.views.auth.locked_out"
# Attempts while locked do not push the lock further, so the time the page gives holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Successful sign-ins are not logged by axes (the activity log is the audit trail).
AXES_DISABLE_ACCESS_LOG = True
# Two-factor sign-in (django-otp): an authenticator app (TOTP) plus one-time backup codes.
OTP_TOTP_ISSUER = "Sodium"

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
MEDIA_ROOT = Path(env_str("SODIUM_MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Largest upload accepted anywhere (logos, client documents); bigger bodies get a 413 page.
SODIUM_MAX_UPLOAD_BYTES = env_int("SODIUM_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
# Ledger exports (checks' import page only) may be larger, and hold at most so many rows.
SODIUM_LEDGER_IMPORT_MAX_BYTES = env_int("SODIUM_LEDGER_IMPORT_MAX_BYTES", 50 * 1024 * 1024)
SODIUM_LEDGER_IMPORT_MAX_ROWS = env_int("SODIUM_LEDGER_IMPORT_MAX_ROWS", 1_000_000)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("SODIUM_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env_str("SODIUM_EMAIL_FILE_PATH", str(DATA_DIR / "sent-mail"))
DEFAULT_FROM_EMAIL = env_str("SODIUM_DEFAULT_FROM_EMAIL", "Sodium <no-reply@sodium.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Any ANYMAIL_<SETTING> variable (e.g. ANYMAIL_POSTMARK_SERVER_TOKEN) configures the provider.
ANYMAIL = env_prefixed("ANYMAIL_")

# --- SMS ------------------------------------------------------------------------------------
# Contacts' mobiles are stored in E.164; numbers typed without a country code are British.
PHONENUMBER_DEFAULT_REGION = "GB"
PHONENUMBER_DB_FORMAT = "E164"
# "console" (development: printed by the worker), "locmem" (tests), "twilio" (production).
SODIUM_SMS_BACKEND = env_str("SODIUM_SMS_BACKEND", "console")
# Read only when SODIUM_SMS_BACKEND is "twilio"; missing ones are reported then.
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
# A sender: a number in E.164 or a Messaging Service SID ("MG…").
TWILIO_FROM = env_str("TWILIO_FROM", "")
TWILIO_API_URL = env_str("TWILIO_API_URL", "https://api.twilio.com").rstrip("/")

# --- Celery ---------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
CELERY_BROKER_URL = env_str(
    "SODIUM_CELERY_BROKER_URL", REDIS_URL or f"sqla+sqlite:///{DATA_DIR / 'celery-broker.sqlite3'}"
)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# No task may hold a worker for ever: the soft limit raises SoftTimeLimitExceeded inside the
# task (its transaction rolls back; the sweep's safety nets retry the work), the hard limit
# kills the process. The sweep sets larger limits of its own (sodium/tasks.py).
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_TASK_ALWAYS_EAGER = env_bool("SODIUM_CELERY_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A prefix for every broker key on Redis, so several deployments (or parallel test runs) can
# share one Redis without taking each other's tasks.
_KEY_PREFIX = env_str("SODIUM_CELERY_KEY_PREFIX", "")
if _KEY_PREFIX and CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": _KEY_PREFIX}
# Celery's Django fix-up would close the worker's database connections around every task;
# sodium/celery.py manages them as a request would, and this keeps the fix-up to one
# recycle per 5,000 tasks.
CELERY_DB_REUSE_MAX = 5000
CELERY_TIMEZONE = TIME_ZONE
# How often beat runs the sweep; a minute in production (bench/chaos.py runs it more often).
SODIUM_SWEEP_SECONDS = env_int("SODIUM_SWEEP_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    # Every minute: due timers (task starts, chases, AR actions) and the outbox safety net.
    "sweep-timers": {
        "task": "sodium.tasks.sweep_timers_task",
        "schedule": float(SODIUM_SWEEP_SECONDS),
    },
}

# --- Cache (rate limits) ---------------------------------------------------------------------
# Shared by every web process: Redis when there is one, else files in the data directory.
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# --- Security -------------------------------------------------------------------------------
SECURE_HTTPS = env_bool("SODIUM_HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = SECURE_HTTPS
SECURE_HSTS_SECONDS = env_int("SODIUM_HSTS_SECONDS", 31_536_000 if SECURE_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_HTTPS else None
# Reverse proxies in front of web that append the client's address to X-Forwarded-For (the
# per-address rate limits and the sign-in lockout read it); 0 means clients connect directly.
SODIUM_PROXY_HOPS = env_int("SODIUM_PROXY_HOPS", 0)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp) on every response: scripts and styles only from our own
# static files, plus the per-request nonce on the one <style> carrying the practice's colour.
# No inline handlers or style attributes anywhere (htmx is configured not to inject styles or
# evaluate attributes, see the htmx-config meta in the base templates). The email previews are
# sandboxed srcdoc frames, which inherit this policy.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF, csp.NONCE],
        "img-src": [csp.SELF, "data:"],
        "frame-ancestors": [csp.NONE],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
    }
}

# --- Operations: health, logs, metrics, errors (sodium/observability) -------------------------
# The sweep is late (/health/ fails, timers count as overdue) when its last run is older than
# this; 0 means three sweep intervals (beat's "sweep-timers" schedule above).
SODIUM_SWEEP_LATE_SECONDS = env_int("SODIUM_SWEEP_LATE_SECONDS", 0)
# All health checks together answer within this (a hung database or broker counts as failed).
SODIUM_HEALTH_TIMEOUT_SECONDS = env_float("SODIUM_HEALTH_TIMEOUT_SECONDS", 3.0)
# Probes and scrapes inside the network speak plain HTTP to web.
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^metrics$"]
# Bearer token for /metrics and the worker's metrics port; unset, both answer 404.
SODIUM_METRICS_TOKEN = env_str("SODIUM_METRICS_TOKEN", "")
# The worker serves its task metrics on this port (0: not at all).
SODIUM_WORKER_METRICS_PORT = env_int("SODIUM_WORKER_METRICS_PORT", 0)
# "json" (one object a line, for log collectors) or "text" (for people; `make run`).
SODIUM_LOG_FORMAT = env_str("SODIUM_LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = logs.logging_config(
    log_format=SODIUM_LOG_FORMAT, level=env_str("SODIUM_LOG_LEVEL", "INFO")
)
SODIUM_SENTRY_DSN = env_str("SODIUM_SENTRY_DSN", "")
if SODIUM_SENTRY_DSN:
    sentry.init(
        dsn=SODIUM_SENTRY_DSN,
        environment=env_str("SODIUM_SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=env_float("SODIUM_SENTRY_TRACES_SAMPLE_RATE", 0.0),
    )
