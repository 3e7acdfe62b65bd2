"""Celery tasks for checks: thin, idempotent adapters over the engine."""

from __future__ import annotations

from celery import shared_task

from checks import limits
from sodium.tenancy import practice_scope


@shared_task(
    acks_late=True,
    soft_time_limit=limits.TASK_SOFT_TIME_LIMIT,
    time_limit=limits.TASK_TIME_LIMIT,
)
def import_ledger_task(import_id: int, practice_id: int) -> None:
    """Import a ledger file; a second delivery of a claimed or finished import does nothing."""
    from checks import engine  # the engine enqueues this task: import it late

    with practice_scope(practice_id):
        engine.run_import(import_id)
