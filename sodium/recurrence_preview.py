"""What a recurrence will do, before it is saved: its next dates per client, in words.

Clients whose dates are the same (every client of a calendar schedule; clients sharing a year
end or VAT stagger for a client-date one) form one group, so the preview of 5,000 clients is a
handful of date tables. Each date says where it moved and why ("moved from Fri 25 Dec 2026
(Christmas Day)"), the period its task covers, when the task is created and when it is due.
Clients lacking the schedule's date are listed as skipped with the reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from dateutil.relativedelta import relativedelta

from sodium import liquid, recurring
from sodium.models import Client, Recurrence
from sodium.schedules import client_dates, words
from sodium.schedules.errors import ClientDateMissing
from sodium.schedules.practice import today_for, working_calendar
from sodium.schedules.rules import CalendarSchedule, Occurrence, Schedule, schedule_from_json
from sodium.schedules.working_days import Rule

DATES_PER_CLIENT = 12
GROUPS_SHOWN = 8
NAMES_SHOWN = 6


@dataclasses.dataclass(frozen=True)
class PreviewDate:
    date: dt.date
    moved_note: str
    period_label: str
    created_on: dt.date
    due_date: dt.date | None

    @property
    def moved(self) -> bool:
        return bool(self.moved_note)


@dataclasses.dataclass
class PreviewGroup:
    """Clients that share their dates, the rule in their words, and the dates."""

    words: str
    dates: list[PreviewDate]
    client_names: list[str]
    client_count: int
    example_task_name: str = ""
    name_problem: str = ""

    @property
    def more_clients(self) -> int:
        return self.client_count - len(self.client_names)


@dataclasses.dataclass
class Preview:
    words: str
    groups: list[PreviewGroup]
    skipped: list[tuple[str, str]]  # (client name, reason), the first few
    skipped_count: int
    client_count: int
    hidden_groups: int = 0

    @property
    def moved_count(self) -> int:
        return sum(1 for group in self.groups for day in group.dates if day.moved)


def _key(schedule: Schedule, client: Client) -> tuple:
    if isinstance(schedule, CalendarSchedule):
        return ()
    field = schedule.field or client_dates.CONFIRMATION_STATEMENT_FIELD
    return (
        client.year_end_day,
        client.year_end_month,
        client.vat_periods,
        getattr(client, field, None),
    )


def _example_name(
    recurrence: Recurrence, client: Client, period, today: dt.date
) -> tuple[str, str]:
    context = recurring.task_name_context(recurrence, client, period, today)
    try:
        return " ".join(liquid.render_string(recurrence.task_name, context).split()), ""
    except liquid.TemplateError as exc:
        return "", f"The task name does not render for {client.name}: {exc}"


def _dates(
    recurrence: Recurrence, schedule: Schedule, occurrences: list[Occurrence], client, today
) -> list[PreviewDate]:
    rows = []
    for occurrence in occurrences:
        period = recurring.period_of(schedule, occurrence, client)
        created = occurrence.date - relativedelta(days=recurrence.lead_days)
        rows.append(
            PreviewDate(
                date=occurrence.date,
                moved_note=words.moved_note(occurrence),
                period_label=period.label,
                created_on=max(created, today),
                due_date=recurring.due_date_of(recurrence, occurrence, client),
            )
        )
    return rows


def build_preview(
    recurrence: Recurrence,
    clients: Iterable[Client],
    *,
    today: dt.date | None = None,
    dates: int = DATES_PER_CLIENT,
) -> Preview:
    """Return the next `dates` dates of an (unsaved or saved) recurrence for `clients`."""
    practice = recurrence.practice
    today = today or today_for(practice)
    schedule = schedule_from_json(recurrence.schedule)
    rule, calendar = Rule(recurrence.working_day_rule), working_calendar(practice)
    groups: dict[tuple, PreviewGroup] = {}
    skipped: list[tuple[str, str]] = []
    skipped_count = client_count = 0
    missing: dict[tuple, str] = {}
    for client in clients:
        client_count += 1
        key = _key(schedule, client)
        if key in missing:
            skipped_count += 1
            if len(skipped) < 20:
                skipped.append((client.name, missing[key]))
            continue
        group = groups.get(key)
        if group is None:
            try:
                found = schedule.next(
                    dates, after=today, rule=rule, calendar=calendar, client=client
                )
            except ClientDateMissing as exc:
                missing[key] = exc.reason
                skipped_count += 1
                if len(skipped) < 20:
                    skipped.append((client.name, exc.reason))
                continue
            rows = _dates(recurrence, schedule, found, client, today)
            group = PreviewGroup(
                words=words.describe(schedule, rule, client=client),
                dates=rows,
                client_names=[],
                client_count=0,
            )
            if found:
                period = recurring.period_of(schedule, found[0], client)
                group.example_task_name, group.name_problem = _example_name(
                    recurrence, client, period, today
                )
            groups[key] = group
        group.client_count += 1
        if len(group.client_names) < NAMES_SHOWN:
            group.client_names.append(client.name)
    ordered = sorted(
        groups.values(),
        key=lambda g: (g.dates[0].date if g.dates else dt.date.max, -g.client_count),
    )
    return Preview(
        words=words.describe(schedule, rule),
        groups=ordered[:GROUPS_SHOWN],
        hidden_groups=max(0, len(ordered) - GROUPS_SHOWN),
        skipped=skipped,
        skipped_count=skipped_count,
        client_count=client_count,
    )


def next_dates_for_client(recurrence: Recurrence, client: Client, *, count: int = 3, today=None):
    """Return a client's next dates of one recurrence, or the reason it is skipped."""
    preview = build_preview(recurrence, [client], today=today, dates=count)
    if preview.groups:
        return preview.groups[0], ""
    return None, preview.skipped[0][1] if preview.skipped else ""


def recurrences_for_client(client: Client) -> list[Recurrence]:
    """Return the practice's recurrences whose selection includes the client (four queries)."""
    practice_id = client.practice_id
    recurrences = list(
        Recurrence.objects.filter(practice_id=practice_id).select_related("practice", "service")
    )
    if client.status != Client.Status.ACTIVE:
        return []
    tag_ids = set(client.tags.values_list("pk", flat=True))
    service_ids = set(client.client_services.values_list("service_id", flat=True))
    chosen = set(
        Recurrence.clients.through.objects.filter(client_id=client.pk).values_list(
            "recurrence_id", flat=True
        )
    )
    selection = Recurrence.Clients

    def covers(recurrence: Recurrence) -> bool:
        if recurrence.client_selection == selection.CHOSEN:
            return recurrence.pk in chosen
        if recurrence.client_selection == selection.TAG:
            return recurrence.tag_id in tag_ids
        if recurrence.client_selection == selection.SERVICE:
            return recurrence.service_id in service_ids
        return True

    return [recurrence for recurrence in recurrences if covers(recurrence)]
