"""The sweep's heartbeat: when the timer sweep last finished, and how late that is.

`sweep_timers_task` records it after every sweep (one UPDATE, an INSERT the first time);
/health/, `manage.py health --sweep` and the `sodium_sweep_age_seconds` metric read it. The
sweep is late when its last run is older than SODIUM_SWEEP_LATE_SECONDS (0, the default,
means three sweep intervals of SODIUM_SWEEP_SECONDS, beat's "sweep-timers" schedule).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from sodium.models import Heartbeat

SWEEP = "sweep"
LATE_INTERVALS = 3


def record(name: str, now: dt.datetime | None = None) -> None:
    """Record that the job `name` finished now (an UPDATE; an INSERT the first time)."""
    now = now or timezone.now()
    if Heartbeat.objects.filter(name=name).update(at=now):
        return
    try:
        with transaction.atomic():
            Heartbeat.objects.create(name=name, at=now)
    except IntegrityError:  # another sweep inserted it first
        Heartbeat.objects.filter(name=name).update(at=now)


def last(name: str) -> dt.datetime | None:
    """Return when the job `name` last finished, or None if it never has."""
    return Heartbeat.objects.filter(name=name).values_list("at", flat=True).first()


def sweep_late_after_seconds() -> float:
    """Return how old the last sweep may be before the sweep counts as late."""
    late = settings.SODIUM_SWEEP_LATE_SECONDS or LATE_INTERVALS * settings.SODIUM_SWEEP_SECONDS
    return float(late)


def sweep_age_seconds(now: dt.datetime | None = None) -> float | None:
    """Return the seconds since the last sweep finished, or None if none ever has."""
    at = last(SWEEP)
    if at is None:
        return None
    return max(0.0, ((now or timezone.now()) - at).total_seconds())
