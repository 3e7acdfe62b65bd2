"""Celery tasks for workflows: thin, idempotent adapters over the engine."""

from __future__ import annotations

from celery import shared_task
from django_scopes import scopes_disabled

from sodium import outbox
from sodium.tenancy import practice_scope
from workflows import engine
from workflows.models import Step


@shared_task(acks_late=True)
def run_step_task(step_id: int) -> None:
    """Run an automatic step; a duplicate or late delivery finds nothing to do.

    The email it queues is sent by this task once the run commits (no second task).
    """
    with scopes_disabled():
        practice_id = Step.objects.filter(pk=step_id).values_list("practice_id", flat=True).first()
    if practice_id is None:
        return
    with outbox.delivered_by_this_worker(), practice_scope(practice_id):
        engine.run_step(step_id)
