"""What a log line belongs to: request id, practice, user, task — kept in contextvars.

A web request binds its request id on entry and the user and practice once they are known;
they stay bound until Django's `request_finished`, so the lines Django logs after the
middleware has returned (a 404's "Not Found") still carry them. A practice scope
(`sodium.tenancy.practice_scope`) binds its practice for its own block, which covers portal
requests, tasks and the sweep's handlers. Tasks bind their name, id and the request id of the
request that published them (sodium/observability/celery_signals.py).
"""

from __future__ import annotations

import logging
import re
import secrets
from contextvars import ContextVar, Token
from typing import Any

# (id, slug) of the request's practice, sticky for the whole request or task.
_request_id: ContextVar[str | None] = ContextVar("sodium_request_id", default=None)
_user_id: ContextVar[int | None] = ContextVar("sodium_user_id", default=None)
_practice: ContextVar[tuple[int, str | None] | None] = ContextVar("sodium_practice", default=None)
# The practice of the innermost open practice_scope, for its block only.
_scope_practice: ContextVar[tuple[int, str | None] | None] = ContextVar(
    "sodium_scope_practice", default=None
)
_task: ContextVar[tuple[str, str] | None] = ContextVar("sodium_task", default=None)

# An incoming X-Request-ID is kept only when it is short and plain, so a client cannot put
# newlines, quotes or megabytes into every log line of its request.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def new_request_id() -> str:
    """Return a fresh random request id (128 bits, hex)."""
    return secrets.token_hex(16)


def sane_request_id(candidate: str | None) -> str | None:
    """Return `candidate` if it is a plain id of at most 128 characters, else None."""
    if candidate and _SANE_REQUEST_ID.fullmatch(candidate):
        return candidate
    return None


def request_id() -> str | None:
    """Return the request id bound to this request or task, if any."""
    return _request_id.get()


def begin(request_id: str | None) -> None:
    """Start a new context (a request or a worker's task): forget everything, bind the id."""
    _request_id.set(request_id)
    _user_id.set(None)
    _practice.set(None)
    _scope_practice.set(None)
    _task.set(None)


def clear() -> None:
    """Forget the context (the request is finished)."""
    begin(None)


def bind_user(user_id: int | None) -> None:
    """Bind the signed-in user's id for the rest of the request."""
    _user_id.set(user_id)


def _practice_key(practice: Any) -> tuple[int, str | None]:
    if isinstance(practice, int):
        return (practice, None)
    return (practice.pk, getattr(practice, "slug", None))


def bind_practice(practice: Any) -> None:
    """Bind the request's (or task's) practice, a Practice or an id, for the rest of it."""
    _practice.set(_practice_key(practice) if practice is not None else None)


def enter_scope(practice: Any) -> Token:
    """Bind the practice of a practice scope for its block; pass the token to `exit_scope`."""
    return _scope_practice.set(_practice_key(practice))


def exit_scope(token: Token) -> None:
    """Restore the practice bound before the scope opened."""
    _scope_practice.reset(token)


def bind_task(name: str, task_id: str, request_id: str | None) -> list[tuple[ContextVar, Token]]:
    """Bind a task's name, id and publishing request; return tokens for `restore`.

    Tokens rather than a fresh context, because an eager task runs inside its caller's
    request and the caller's lines after it must keep their own context.
    """
    return [
        (_task, _task.set((name, task_id))),
        (_request_id, _request_id.set(request_id)),
        (_practice, _practice.set(_practice.get())),
    ]


def restore(tokens: list[tuple[ContextVar, Token]]) -> None:
    """Undo `bind_task` (and any practice the task bound)."""
    for var, token in reversed(tokens):
        var.reset(token)


def fields() -> dict[str, Any]:
    """Return the context as log fields (None where unknown)."""
    practice = _scope_practice.get() or _practice.get()
    task = _task.get()
    return {
        "request_id": _request_id.get(),
        "user_id": _user_id.get(),
        "practice_id": practice[0] if practice else None,
        "practice_slug": practice[1] if practice else None,
        "task_name": task[0] if task else None,
        "task_id": task[1] if task else None,
    }


class ContextFilter(logging.Filter):
    """Copy the context onto every record that passes through the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in fields().items():
            # A value given in `extra=` wins over the context.
            if getattr(record, key, None) is None:
                setattr(record, key, value)
        return True
