"""The activity log: every transition, message, client response and edit writes an event."""

from __future__ import annotations

from typing import Any

from django.db import models

from sodium import rows
from sodium.models import ActivityEvent, Client, Practice, Task, User


def record(
    *,
    practice: Practice | int,
    verb: str,
    summary: str,
    actor: User | None = None,
    actor_label: str = "",
    client: Client | None = None,
    task: Task | None = None,
    obj: models.Model | None = None,
    old_status: str = "",
    new_status: str = "",
    data: dict[str, Any] | None = None,
) -> ActivityEvent:
    """Write one activity event; `client` defaults to the task's client.

    Only ids are read from `practice` (a practice or its id), `client` and `task`: a caller
    whose task's practice and client were never loaded writes the event without loading them.
    """
    client_id = client.pk if client is not None else (task.client_id if task else None)
    event = ActivityEvent(
        practice_id=getattr(practice, "pk", practice),
        actor=actor,
        actor_label=actor_label,
        verb=verb,
        summary=summary[:300],
        client_id=client_id,
        task_id=task.pk if task is not None else None,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=obj.pk if obj is not None else None,
        old_status=old_status,
        new_status=new_status,
        data=data or {},
    )
    rows.insert(event)  # every transition writes one: the lean insert, not save()
    return event


def build(
    *,
    practice: Practice | int,
    verb: str,
    summary: str,
    actor_label: str = "",
    actor: User | None = None,
    client_id: int | None = None,
    task_id: int | None = None,
    obj: models.Model | None = None,
    old_status: str = "",
    new_status: str = "",
    data: dict[str, Any] | None = None,
) -> ActivityEvent:
    """Return an unsaved event, for work that records many at once (`bulk_record`)."""
    return ActivityEvent(
        practice_id=getattr(practice, "pk", practice),
        actor=actor,
        actor_label=actor_label,
        task_id=task_id,
        data=data or {},
        verb=verb,
        summary=summary[:300],
        client_id=client_id,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=obj.pk if obj is not None else None,
        old_status=old_status,
        new_status=new_status,
    )


def bulk_record(events: list[ActivityEvent]) -> None:
    """Write many built events in one statement (an AR sweep batch, a bulk task action)."""
    if events:
        ActivityEvent.objects.bulk_create(events)


def changed_fields(instance: models.Model, cleaned: dict[str, Any]) -> list[str]:
    """Return the verbose names of fields in `cleaned` whose value differs on `instance`."""
    names = []
    for field, value in cleaned.items():
        if getattr(instance, field, None) != value:
            names.append(str(instance._meta.get_field(field).verbose_name))
    return names
