"""Log formats: one JSON object a line in production, readable text for people in DEBUG.

Every line goes through `ContextFilter` on the console handler, so it carries the request id,
user, practice and task of the code that logged it (see sodium/observability/context.py).
`SODIUM_LOG_FORMAT` picks the format ("json" or "text"; json unless DEBUG).
"""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

CONTEXT_FIELDS = ("request_id", "user_id", "practice_id", "practice_slug", "task_name", "task_id")


class JsonFormatter(_JsonFormatter):
    """One JSON object a line: time, level, logger, message, the context, any `extra=`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        kwargs.setdefault("datefmt", "%Y-%m-%dT%H:%M:%S%z")
        super().__init__(*args, **kwargs)

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        # Unknown context is left out rather than written as null on every line.
        for key in CONTEXT_FIELDS:
            if log_data.get(key) is None:
                log_data.pop(key, None)


class TextFormatter(logging.Formatter):
    """A line for people: time, level, logger, the short context in brackets, message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        parts = []
        if getattr(record, "request_id", None):
            parts.append(f"req={record.request_id[:8]}")
        if getattr(record, "practice_slug", None) or getattr(record, "practice_id", None):
            parts.append(f"practice={record.practice_slug or record.practice_id}")
        if getattr(record, "user_id", None):
            parts.append(f"user={record.user_id}")
        if getattr(record, "task_name", None):
            parts.append(f"task={record.task_name.rsplit('.', 1)[-1]}[{record.task_id[:8]}]")
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return super().format(record)


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """Return Django's LOGGING dict: the console handler in `log_format`, root at `level`."""
    if log_format not in {"json", "text"}:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"SODIUM_LOG_FORMAT must be json or text, not {log_format!r}.")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "sodium.observability.context.ContextFilter"}},
        "formatters": {
            "json": {"()": "sodium.observability.logs.JsonFormatter"},
            "text": {"()": "sodium.observability.logs.TextFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }
