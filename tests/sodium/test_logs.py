"""Structured logs: every line of a request or task carries its request id, user, practice
and task, and the JSON format is one parseable object a line."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from contextlib import contextmanager

from django.conf import settings

from sodium.observability import context
from sodium.observability.context import ContextFilter
from sodium.observability.logs import JsonFormatter, TextFormatter
from sodium.tasks import deliver_message_task
from tests import factories as f
from tests.base import BaseTestCase


@contextmanager
def captured(logger: str = "", level: int = logging.INFO, formatter=None):
    """Collect the lines logged under `logger` as the production console handler formats them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter or JsonFormatter())
    handler.addFilter(ContextFilter())
    target = logging.getLogger(logger)
    old_level = target.level
    target.addHandler(handler)
    target.setLevel(level)
    lines: list = []
    try:
        yield lines
    finally:
        target.removeHandler(handler)
        target.setLevel(old_level)
        text = stream.getvalue().splitlines()
        lines.extend(json.loads(line) for line in text) if formatter is None else lines.extend(text)


class RequestLogTests(BaseTestCase):
    def test_a_request_line_carries_request_id_user_and_practice(self) -> None:
        self.client.force_login(self.staff)
        with captured("django.request", logging.WARNING) as lines:
            # Django logs a 404's "Not Found" after the middleware has returned.
            response = self.client.get("/clients/999999999/")
        assert response.status_code == 404
        (line,) = [line for line in lines if line["message"].startswith("Not Found")]
        assert line["request_id"] == response["X-Request-ID"]
        assert len(line["request_id"]) == 32
        assert line["user_id"] == self.staff.pk
        assert line["practice_id"] == self.practice.pk
        assert line["practice_slug"] == self.practice.slug
        assert line["level"] == "WARNING" and line["logger"] == "django.request"
        assert "time" in line and "task_name" not in line

    def test_it_keeps_a_sane_incoming_request_id(self) -> None:
        response = self.client.get("/sign-in/", headers={"X-Request-ID": "lb-7f3a:42"})
        assert response["X-Request-ID"] == "lb-7f3a:42"

    def test_it_replaces_an_insane_incoming_request_id(self) -> None:
        for bad in ("two words", "x" * 129, 'quote"d', "new\\nline"):
            response = self.client.get("/sign-in/", headers={"X-Request-ID": bad})
            assert response["X-Request-ID"] != bad
            assert len(response["X-Request-ID"]) == 32

    def test_nothing_is_left_bound_after_the_request(self) -> None:
        self.client.force_login(self.staff)
        self.client.get("/clients/")
        assert context.fields() == dict.fromkeys(context.fields())

    def test_a_task_line_carries_the_task_and_the_publishing_request(self) -> None:
        practice = f.PracticeFactory()
        context.begin("req-from-a-view")
        try:
            with captured("sodium.outbox") as lines:
                # Eager: the task runs in the caller's request and keeps its request id.
                result = deliver_message_task.apply(args=(987654321, practice.pk))
            after = context.fields()
        finally:
            context.clear()
        (line,) = [line for line in lines if "is not queued" in line["message"]]
        assert line["task_name"] == "sodium.tasks.deliver_message_task"
        assert line["task_id"] == result.id
        assert line["request_id"] == "req-from-a-view"
        assert line["practice_id"] == practice.pk
        # The caller's lines after the task are its own again.
        assert after["task_name"] is None and after["practice_id"] is None
        assert after["request_id"] == "req-from-a-view"

    def test_a_practice_scope_binds_its_practice_for_its_block(self) -> None:
        from sodium.tenancy import practice_scope

        with captured("tests") as lines:
            with practice_scope(self.practice):
                logging.getLogger("tests").info("inside")
            logging.getLogger("tests").info("outside")
        assert lines[0]["practice_slug"] == self.practice.slug
        assert "practice_id" not in lines[1]

    def test_the_text_format_shows_the_context_briefly(self) -> None:
        context.begin("0123456789abcdef")
        try:
            with captured("tests", formatter=TextFormatter()) as lines:
                logging.getLogger("tests").warning("hello")
        finally:
            context.clear()
        assert lines[0].endswith("WARNING tests [req=01234567] hello")


def log_format(**env: str) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in {"SODIUM_DEBUG", "SODIUM_LOG_FORMAT"}}
    base.update(DJANGO_SETTINGS_MODULE="sodium.settings", SODIUM_SECRET_KEY="k" * 50, **env)
    probe = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps(s.LOGGING['handlers']['console']))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env=base,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_logs_are_json_without_debug_and_text_with_it(tmp_path) -> None:
    assert log_format(SODIUM_DEBUG="false", SODIUM_DATA_DIR=str(tmp_path))["formatter"] == "json"
    assert log_format(SODIUM_DEBUG="true", SODIUM_DATA_DIR=str(tmp_path))["formatter"] == "text"
    chosen = log_format(
        SODIUM_DEBUG="true", SODIUM_LOG_FORMAT="json", SODIUM_DATA_DIR=str(tmp_path)
    )
    assert chosen["formatter"] == "json" and chosen["filters"] == ["context"]
