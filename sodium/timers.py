"""Timers: later work is a row with an indexed due time; a sweep every minute dispatches it.

Apps register a handler per kind (`register("task.start", handler)`) and safety nets that
re-dispatch work whose fast path (on_commit enqueueing) may have been lost; a sweep runs the
nets first, then the timers (see `sweep`). The sweep claims
due rows with SELECT … FOR UPDATE SKIP LOCKED in batches, so several sweeps can run at once;
its cost grows with what is due, not with what exists. A handler that catches up after an
outage schedules the next occurrence from now, so a missed daily chase sends one email.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from sodium.models import Practice, Timer
from sodium.tenancy import practice_scope

log = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[[Timer], None]] = {}
SAFETY_NETS: dict[str, Callable[[dt.datetime], int]] = {}
RETRY_AFTER = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 10


def register(kind: str, handler: Callable[[Timer], None]) -> None:
    """Make `handler(timer)` run when a timer of `kind` falls due (inside its practice scope)."""
    HANDLERS[kind] = handler


def register_safety_net(name: str, fn: Callable[[dt.datetime], int]) -> None:
    """Run `fn(now)` on every sweep to re-dispatch work left behind; it returns a count."""
    SAFETY_NETS[name] = fn


def schedule(
    *, practice: Practice | int, kind: str, target_id: int, due_at: dt.datetime, key: str
) -> Timer:
    """Create the timer `key`, or move it to `due_at` if it exists (idempotent)."""
    practice_id = practice if isinstance(practice, int) else practice.pk
    with scopes_disabled():
        timer, created = Timer.objects.update_or_create(
            key=key,
            defaults={
                "practice_id": practice_id,
                "kind": kind,
                "target_id": target_id,
                "due_at": due_at,
                "attempts": 0,
                "last_error": "",
            },
        )
    return timer


def cancel(key: str) -> int:
    """Delete the timer `key` if it is pending; return how many were deleted."""
    with scopes_disabled():
        return Timer.objects.filter(key=key).delete()[0]


def cancel_for(*, practice: Practice | int, kinds: tuple[str, ...], target_id: int) -> int:
    """Delete the pending timers of `kinds` for `target_id` in `practice`; return how many.

    For owners that know what kinds of timer a thing may have but not their keys (a step
    whose type declares its timers); the (practice, kind, target_id) index serves it.
    """
    practice_id = practice if isinstance(practice, int) else practice.pk
    with scopes_disabled():
        return Timer.objects.filter(
            practice_id=practice_id, kind__in=kinds, target_id=target_id
        ).delete()[0]


def claim_due(now: dt.datetime, batch: int) -> list[Timer]:
    """Lock and return up to `batch` due timers that no other sweep holds (call in atomic)."""
    # Cross-tenant by design: the sweep serves every practice; each handler then runs inside
    # its own practice's scope.
    with scopes_disabled():
        return list(
            Timer.objects.select_for_update(skip_locked=True)
            .filter(due_at__lte=now)
            .order_by("due_at")[:batch]
        )


def sweep(
    now: dt.datetime | None = None,
    *,
    batch: int = 200,
    max_batches: int = 50,
    nets: bool = True,
    ask_for_help: Callable[[], None] | None = None,
) -> int:
    """Run the safety nets, then dispatch every due timer; return how many timers ran.

    The nets go first: what they hand to workers (AR batches, messages, steps) runs on the
    other worker processes while this sweep works through the timers, and a timer a net has
    just made due (the start of a task a recurrence created) runs in this sweep, not the next.
    A sweep runs the handlers one after another; when its first batch comes back full (a
    backlog after downtime), it calls `ask_for_help()`, which queues a helper sweep (`nets`
    off) on another worker: SKIP LOCKED gives each sweep batches of its own.
    """
    now = now or timezone.now()
    if nets:
        _run_safety_nets(now)
    ran = 0
    for n in range(max_batches):
        with transaction.atomic():
            timers = claim_due(now, batch)
            if n == 0 and len(timers) == batch and ask_for_help is not None:
                ask_for_help()
            for timer in timers:
                ran += _dispatch(timer, now)
        if len(timers) < batch:
            break
    return ran


def _run_safety_nets(now: dt.datetime) -> None:
    for name, net in SAFETY_NETS.items():
        try:
            count = net(now)
        except SoftTimeLimitExceeded:
            raise
        except Exception:  # one broken net must not stop the others
            log.exception("safety net %s failed", name)
            continue
        if count:
            log.info("safety net %s re-dispatched %s", name, count)


def _dispatch(timer: Timer, now: dt.datetime) -> int:
    handler = HANDLERS.get(timer.kind)
    try:
        with transaction.atomic(), practice_scope(timer.practice_id):
            if handler is None:
                raise LookupError(f"no handler for timer kind {timer.kind!r}")
            handler(timer)
    except SoftTimeLimitExceeded:
        # The sweep's time is up: stop (the batch rolls back and stays due) rather than count
        # this as the timer's failure and carry on until the hard limit kills the worker.
        raise
    except Exception as exc:
        log.exception("timer %s failed", timer.key)
        with scopes_disabled():
            if timer.attempts + 1 >= MAX_ATTEMPTS:
                Timer.objects.filter(pk=timer.pk).delete()
            else:
                Timer.objects.filter(pk=timer.pk).update(
                    attempts=timer.attempts + 1,
                    due_at=now + RETRY_AFTER * (timer.attempts + 1),
                    last_error=str(exc)[:2000],
                )
        return 0
    with scopes_disabled():
        # The handler may have rescheduled the same key for later; delete only this occurrence.
        Timer.objects.filter(pk=timer.pk, due_at=timer.due_at).delete()
    return 1
