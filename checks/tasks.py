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


# A run's checks take seconds (each is under a second on a million-line ledger); the limits
# leave room for a slow database. A run left running past the hard limit + a minute belongs
# to a worker that died: the sweep fails it (checks.runs.redispatch_stale_runs).
CHECK_RUN_SOFT_TIME_LIMIT = 300
CHECK_RUN_TIME_LIMIT = 330


@shared_task(
    acks_late=True,
    soft_time_limit=CHECK_RUN_SOFT_TIME_LIMIT,
    time_limit=CHECK_RUN_TIME_LIMIT,
)
def run_checks_task(run_id: int, practice_id: int) -> None:
    """Run a queued data-health run; a second delivery of a claimed or finished run does
    nothing."""
    from checks import runs  # runs enqueues this task: import it late

    with practice_scope(practice_id):
        runs.run_requested_checks(run_id)
