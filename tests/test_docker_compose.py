"""docker-compose.yml describes the production topology and validates (no engine needed).

Uses `docker compose` (the v2 plugin) where the docker CLI has it, else Debian's
`docker-compose`; skipped only on a machine with neither.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"


def _compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


COMPOSE = _compose_command()
pytestmark = pytest.mark.skipif(COMPOSE is None, reason="no docker compose here")


def compose(*args: str, secret: bool = True, tmp_path: Path) -> subprocess.CompletedProcess:
    # An empty env file, so a developer's .env beside docker-compose.yml cannot fill values in.
    empty_env = tmp_path / "empty.env"
    empty_env.write_text("")
    env = {k: v for k, v in os.environ.items() if k not in {"SODIUM_SECRET_KEY"}}
    env["POSTGRES_PASSWORD"] = "pw"
    if secret:
        env["SODIUM_SECRET_KEY"] = "x" * 64
    return subprocess.run(
        [*COMPOSE, "--env-file", str(empty_env), "-f", str(COMPOSE_FILE), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_validates_and_has_the_production_services(tmp_path) -> None:
    assert compose("config", "-q", tmp_path=tmp_path).returncode == 0
    services = set(compose("config", "--services", tmp_path=tmp_path).stdout.split())
    assert {"db", "redis", "web", "worker", "beat"} <= services
    text = COMPOSE_FILE.read_text()
    assert "gunicorn" in text and "celery" in text


def test_it_refuses_to_start_without_a_secret_key(tmp_path) -> None:
    out = compose("config", "-q", secret=False, tmp_path=tmp_path)
    assert out.returncode != 0
    assert "SODIUM_SECRET_KEY" in out.stderr


def test_web_worker_and_beat_have_health_checks(tmp_path) -> None:
    import yaml

    out = compose("config", tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    services = yaml.safe_load(out.stdout)["services"]
    web = " ".join(services["web"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/health/" in web and "curl" not in web
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])
    assert services["beat"]["healthcheck"]["test"][-2:] == ["health", "--sweep"]
    # Nothing waits for web to be healthy: web's health needs beat's sweep.
    for name in ("worker", "beat"):
        assert services[name]["depends_on"]["web"]["condition"] == "service_started"
    for name in ("web", "worker"):
        env = services[name]["environment"]
        assert env["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/prometheus"
        assert "SODIUM_METRICS_TOKEN" in env and "SODIUM_SENTRY_DSN" in env
