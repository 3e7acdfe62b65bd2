"""The demo's recurring work, with a year of history: `build_recurring_history`.

Four recurrences — quarterly VAT, annual accounts, monthly payroll and confirmation
statements — are created as if a year ago, then the recurrences' own sweep
(`recurring.generate_due`) runs at each moment one of them came due, up to now, so every
period of the past year has its task exactly as a year of sweeps would have made it. Tasks
whose deadline is well past are then done, started ones in progress, and the ones the lead
time created ahead of their start stay planned: the task list shows history and upcoming work.
Every status moves through `sodium.engine`.

The core names no app: workflows' demo (`workflows/demo.py`) attaches its templates to the
open tasks and gives the recurrences their template for the periods still to come.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.db.models import Min

from sodium import engine, recurring
from sodium.models import Practice, Recurrence, Service, Tag, Task, User
from sodium.schedules import client_dates
from sodium.schedules.practice import today_for
from sodium.schedules.rules import Anchor, CalendarSchedule, ClientDateSchedule, Frequency
from sodium.schedules.working_days import Rule
from sodium.services.recurrences import create_recurrence

R = Recurrence

VAT = "Quarterly VAT"
ACCOUNTS = "Annual accounts"
PAYROLL = "Monthly payroll"
CONFIRMATION_STATEMENTS = "Confirmation statements"

# The services whose tasks come from these recurrences (the demo makes no one-off tasks for
# them).
RECURRING_SERVICES = frozenset(
    {"VAT returns", "Year-end accounts", "Payroll", "Company secretarial"}
)
# How far back the recurrences start, and how long after its deadline a task counts as long
# finished (done); a started task whose deadline is nearer stays in progress.
HISTORY_MONTHS = 12
SETTLED_AFTER = relativedelta(days=7)


def _specs(practice: Practice, since: dt.date) -> list[dict]:
    services = {s.name: s for s in Service.objects.filter(practice=practice)}
    vat_registered = Tag.objects.get(practice=practice, name="VAT registered")
    return [
        {
            # Seven days after each VAT period ends (the next working day), due on HMRC's
            # deadline, for every VAT-registered client (the tag goes with a VAT stagger).
            "name": VAT,
            "service": services["VAT returns"],
            "schedule": ClientDateSchedule(Anchor.VAT_PERIOD_END, offset=7).to_json(),
            "working_day_rule": Rule.AFTER,
            "task_name": "{{ client.name }} VAT {{ period.label }}",
            "lead_days": 21,
            "due_rule": R.DueRule.VAT_RETURN,
            "client_selection": R.Clients.TAG,
            "tag": vat_registered,
        },
        {
            "name": ACCOUNTS,
            "service": services["Year-end accounts"],
            "schedule": ClientDateSchedule(Anchor.YEAR_END, offset=1, unit="months").to_json(),
            "working_day_rule": Rule.AFTER,
            "task_name": "{{ client.name }} accounts {{ period.label }}",
            "lead_days": 14,
            "due_rule": R.DueRule.ACCOUNTS,
            "client_selection": R.Clients.SERVICE,
        },
        {
            # Pay day on the 25th, the working day before when it is not one; the run is due
            # three days after it starts. Created three weeks ahead, like VAT: between them
            # some work is always coming up, whatever the day (the VAT starts are around the
            # 7th, pay days around the 25th).
            "name": PAYROLL,
            "service": services["Payroll"],
            "schedule": CalendarSchedule(Frequency.MONTHLY, start=since, month_day=25).to_json(),
            "working_day_rule": Rule.BEFORE,
            "task_name": "{{ client.name }} payroll {{ period.label }}",
            "lead_days": 21,
            "due_rule": R.DueRule.OFFSET,
            "due_offset": 3,
            "due_unit": "days",
            "owner_rule": R.OwnerRule.SERVICE_MANAGER,
            "client_selection": R.Clients.SERVICE,
        },
        {
            # From the review date to the statement's deadline 14 days later, for clients
            # with the company secretarial service (the others have no review date).
            "name": CONFIRMATION_STATEMENTS,
            "service": services["Company secretarial"],
            "schedule": ClientDateSchedule(Anchor.CONFIRMATION_STATEMENT_DUE, offset=-14).to_json(),
            "task_name": "{{ client.name }} confirmation statement {{ period.label }}",
            "lead_days": 30,
            "due_rule": R.DueRule.CONFIRMATION_STATEMENT,
            "owner_rule": R.OwnerRule.CLIENT_PARTNER,
            "client_selection": R.Clients.SERVICE,
        },
    ]


def sweep_through(practice: Practice, *, since: dt.datetime, now: dt.datetime) -> int:
    """Run the recurrences' sweep at `since` and at each next run that came before `now`.

    Each run moves its recurrence's `next_run_at` past the moment it ran at, so this makes
    what a sweep every minute of that time would have. Returns how many tasks it created.
    """
    created, moment = 0, since
    pending = Recurrence.objects.filter(practice=practice, paused=False)
    while True:
        created += recurring.generate_due(practice, now=moment)
        moment = pending.aggregate(first=Min("next_run_at"))["first"]
        if moment is None or moment > now:
            return created


def settle(practice: Practice, *, today: dt.date) -> None:
    """Start the generated tasks whose start date has come; finish those long past due."""
    started = (
        Task.objects.filter(
            practice=practice,
            recurrence__isnull=False,
            status=Task.Status.PLANNED,
            start_date__lte=today,
        )
        .select_related("practice", "owner")
        .order_by("start_date", "pk")
    )
    finished_before = today - SETTLED_AFTER
    for task in started:
        task = engine.change_task_status(task, to=Task.Status.IN_PROGRESS, actor=task.owner)
        if task.due_date and task.due_date < finished_before:
            engine.change_task_status(task, to=Task.Status.DONE, actor=task.owner)


def build_recurring_history(
    practice: Practice, *, actor: User, now: dt.datetime, months: int = HISTORY_MONTHS
) -> list[Recurrence]:
    """Create the demo's recurrences `months` back (a year) and their tasks up to `now` (in
    its scope)."""
    today = today_for(practice, now)
    since_day = client_dates.months_after(today, -months)
    since = dt.datetime.combine(since_day, dt.time(8), tzinfo=ZoneInfo(practice.time_zone))
    recurrences = [
        create_recurrence(practice=practice, actor=actor, now=since, **spec)
        for spec in _specs(practice, since_day)
    ]
    sweep_through(practice, since=since, now=now)
    settle(practice, today=today)
    return recurrences
