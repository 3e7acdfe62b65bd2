"""Test settings: the real settings with a fast hasher, in-memory mail and throwaway media."""

import os
import tempfile

# Parallel test processes (pytest-xdist) share one Redis: each keeps its own Celery keys, and
# the worker processes a test starts inherit the prefix through the environment.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("SODIUM_CELERY_KEY_PREFIX", f"test-{os.environ['PYTEST_XDIST_WORKER']}:")

from sodium.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
SODIUM_SMS_BACKEND = "locmem"  # texts land in sodium.sms.backends.outbox
MEDIA_ROOT = tempfile.mkdtemp(prefix="sodium-test-media-")
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
SECURE_SSL_REDIRECT = False
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Worker tests run a real Celery worker in another process, so the test database must be one
# that process can open: a file for SQLite (PostgreSQL's test database is shared anyway).
_TMP = tempfile.mkdtemp(prefix="sodium-test-")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"{_TMP}/test.sqlite3"}  # noqa: F405
if not REDIS_URL:  # noqa: F405
    CELERY_BROKER_URL = f"sqla+sqlite:///{_TMP}/broker.sqlite3"
