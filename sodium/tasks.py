"""Celery tasks of the core: thin adapters that take ids and call one service function.

Every task is idempotent (the worker runs with `acks_late`, so a task may run twice).
"""

from __future__ import annotations

from celery import shared_task

from sodium import dispatch, outbox, timers
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
# Due timers a sweep claims at a time. When the first batch is full, another worker is asked
# to sweep alongside (and, finding a full batch too, asks the next): a backlog after downtime
# is shared by every worker process instead of waiting for one.
SWEEP_BATCH = 50


def ask_for_help() -> None:
    """Queue a helper sweep; a broker that cannot take it leaves this sweep to carry on alone."""
    dispatch.publish(sweep_timers_helper_task)


@shared_task(acks_late=True, soft_time_limit=SWEEP_SOFT_TIME_LIMIT, time_limit=SWEEP_TIME_LIMIT)
def sweep_timers_task() -> int:
    """Dispatch due timers and run the safety nets (beat runs this every minute).

    Records the sweep's heartbeat when it finishes (read by /health/): a sweep that keeps
    failing, or that beat stops sending, leaves it to age. Helper sweeps record none.
    """
    ran = timers.sweep(batch=SWEEP_BATCH, ask_for_help=ask_for_help)
    heartbeat.record(heartbeat.SWEEP)
    return ran


@shared_task(acks_late=True, soft_time_limit=SWEEP_SOFT_TIME_LIMIT, time_limit=SWEEP_TIME_LIMIT)
def sweep_timers_helper_task() -> int:
    """Dispatch due timers beside a sweep that found a full batch (no safety nets)."""
    return timers.sweep(batch=SWEEP_BATCH, nets=False, ask_for_help=ask_for_help)
