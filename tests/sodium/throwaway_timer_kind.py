"""A throwaway app's timer kind, registered the way an app registers one in its AppConfig.ready,
with no edit to the core or workflows: a reminder that notes the client once it falls due and
repeats weekly until it is cancelled."""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta

from sodium import activity, timers
from sodium.models import Client, Timer

KIND = "throwaway.reminder"


def key_of(client: Client) -> str:
    return f"throwaway:{client.pk}:reminder"


def schedule_reminder(client: Client, due_at: dt.datetime) -> Timer:
    return timers.schedule(
        practice=client.practice_id,
        kind=KIND,
        target_id=client.pk,
        due_at=due_at,
        key=key_of(client),
    )


def remind(timer: Timer) -> None:
    client = Client.objects.get(pk=timer.target_id)
    activity.record(
        practice=client.practice, verb="throwaway.reminded", client=client, summary="Reminder"
    )
    schedule_reminder(client, timer.due_at + relativedelta(weeks=1))


def register() -> None:
    timers.register(KIND, remind)


def unregister() -> None:
    timers.HANDLERS.pop(KIND, None)
