"""Celery tasks for workflows: thin, idempotent adapters over the engine."""

from __future__ import annotations

from celery import shared_task

from sodium import outbox
from sodium.tenancy import practice_scope
from workflows import engine


@shared_task(acks_late=True)
def run_step_task(step_id: int) -> None:
    """Run an automatic step; a duplicate or late delivery finds nothing to do.

    The email it queues is sent by this task once the run commits (no second task).
    """
    practice_id = engine.practice_of_step(step_id)
    if practice_id is None:
        return
    with outbox.delivered_by_this_worker(), practice_scope(practice_id):
        engine.run_step(step_id)
