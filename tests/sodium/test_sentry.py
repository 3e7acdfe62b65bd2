"""Sentry: with SODIUM_SENTRY_DSN set, an error in a view reaches the DSN's server as an
envelope (a local HTTP server here, no internet); without it nothing is initialised.

Each case runs Django in a fresh interpreter, as a web process would start with that
environment, so sentry_sdk is initialised (or not) by settings.py itself.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings

SCRIPT = """
import json, django
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.test import override_settings
from wsgiref.util import setup_testing_defaults
import sentry_sdk
application = get_wsgi_application()  # the WSGI app gunicorn serves
active = sentry_sdk.get_client().is_active()
environ = {"PATH_INFO": "/boom/", "HTTP_HOST": "127.0.0.1", "HTTP_COOKIE": "c=secret"}
setup_testing_defaults(environ)
statuses = []
with override_settings(ROOT_URLCONF="tests.sodium.boom_urls"):
    b"".join(application(environ, lambda status, headers: statuses.append(status)))
sentry_sdk.flush(timeout=10)
print(json.dumps({"active": active, "status": int(statuses[0].split()[0])}))
"""


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, dict, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        self.received.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def sentry_server():
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run_django(tmp_path, **env: str) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SODIUM_SENTRY_")}
    base.update(DJANGO_SETTINGS_MODULE="sodium.settings", SODIUM_DATA_DIR=str(tmp_path), **env)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=base,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def events(received) -> list[dict]:
    """Return the event items of the envelopes received."""
    found = []
    for _path, _headers, body in received:
        lines = body.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                found.append(json.loads(payload))
    return found


def test_an_error_in_a_view_is_sent_to_the_dsn(tmp_path, sentry_server) -> None:
    port = sentry_server.server_address[1]
    got = run_django(
        tmp_path,
        SODIUM_SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/42",
        SODIUM_SENTRY_ENVIRONMENT="staging",
    )
    assert got == {"active": True, "status": 500}
    assert Receiver.received, "nothing reached the Sentry server"
    assert all(path == "/api/42/envelope/" for path, _, _ in Receiver.received)
    (event,) = events(Receiver.received)
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "RuntimeError" and exception["value"] == "boom for sentry"
    assert event["environment"] == "staging"
    assert event["request"]["url"].endswith("/boom/")
    # send_default_pii is off: no cookies, no user address.
    assert "cookies" not in event["request"] and "secret" not in json.dumps(event)
    assert "ip_address" not in event.get("user", {})
    integrations = set(event["sdk"]["integrations"])
    assert {"django", "celery"} <= integrations


def test_nothing_is_initialised_without_a_dsn(tmp_path, sentry_server) -> None:
    got = run_django(tmp_path)
    assert got == {"active": False, "status": 500}
    assert Receiver.received == []


def test_portal_link_tokens_are_scrubbed_from_urls() -> None:
    from sodium.observability.sentry import scrub_event

    event = {"request": {"url": "https://s.example/portal/link/Abc-123_xyz/?next=/x"}}
    assert scrub_event(event, {})["request"]["url"] == (
        "https://s.example/portal/link/[Filtered]/?next=/x"
    )
    confirm = {"request": {"url": "https://s.example/portal/confirm/tok3n/"}}
    assert "tok3n" not in scrub_event(confirm, {})["request"]["url"]
