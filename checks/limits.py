"""Limits of ledger imports, from settings where a deployment may want to change them."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ROWS = 1_000_000
# What a multipart form adds around the file (boundaries, the other fields, the CSRF token).
FORM_OVERHEAD = 64 * 1024
# Progress is written after a batch once this many more lines are done.
PROGRESS_EVERY = 5000
# The import task's own time limits: a million-line file takes minutes, not the default 60 s.
TASK_SOFT_TIME_LIMIT = 1800
TASK_TIME_LIMIT = 1900
# A claim older than the hard limit belongs to a worker that died: the task may run again.
STALE_CLAIM = timedelta(seconds=TASK_TIME_LIMIT + 60)


def max_bytes() -> int:
    """Return the largest ledger file accepted (SODIUM_LEDGER_IMPORT_MAX_BYTES, 50 MB)."""
    return getattr(settings, "SODIUM_LEDGER_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


def max_rows() -> int:
    """Return the most data rows one file may hold (SODIUM_LEDGER_IMPORT_MAX_ROWS)."""
    return getattr(settings, "SODIUM_LEDGER_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)
