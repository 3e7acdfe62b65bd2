"""Celery tasks of the AR app: thin adapters over `collections_ar.running`."""

from __future__ import annotations

from celery import shared_task

from collections_ar import running


@shared_task(acks_late=True)
def run_actions_task(run_ids: list[int]) -> int:
    """Do one batch of due AR action runs; a run done already (a duplicate delivery) is not
    done again."""
    return running.run_batch(run_ids)
