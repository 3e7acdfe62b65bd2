"""Create, change, pause and resume recurrences; their tasks come from `sodium.recurring`.

None of these touch tasks already created: a change applies from the next generation, which
each of them brings forward to the next sweep (`next_run_at = now`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sodium import activity
from sodium.models import Client, Practice, Recurrence, User
from sodium.recurring import recurrence_errors


class RecurrenceInvalid(ValidationError):
    """The recurrence cannot be saved; `message_dict` maps fields to messages."""


def _check(recurrence: Recurrence) -> None:
    errors = recurrence_errors(recurrence)
    if errors:
        raise RecurrenceInvalid(errors)


def _local_today(practice: Practice, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(practice.time_zone)).date()


@transaction.atomic
def create_recurrence(
    *,
    practice: Practice,
    actor: User | None,
    clients: list[Client] | None = None,
    now: dt.datetime | None = None,
    **fields: Any,
) -> Recurrence:
    """Create a recurrence; its first tasks come at the next sweep.

    Periods starting before today are not created (a new recurrence does not back-fill
    history). Raises RecurrenceInvalid with field errors.
    """
    now = now or timezone.now()
    recurrence = Recurrence(
        practice=practice, created_by=actor, created_at=now, updated_at=now, **fields
    )
    _check(recurrence)
    recurrence.generated_until = _local_today(practice, now) - relativedelta(days=1)
    recurrence.next_run_at = None if recurrence.paused else now
    recurrence.save()
    if clients:
        recurrence.clients.set(clients)
    activity.record(
        practice=practice,
        actor=actor,
        verb="recurrence.created",
        obj=recurrence,
        summary=f"Created the recurrence {recurrence.name}",
    )
    return recurrence


@transaction.atomic
def update_recurrence(
    recurrence: Recurrence,
    *,
    actor: User | None,
    clients: list[Client] | None = None,
    now: dt.datetime | None = None,
    **fields: Any,
) -> Recurrence:
    """Change a recurrence from its next generation on; tasks already created stay as they are.

    Raises RecurrenceInvalid with field errors.
    """
    now = now or timezone.now()
    fields.pop("paused", None)  # through pause_recurrence / resume_recurrence
    changed = activity.changed_fields(recurrence, fields)
    for name, value in fields.items():
        setattr(recurrence, name, value)
    _check(recurrence)
    recurrence.updated_at = now
    if not recurrence.paused:
        recurrence.next_run_at = now
    recurrence.save(update_fields=[*fields, "updated_at", "next_run_at"])
    if clients is not None:
        recurrence.clients.set(clients)
        changed.append("clients")
    if changed:
        activity.record(
            practice=recurrence.practice,
            actor=actor,
            verb="recurrence.updated",
            obj=recurrence,
            summary=f"Changed {', '.join(changed)} of the recurrence {recurrence.name}",
        )
    return recurrence


@transaction.atomic
def pause_recurrence(recurrence: Recurrence, *, actor: User | None) -> Recurrence:
    """Stop creating the recurrence's tasks until it is resumed."""
    if recurrence.paused:
        return recurrence
    recurrence.paused = True
    recurrence.next_run_at = None
    recurrence.save(update_fields=["paused", "next_run_at"])
    activity.record(
        practice=recurrence.practice,
        actor=actor,
        verb="recurrence.paused",
        obj=recurrence,
        summary=f"Paused the recurrence {recurrence.name}",
    )
    return recurrence


@transaction.atomic
def resume_recurrence(
    recurrence: Recurrence, *, actor: User | None, now: dt.datetime | None = None
) -> Recurrence:
    """Start creating tasks again from today: periods that started while paused are not made."""
    if not recurrence.paused:
        return recurrence
    now = now or timezone.now()
    yesterday = _local_today(recurrence.practice, now) - relativedelta(days=1)
    recurrence.paused = False
    recurrence.generated_until = max(recurrence.generated_until or yesterday, yesterday)
    recurrence.next_run_at = now
    recurrence.save(update_fields=["paused", "generated_until", "next_run_at"])
    activity.record(
        practice=recurrence.practice,
        actor=actor,
        verb="recurrence.resumed",
        obj=recurrence,
        summary=f"Resumed the recurrence {recurrence.name}",
    )
    return recurrence
