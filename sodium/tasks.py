"""Celery tasks of the core: thin adapters that take ids and call one service function.

Every task is idempotent (the worker runs with `acks_late`, so a task may run twice).
"""

from __future__ import annotations

from celery import shared_task

from sodium import outbox, timers
from sodium.observability import heartbeat


@shared_task(acks_late=True)
def deliver_message_task(message_id: int, practice_id: int | None = None) -> None:
    """Deliver one queued outbound message; a no-op unless it is still queued.

    `practice_id` is the message's practice (the claim is scoped to it); tasks queued
    before it was passed carry only the id, and the outbox looks the practice up.
    """
    outbox.deliver(message_id, practice_id)


@shared_task(acks_late=True)
def deliver_messages_task(message_ids: list[int], practice_id: int) -> None:
    """Deliver queued messages of one practice (written in bulk); each only if still queued."""
    for message_id in message_ids:
        outbox.deliver(message_id, practice_id)


# A sweep claims up to 50 batches of due rows: more than a minute's work after downtime.
SWEEP_SOFT_TIME_LIMIT = 240
SWEEP_TIME_LIMIT = 300


@shared_task(acks_late=True, soft_time_limit=SWEEP_SOFT_TIME_LIMIT, time_limit=SWEEP_TIME_LIMIT)
def sweep_timers_task() -> int:
    """Dispatch due timers and run the safety nets (beat runs this every minute).

    Records the sweep's heartbeat when it finishes (read by /health/): a sweep that keeps
    failing, or that beat stops sending, leaves it to age.
    """
    ran = timers.sweep()
    heartbeat.record(heartbeat.SWEEP)
    return ran
