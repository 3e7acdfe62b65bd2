"""Recurring tasks: generate each recurrence's tasks, once per client and period, from the sweep.

Generation works on a window of start dates. `Recurrence.generated_until` is the last start
date already generated; a run on day T (the practice's day) creates every occurrence starting
after it and on or before T + lead days, then moves it to T + lead. So after an outage of any
length each missed period is created once, none skipped; a client added to the tag or service
later is picked up from the next run's window on; editing the lead time leaves no gap. Tasks
are made in a fixed number of statements for any number of clients (`_create_tasks`): the
periods' `RecurrenceOccurrence` rows, unique on (recurrence, client, period), are claimed
first, so only what this run claimed gets a task and a racing sweep's copies are dropped.
The sweep also claims recurrences with FOR UPDATE SKIP LOCKED, so two sweeps rarely even try.

A client lacking the schedule's date (no year end, no VAT stagger) or whose task name does not
render is skipped with a reason in `Recurrence.last_skips`, never a crash and never half a task.
The workflow template is attached through the attacher workflows registers (the core imports
no app), in bulk, once per run; if it fails the run's tasks and claims are rolled back and
retried later.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo

from celery.exceptions import SoftTimeLimitExceeded
from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from sodium import engine as core_engine
from sodium import liquid, recurring_rows
from sodium.assignment import CLIENT_ROLES
from sodium.messaging import variables
from sodium.messaging.context import client_context, format_date
from sodium.models import (
    Client,
    ClientService,
    Recurrence,
    RecurrenceOccurrence,
    Task,
)
from sodium.schedules import client_dates
from sodium.schedules.errors import ClientDateMissing, ScheduleError
from sodium.schedules.practice import today_for, working_calendar
from sodium.schedules.rules import (
    Anchor,
    CalendarSchedule,
    ClientDateSchedule,
    Frequency,
    Occurrence,
    OffsetUnit,
    Schedule,
    schedule_from_json,
)
from sodium.schedules.working_days import LONGEST_BREAK_DAYS, Rule
from sodium.tenancy import practice_scope

log = logging.getLogger(__name__)

ONE_DAY = relativedelta(days=1)
# A client-date recurrence runs at least this often, so a client added to its tag or service,
# or given a year end, is picked up within a week even when nobody else is due sooner.
RECHECK = relativedelta(days=7)
RETRY = relativedelta(hours=1)
R = Recurrence

# --- the task name's Liquid variables ----------------------------------------------------

TASK_NAME_USE = "sodium.recurring_task_name"
PERIOD = variables.Group(
    "period",
    "Period",
    (
        variables.Variable("period.label", "The period the task covers", "Jul–Sep 2026"),
        variables.Variable("period.start", "The period's first day", "1 July 2026"),
        variables.Variable("period.end", "The period's last day", "30 September 2026"),
    ),
)
RECURRING = variables.Group(
    "recurring",
    "Recurring work",
    (
        variables.Variable("recurrence.name", "The recurrence's name", "Quarterly VAT"),
        variables.Variable("service.name", "The service it is for", "VAT returns"),
    ),
)


def register_message_use() -> None:
    """Register the variables a recurring task's name may use (SodiumConfig.ready)."""
    variables.register_group(PERIOD)
    variables.register_group(RECURRING)
    variables.register_use(
        variables.Use(
            TASK_NAME_USE,
            "Recurring task name",
            ("practice", "client", PERIOD.key, RECURRING.key, "today"),
            description="The name of each task a recurrence creates.",
            channels=(),
        )
    )


# --- the workflow template attacher (registered by workflows) ----------------------------


@dataclasses.dataclass(frozen=True)
class TemplateAttacher:
    """How an app attaches a template to generated tasks.

    `problem(practice_id, template_id)` says why the template cannot be attached (archived,
    no steps, unknown) or returns None; `attach(tasks, template_id)` attaches it to every
    task (all of one practice) and raises to refuse; `choices(practice_id)` lists the
    templates the recurrence editor offers, as (id, name).
    """

    problem: Callable[[int, int], str | None]
    attach: Callable[[list[Task], int], None]
    choices: Callable[[int], list[tuple[int, str]]] = lambda practice_id: []


_ATTACHERS: list[TemplateAttacher] = []


def register_template_attacher(attacher: TemplateAttacher) -> None:
    """Use `attacher` for recurrences that name a workflow template (one app provides it)."""
    _ATTACHERS[:] = [attacher]


def registered_attacher() -> TemplateAttacher | None:
    """Return the registered template attacher, or None when no app provides one."""
    return _ATTACHERS[0] if _ATTACHERS else None


# --- periods, dates and owners -----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    label: str


def _month_span(start: dt.date, end: dt.date) -> str:
    if start.year == end.year:
        return f"{start:%b}–{end:%b %Y}"
    return f"{start:%b %Y}–{end:%b %Y}"


def period_of(schedule: Schedule, occurrence: Occurrence, client: Any) -> Period:
    """Return the period an occurrence's task covers ("Jul–Sep 2026", "year to 31 March 2026")."""
    anchor = occurrence.anchor
    if isinstance(schedule, ClientDateSchedule):
        if schedule.anchor is Anchor.VAT_PERIOD_END:
            stagger = getattr(client, "vat_periods", "")
            start = client_dates.vat_period_start(anchor, stagger)
            label = f"{anchor:%b %Y}" if stagger == "monthly" else _month_span(start, anchor)
            return Period(start, anchor, label)
        if schedule.anchor in (Anchor.YEAR_END, Anchor.ACCOUNTS_DUE):
            start = client_dates.months_after(anchor, -12) + ONE_DAY
            return Period(start, anchor, f"year to {format_date(anchor)}")
        return Period(anchor, anchor, format_date(anchor))
    if schedule.frequency is Frequency.MONTHLY:
        start, end = anchor + relativedelta(day=1), anchor + relativedelta(day=31)
        if schedule.interval == 1:
            return Period(start, end, f"{anchor:%B %Y}")
        start = start + relativedelta(months=1 - schedule.interval)
        return Period(start, end, _month_span(start, end))
    if schedule.frequency is Frequency.YEARLY:
        return Period(anchor + relativedelta(month=1, day=1), anchor, str(anchor.year))
    if schedule.frequency is Frequency.WEEKLY:
        return Period(anchor, anchor + relativedelta(days=6), f"week of {format_date(anchor)}")
    return Period(anchor, anchor, format_date(anchor))


def due_date_of(recurrence: Recurrence, occurrence: Occurrence, client: Any) -> dt.date | None:
    """Return the task's due date: a time after its start, or the statutory deadline."""
    rule = recurrence.due_rule
    if rule == R.DueRule.OFFSET:
        if recurrence.due_unit == OffsetUnit.MONTHS:
            return client_dates.months_after(occurrence.date, recurrence.due_offset)
        return occurrence.date + relativedelta(**{recurrence.due_unit: recurrence.due_offset})
    if rule == R.DueRule.VAT_RETURN:
        annual = getattr(client, "vat_periods", "") == "annual"
        return client_dates.vat_due_date(occurrence.anchor, annual=annual)
    if rule == R.DueRule.ACCOUNTS:
        return client_dates.accounts_due_date(occurrence.anchor)
    if rule == R.DueRule.CONFIRMATION_STATEMENT:
        return client_dates.confirmation_statement_due_date(occurrence.anchor)
    return None


def owner_id_of(recurrence: Recurrence, client: Client, managers: dict[int, int | None]) -> Any:
    """Return the id of the member who owns the client's task, by the recurrence's rule."""
    rule = recurrence.owner_rule
    if rule in CLIENT_ROLES:
        return getattr(client, f"{CLIENT_ROLES[rule][0]}_id")
    if rule == R.OwnerRule.SERVICE_MANAGER:
        return managers.get(client.pk)
    if rule == R.OwnerRule.SPECIFIC:
        return recurrence.owner_id
    return None


def selected_clients(recurrence: Recurrence) -> Iterable[Client]:
    """Return the active clients the recurrence is for now (one query)."""
    active = Client.objects.filter(practice_id=recurrence.practice_id, status=Client.Status.ACTIVE)
    selection = recurrence.client_selection
    if selection == R.Clients.CHOSEN:
        clients = active.filter(chosen_recurrences=recurrence)
    elif selection == R.Clients.TAG:
        clients = active.filter(tags=recurrence.tag_id) if recurrence.tag_id else active.none()
    elif selection == R.Clients.SERVICE:
        service = recurrence.service_id
        clients = active.filter(client_services__service=service) if service else active.none()
    else:
        clients = active
    return clients.distinct().order_by("pk")


# --- generation --------------------------------------------------------------------------


def _midnight(recurrence: Recurrence, day: dt.date) -> dt.datetime:
    tz = ZoneInfo(recurrence.practice.time_zone)
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


def _client_key(schedule: Schedule, client: Client) -> tuple:
    # Clients with the same dates get the same occurrences: compute them once per key.
    if isinstance(schedule, CalendarSchedule):
        return ()
    field = schedule.field or client_dates.CONFIRMATION_STATEMENT_FIELD
    custom = getattr(client, field, None)
    return (client.year_end_day, client.year_end_month, client.vat_periods, custom)


@dataclasses.dataclass
class _Run:
    """One generation of one recurrence: its dates, the tasks it made and whom it skipped."""

    recurrence: Recurrence
    schedule: Schedule
    today: dt.date
    skips: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    created: list[Task] = dataclasses.field(default_factory=list)

    def skip(self, client: Client | None, reason: str) -> None:
        self.skips.append(
            {
                "client": client.pk if client else None,
                "name": client.name if client else "",
                "reason": reason,
            }
        )


def _occurrences_by_client(run: _Run, clients: list[Client], after: dt.date, before: dt.date):
    recurrence = run.recurrence
    rule, calendar = Rule(recurrence.working_day_rule), working_calendar(recurrence.practice)
    cache: dict[tuple, list[Occurrence] | str] = {}
    for client in clients:
        key = _client_key(run.schedule, client)
        if key not in cache:
            try:
                cache[key] = run.schedule.occurrences(
                    after, before, rule=rule, calendar=calendar, client=client
                )
            except ClientDateMissing as missing:
                cache[key] = missing.reason
        found = cache[key]
        if isinstance(found, str):
            run.skip(client, found)
        elif found:
            yield client, found


def task_name_context(
    recurrence: Recurrence, client: Client, period: Period, today: dt.date
) -> dict[str, Any]:
    """Return the Liquid variables of a generated task's name (use TASK_NAME_USE)."""
    context = client_context(practice=recurrence.practice, client=client, contacts=[])
    context.pop("contacts", None)  # not in the use: a name needs no contact, and no query
    context["today"] = format_date(today)
    context["period"] = {
        "label": period.label,
        "start": format_date(period.start),
        "end": format_date(period.end),
    }
    context["recurrence"] = {"name": recurrence.name}
    context["service"] = {"name": recurrence.service.name if recurrence.service_id else ""}
    return context


def _task_name(run: _Run, client: Client, period: Period) -> str:
    context = task_name_context(run.recurrence, client, period, run.today)
    name = " ".join(liquid.render_string(run.recurrence.task_name, context).split())
    if not name:
        raise liquid.TemplateError("the task name comes out empty", syntax=False)
    return name[: Task._meta.get_field("name").max_length]


def _create_tasks(run: _Run, pending: list[tuple[Client, Occurrence]]) -> None:
    """Create the pending periods' tasks in bulk, each once however many sweeps race.

    Claims the periods first (one INSERT … ON CONFLICT DO NOTHING RETURNING): a period
    another sweep already holds, committed or not, is not returned (PostgreSQL waits for the
    other's commit), so its task is left to that sweep. Then the claimed tasks, with their
    events and timers (`engine.create_tasks`), and one UPDATE linking periods to tasks.
    """
    recurrence = run.recurrence
    managers: dict[int, int | None] = {}
    if recurrence.owner_rule == R.OwnerRule.SERVICE_MANAGER and recurrence.service_id:
        managers = dict(
            ClientService.objects.filter(
                practice_id=recurrence.practice_id, service_id=recurrence.service_id
            ).values_list("client_id", "service_manager_id")
        )
    team_id = recurrence.service.default_team_id if recurrence.service_id else None
    tasks: dict[tuple[int, str], Task] = {}
    for client, occurrence in pending:
        period = period_of(run.schedule, occurrence, client)
        try:
            name = _task_name(run, client, period)
        except liquid.TemplateError as exc:
            run.skip(client, f"{period.label}: the task name does not render ({exc})")
            continue
        tasks[(client.pk, occurrence.anchor.isoformat())] = Task(
            client=client,
            name=name,
            service_id=recurrence.service_id,
            owner_id=owner_id_of(recurrence, client, managers),
            team_id=team_id,
            start_date=occurrence.date,
            due_date=due_date_of(recurrence, occurrence, client),
            recurrence=recurrence,
            period_start=period.start,
            period_end=period.end,
            period_label=period.label,
        )
    claimed = recurring_rows.claim(recurrence, list(tasks))
    mine = [(key, task) for key, task in tasks.items() if key in claimed]
    core_engine.create_tasks(
        practice=recurrence.practice, actor=None, tasks=[task for _, task in mine]
    )
    recurring_rows.link(recurrence.practice_id, [(claimed[key], task.pk) for key, task in mine])
    run.created.extend(task for _, task in mine)


def _next_start(run: _Run, clients: list[Client], after: dt.date) -> dt.date | None:
    """Return the first start date after the window, or None when the schedule has ended."""
    recurrence, schedule = run.recurrence, run.schedule
    rule, calendar = Rule(recurrence.working_day_rule), working_calendar(recurrence.practice)
    if isinstance(schedule, CalendarSchedule):
        found = schedule.next(1, after=after, rule=rule, calendar=calendar)
        return found[0].date if found else None
    if schedule.end is not None and schedule.end + relativedelta(days=LONGEST_BREAK_DAYS) < after:
        return None
    soonest = run.today + RECHECK + relativedelta(days=recurrence.lead_days)
    seen: set[tuple] = set()
    for client in clients:
        key = _client_key(schedule, client)
        if key in seen:
            continue
        seen.add(key)
        try:
            found = schedule.next(1, after=after, rule=rule, calendar=calendar, client=client)
        except ClientDateMissing:
            continue
        if found and found[0].date < soonest:
            soonest = found[0].date
    return soonest


def generate(recurrence: Recurrence, now: dt.datetime) -> list[Task]:
    """Create the recurrence's due tasks and set when it runs next; return the new tasks.

    Call inside a transaction (and the practice's scope) holding the recurrence's row lock.
    """
    today = today_for(recurrence.practice, now)
    try:
        schedule = schedule_from_json(recurrence.schedule)
    except ScheduleError as exc:
        recurrence.last_skips = [{"client": None, "name": "", "reason": f"schedule: {exc}"}]
        recurrence.next_run_at = None
        recurrence.save(update_fields=["last_skips", "next_run_at"])
        return []
    run = _Run(recurrence, schedule, today)
    if recurrence.generated_until is not None:
        after = recurrence.generated_until + ONE_DAY
    else:
        after = today_for(recurrence.practice, recurrence.created_at)
    until = today + relativedelta(days=recurrence.lead_days)
    clients = list(selected_clients(recurrence))
    pending: list[tuple[Client, Occurrence]] = []
    if after <= until:
        found = list(_occurrences_by_client(run, clients, after, until + ONE_DAY))
        keys = {o.anchor.isoformat() for _, occurrences in found for o in occurrences}
        done = set(
            RecurrenceOccurrence.objects.filter(
                practice_id=recurrence.practice_id, recurrence=recurrence, period_key__in=keys
            ).values_list("client_id", "period_key")
        )
        pending = [
            (client, o)
            for client, occurrences in found
            for o in occurrences
            if (client.pk, o.anchor.isoformat()) not in done
        ]
    try:
        with transaction.atomic():
            _create_tasks(run, pending)
            if run.created and recurrence.workflow_template_id:
                attacher = registered_attacher()
                if attacher is None:
                    raise LookupError("workflow templates are not available")
                attacher.attach(run.created, recurrence.workflow_template_id)
    except SoftTimeLimitExceeded:
        raise  # the sweep's time is up: roll back and stay due, as the timer sweep does
    except Exception as exc:  # noqa: BLE001 - a refused attach must not lose the periods
        # Every task of the run rolled back with it and the window stays where it was, so
        # the retry creates them all.
        log.warning("recurrence %s: tasks not created: %s", recurrence.pk, exc)
        run.created = []
        run.skip(None, f"tasks not created: {exc}")
        recurrence.last_skips = run.skips
        recurrence.next_run_at = now + RETRY
        recurrence.save(update_fields=["last_skips", "next_run_at"])
        return []
    generated_until = max(until, recurrence.generated_until or until)
    next_start = _next_start(run, clients, generated_until + ONE_DAY)
    if next_start is None:
        next_run_at = None
    else:
        creation = max(next_start - relativedelta(days=recurrence.lead_days), today + ONE_DAY)
        next_run_at = _midnight(recurrence, creation)
    recurrence.generated_until = generated_until
    recurrence.next_run_at = next_run_at
    recurrence.last_skips = run.skips
    recurrence.save(update_fields=["generated_until", "next_run_at", "last_skips"])
    return run.created


def generate_due(
    practice: Any = None, now: dt.datetime | None = None, *, batch: int = 20, max_batches: int = 50
) -> int:
    """Generate every recurrence whose next run has come (of one practice, or all).

    Claims due recurrences in batches with FOR UPDATE SKIP LOCKED, so concurrent sweeps share
    the work; each runs in its own savepoint and always moves its `next_run_at` past `now`,
    so a batch never comes back in the same sweep. Nothing due costs one query. Returns how
    many tasks were created.
    """
    now = now or timezone.now()
    with scopes_disabled():  # cross-tenant by design, like the timer claim
        due = Recurrence.objects.filter(next_run_at__lte=now, paused=False)
        if practice is not None:
            due = due.filter(practice=practice)
    created = 0
    for _ in range(max_batches):
        with transaction.atomic():
            with scopes_disabled():
                claimed = list(
                    due.select_for_update(skip_locked=True, of=("self",))
                    .select_related("practice", "service")
                    .order_by("next_run_at", "pk")[:batch]
                )
            for recurrence in claimed:
                created += _generate_one(recurrence, now)
        if len(claimed) < batch:
            break
    return created


def _generate_one(recurrence: Recurrence, now: dt.datetime) -> int:
    try:
        with transaction.atomic(), practice_scope(recurrence.practice_id):
            return len(generate(recurrence, now))
    except SoftTimeLimitExceeded:
        raise  # the sweep's time is up: the batch rolls back and stays due
    except Exception:  # one broken recurrence must not stop the others
        log.exception("recurrence %s failed to generate", recurrence.pk)
        with scopes_disabled():
            Recurrence.objects.filter(pk=recurrence.pk).update(next_run_at=now + RETRY)
        return 0


def sweep_net(now: dt.datetime) -> int:
    """The timer sweep's safety net: generate whatever recurrences are due."""
    return generate_due(None, now)
