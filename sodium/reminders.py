"""The morning reminder: one email each working morning with what is due for a member.

A member asks for it on their preferences page (`User.morning_reminder`); each of their
memberships then has `next_reminder_at`, the next 08:00 on a working day in that practice's
time zone. `send_due(now)`, a timer-sweep safety net, claims the memberships whose moment
has passed (FOR UPDATE SKIP LOCKED, through a partial index: nothing due is one indexed
query), asks every registered section what the member has due, and queues one email when
any section has lines (idempotency key `reminder:<membership>:<local date>`), then moves
the moment to the next working morning. After an outage a member gets today's reminder
once, never the missed days'. Apps register sections (`register_section`) when they load;
workflows lists steps due today and overdue. The core names no app.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_scopes import scopes_disabled

from sodium import outbox, timers
from sodium.models import Membership, Practice, User
from sodium.schedules.practice import today_for, working_calendar
from sodium.tenancy import practice_scope

REMINDER_TIME = dt.time(8)
BATCH = 200


@dataclasses.dataclass(frozen=True)
class Line:
    text: str  # "VAT return for Acme Ltd: Prepare the VAT return"
    when: str  # "Overdue 2 days", "Due today"
    url: str = ""  # a path on the site


@dataclasses.dataclass(frozen=True)
class Section:
    title: str
    lines: list[Line]
    more: int = 0  # lines left out of a long section


# A section: (membership, the practice's today) → a Section, or None when nothing is due.
SECTIONS: dict[str, Callable[[Membership, dt.date], Section | None]] = {}


def register_section(name: str, fn: Callable[[Membership, dt.date], Section | None]) -> None:
    """Add a section to every member's morning reminder (an app's AppConfig.ready)."""
    SECTIONS[name] = fn


def next_moment(practice: Practice, now: dt.datetime) -> dt.datetime:
    """Return the next 08:00 on a working day in the practice's zone, after `now`."""
    zone = ZoneInfo(practice.time_zone)
    calendar = working_calendar(practice)
    day = today_for(practice, now)
    if not calendar.is_working_day(day) or dt.datetime.combine(day, REMINDER_TIME, zone) <= now:
        day = calendar.add_working_days(day, 1)
    return dt.datetime.combine(day, REMINDER_TIME, tzinfo=zone)


@transaction.atomic
def set_morning_reminder(user: User, *, on: bool) -> int:
    """Start or stop a member's morning reminders in every practice; return how many."""
    now = timezone.now()
    with scopes_disabled():
        memberships = list(Membership.objects.filter(user=user).select_related("practice"))
        for m in memberships:
            wanted = next_moment(m.practice, now) if on else None
            if (m.next_reminder_at is None) != (wanted is None):  # keep a pending moment
                m.next_reminder_at = wanted
                m.save(update_fields=["next_reminder_at"])
    return len(memberships)


def send_due(now: dt.datetime) -> int:
    """Send the reminders whose moment has passed (timer-sweep safety net); return how many
    members were served."""
    with transaction.atomic(), scopes_disabled():
        due = list(
            Membership.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(next_reminder_at__lte=now)
            .select_related("practice", "user")
            .order_by("next_reminder_at")[:BATCH]
        )
        for membership in due:
            if membership.user.morning_reminder and membership.user.is_active:
                with practice_scope(membership.practice):
                    _send(membership, now)
                membership.next_reminder_at = next_moment(membership.practice, now)
            else:
                membership.next_reminder_at = None
            membership.save(update_fields=["next_reminder_at"])
    return len(due)


def _send(membership: Membership, now: dt.datetime) -> None:
    today = today_for(membership.practice, now)
    sections = [s for fn in SECTIONS.values() if (s := fn(membership, today)) and s.lines]
    if not sections:
        return
    count = sum(len(s.lines) + s.more for s in sections)
    context = {
        "user": membership.user,
        "practice": membership.practice,
        "sections": sections,
        "site": settings.SITE_URL,
        "today": today,
    }
    outbox.queue_email(
        practice=membership.practice,
        key=f"reminder:{membership.pk}:{today.isoformat()}",
        to=[membership.user.email],
        subject=f"{count} thing{'s' if count != 1 else ''} due today or overdue",
        text=render_to_string("sodium/email/morning_reminder.txt", context),
        html=render_to_string("sodium/email/morning_reminder.html", context),
        source=("sodium.membership", membership.pk),
    )


timers.register_safety_net("sodium.morning_reminders", send_due)
