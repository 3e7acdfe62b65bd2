"""Settings chosen by the environment, checked in fresh interpreters."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "from sodium.celery import app; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], "
    "'options': s.DATABASES['default'].get('OPTIONS', {}), 'broker': app.conf.broker_url, "
    "'debug': s.DEBUG, 'email': s.EMAIL_BACKEND}))"
)


def probe(**env: str) -> dict:
    base = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "SODIUM_DEBUG",
            "SODIUM_EMAIL_BACKEND",
            "SODIUM_DB_PREPARED_STATEMENTS",
        }
    }
    base.update(DJANGO_SETTINGS_MODULE="sodium.settings", **env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=base,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_with_nothing_set_it_runs_embedded(tmp_path) -> None:
    got = probe(SODIUM_DATA_DIR=str(tmp_path))
    assert got["engine"] == "django.db.backends.sqlite3"
    assert got["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in got["options"]["init_command"]
    assert got["broker"] == f"sqla+sqlite:///{tmp_path}/celery-broker.sqlite3"
    assert got["debug"] is True
    assert got["email"] == "django.core.mail.backends.console.EmailBackend"


def test_database_and_redis_urls_select_postgresql_and_redis(tmp_path) -> None:
    got = probe(
        SODIUM_DATA_DIR=str(tmp_path),
        DATABASE_URL="postgres://u@db.example:5432/x",
        REDIS_URL="redis://cache.example:6379/0",
    )
    assert got["engine"] == "django.db.backends.postgresql"
    assert got["broker"] == "redis://cache.example:6379/0"
    assert got["options"] == {"server_side_binding": True, "prepare_threshold": 5}


def test_prepared_statements_can_be_turned_off_for_a_pooler(tmp_path) -> None:
    got = probe(
        SODIUM_DATA_DIR=str(tmp_path),
        DATABASE_URL="postgres://u@db.example:5432/x",
        SODIUM_DB_PREPARED_STATEMENTS="false",
    )
    assert got["engine"] == "django.db.backends.postgresql"
    assert got["options"] == {}


def test_the_embedded_broker_polls_often() -> None:
    from kombu.transport import sqlalchemy

    import sodium.celery  # noqa: F401

    assert sqlalchemy.Transport.polling_interval == 0.5
