"""Making check-based flows: the spec the creator hands over, Go, and repeating runs from the
sweep.

- `create_flow(practice, spec)` (the creator's Go) checks the whole spec again and writes
  the flow, its checks and clients, and — for a one-off flow — every client's run, all or
  nothing. A repeating flow's runs are made by the sweep on their scheduled dates.
- `generate_due_runs(now)` (a timer-sweep safety net) claims repeating flows whose next date
  has come (FOR UPDATE SKIP LOCKED) and makes every run due since each client's last one:
  one run per client per period, so an outage's periods are each made once and a deleted
  run is not made again.

Runs are made here, not moved: every status change of a run is in `checks.flows.engine`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Q
from django_scopes import scopes_disabled

from checks.flows.cadence import Cadence, ClientDateMissing, Mode, one_off_errors
from checks.flows.templates import period_rules
from checks.models import (
    CustomCheck,
    Flow,
    FlowCheck,
    FlowClient,
    FlowRun,
    FlowRunCheck,
)
from checks.rules import CHECKS
from sodium import activity, timers
from sodium.models import Client, Membership, Practice, User
from sodium.schedules.practice import today_for, working_calendar
from sodium.tenancy import practice_scope

BUILTIN = {check.key: check for check in CHECKS}
MAX_CLIENTS = 5000  # one Go; more is several flows


class FlowError(Exception):
    """Something the person must change; `errors` says what, by field (or "" for the whole)."""

    def __init__(self, errors: dict[str, str] | str) -> None:
        self.errors = errors if isinstance(errors, dict) else {"": errors}
        super().__init__("; ".join(self.errors.values()))


@dataclasses.dataclass(frozen=True)
class ClientTeam:
    client_id: int
    assignee_id: int | None = None
    reviewer_id: int | None = None
    second_reviewer_id: int | None = None


@dataclasses.dataclass(frozen=True)
class FlowSpec:
    """Everything the creator collected: what Go makes."""

    kind: str
    name: str
    checks: tuple[str, ...]  # "builtin:<key>" / "custom:<id>", in order
    clients: tuple[ClientTeam, ...]
    template_id: int | None = None
    period_start: dt.date | None = None  # one-off
    period_end: dt.date | None = None
    due_date: dt.date | None = None
    cadence: Cadence | None = None  # repeating
    rules: dict[str, dict] = dataclasses.field(default_factory=dict)


# --- checking a spec ---------------------------------------------------------------------------


def check_refs(
    practice: Practice, refs: Iterable[str], *, kept: Iterable[int] = ()
) -> list[tuple[str, CustomCheck | None]]:
    """Return (built-in key or "", custom check) for each ref; raise FlowError for unknown
    ones, archived custom checks (except those in `kept`, the ids a flow has already) or a
    check chosen twice."""
    refs = list(refs)
    if not refs:
        raise FlowError({"checks": "Choose at least one check."})
    if len(set(refs)) != len(refs):
        raise FlowError({"checks": "A check is chosen twice."})
    custom_ids = [
        int(r.split(":", 1)[1]) for r in refs if r.startswith("custom:") and r[7:].isdigit()
    ]
    customs = {
        c.pk: c
        for c in CustomCheck.objects.filter(practice=practice, pk__in=custom_ids).filter(
            Q(archived=False) | Q(pk__in=list(kept))
        )
    }
    out = []
    for ref in refs:
        kind, _, value = ref.partition(":")
        if kind == "builtin" and value in BUILTIN:
            out.append((value, None))
        elif kind == "custom" and value.isdigit() and int(value) in customs:
            out.append(("", customs[int(value)]))
        else:
            raise FlowError({"checks": "One of the chosen checks no longer exists."})
    return out


def team_errors(practice: Practice, teams: Iterable[ClientTeam]) -> dict[int, str]:
    """Return {client id: what is wrong with its team}: a member who is not the practice's,
    a reviewer who is also the assignee, the same reviewer twice."""
    members = set(Membership.objects.filter(practice=practice).values_list("user_id", flat=True))
    errors: dict[int, str] = {}
    for team in teams:
        people = [team.assignee_id, team.reviewer_id, team.second_reviewer_id]
        if any(p is not None and p not in members for p in people):
            errors[team.client_id] = "Choose members of the practice."
        elif team.assignee_id is not None and team.assignee_id in (
            team.reviewer_id,
            team.second_reviewer_id,
        ):
            errors[team.client_id] = "A reviewer cannot also be the assignee."
        elif team.second_reviewer_id is not None and team.reviewer_id is None:
            errors[team.client_id] = "Choose the first reviewer before a second one."
        elif team.reviewer_id is not None and team.reviewer_id == team.second_reviewer_id:
            errors[team.client_id] = "Choose two different reviewers."
    return errors


def first_runs(
    practice: Practice, cadence: Cadence, clients: Iterable[Client], today: dt.date
) -> tuple[dict[int, object], dict[int, str]]:
    """Return each client's first run dates of a repeating flow made today, and the clients
    whose dates cannot be worked out ({id: "no year end"})."""
    cadence = cadence.starting_after(today)
    calendar = working_calendar(practice)
    firsts, missing = {}, {}
    for client in clients:
        try:
            found = cadence.next_runs(
                1, after=today + relativedelta(days=1), calendar=calendar, client=client
            )
        except ClientDateMissing as exc:
            missing[client.pk] = str(exc)
            continue
        if found:
            firsts[client.pk] = found[0]
        else:
            missing[client.pk] = "no date in the next years"
    return firsts, missing


def _checked(practice: Practice, spec: FlowSpec, today: dt.date):
    """Check the whole spec (as each stage did); return (refs, clients, firsts)."""
    errors: dict[str, str] = {}
    if not spec.name.strip():
        errors["name"] = "Give the flow a name."
    try:
        refs = check_refs(practice, spec.checks)
    except FlowError as exc:
        errors.update(exc.errors)
        refs = []
    if spec.kind == Flow.Kind.ONE_OFF:
        errors.update(one_off_errors(spec.period_start, spec.period_end, spec.due_date))
    elif spec.kind == Flow.Kind.REPEATING:
        if spec.cadence is None:
            errors["cadence"] = "Set the cadence."
        else:
            errors.update(spec.cadence.errors())
    else:
        errors["kind"] = "Choose a one-off or a repeating flow."
    ids = [t.client_id for t in spec.clients]
    if not ids:
        errors["clients"] = "Add at least one client."
    elif len(set(ids)) != len(ids):
        errors["clients"] = "A client is added twice."
    elif len(ids) > MAX_CLIENTS:
        errors["clients"] = f"At most {MAX_CLIENTS:,} clients in one flow."
    clients = {
        c.pk: c
        for c in Client.objects.filter(practice=practice, pk__in=ids, status=Client.Status.ACTIVE)
    }
    if ids and len(clients) != len(set(ids)):
        errors["clients"] = "One of the chosen clients is not an active client of the practice."
    bad_teams = team_errors(practice, spec.clients)
    if bad_teams:
        names = ", ".join(clients[i].name for i in list(bad_teams)[:3] if i in clients)
        errors["team"] = f"{next(iter(bad_teams.values()))} ({names})"
    firsts: dict[int, object] = {}
    if spec.kind == Flow.Kind.REPEATING and spec.cadence is not None and not errors:
        firsts, missing = first_runs(practice, spec.cadence, clients.values(), today)
        if missing:
            shown = "; ".join(f"{clients[i].name}: {why}" for i, why in list(missing.items())[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            errors["clients"] = f"These clients have no date for this cadence — {shown}{more}."
    if errors:
        raise FlowError(errors)
    return refs, clients, firsts


# --- Go ----------------------------------------------------------------------------------------


@transaction.atomic
def create_flow(practice: Practice, spec: FlowSpec, *, actor: User, today=None) -> Flow:
    """Make the flow the spec describes and, for a one-off, every client's run; return it.

    Raises FlowError (nothing written) for anything a stage would refuse.
    """
    today = today or today_for(practice)
    refs, clients, firsts = _checked(practice, spec, today)
    cadence = spec.cadence.starting_after(today) if spec.cadence is not None else None
    flow = Flow.objects.create(
        practice=practice,
        name=spec.name.strip()[:200],
        kind=spec.kind,
        template_id=spec.template_id,
        period_start=spec.period_start,
        period_end=spec.period_end,
        due_date=spec.due_date,
        cadence=cadence.to_json() if cadence is not None else {},
        rules=spec.rules or {},
        created_by=actor,
    )
    FlowCheck.objects.bulk_create(
        FlowCheck(practice=practice, flow=flow, position=i, check_key=key, custom_check=custom)
        for i, (key, custom) in enumerate(refs)
    )
    flow_clients = [
        FlowClient(
            practice=practice,
            flow=flow,
            client_id=team.client_id,
            assignee_id=team.assignee_id,
            reviewer_id=team.reviewer_id,
            second_reviewer_id=team.second_reviewer_id,
            next_date=firsts[team.client_id].scheduled if team.client_id in firsts else None,
        )
        for team in spec.clients
    ]
    FlowClient.objects.bulk_create(flow_clients, batch_size=1000)
    if flow.kind == Flow.Kind.ONE_OFF:
        dates = [
            (fc, spec.period_start, spec.period_end, today, spec.due_date) for fc in flow_clients
        ]
        _make_runs(flow, dates)
    else:
        _schedule_flow(flow, min(f.scheduled for f in firsts.values()))
    activity.record(
        practice=practice,
        verb="flow.created",
        summary=f"Created the {flow.get_kind_display().lower()} flow {flow.name} for "
        f"{len(flow_clients)} client{'s' if len(flow_clients) != 1 else ''}",
        actor=actor,
        obj=flow,
    )
    return flow


def _run_checks_of(flow: Flow) -> list[FlowCheck]:
    return list(flow.checks.select_related("custom_check").order_by("position", "id"))


def _make_runs(flow: Flow, dates: list[tuple[FlowClient, dt.date, dt.date, dt.date, dt.date]]):
    """Write the runs (and their checks) for (flow client, period start, end, scheduled,
    due), skipping periods a run exists for; return the runs made."""
    if not dates:
        return []
    existing = set(
        FlowRun.objects.filter(
            flow=flow, client_id__in={fc.client_id for fc, *_ in dates}
        ).values_list("client_id", "period_start", "period_end")
    )
    checks = _run_checks_of(flow)
    made = []
    for fc, start, end, scheduled, due in dates:
        if (fc.client_id, start, end) in existing:
            continue
        existing.add((fc.client_id, start, end))
        made.append(
            FlowRun(
                practice_id=flow.practice_id,
                flow=flow,
                client_id=fc.client_id,
                flow_version=flow.version,
                period_start=start,
                period_end=end,
                scheduled_date=scheduled,
                due_date=due,
                assignee_id=fc.assignee_id,
                reviewer_id=fc.reviewer_id,
                second_reviewer_id=fc.second_reviewer_id,
                checks_total=len(checks),
                rules={
                    **period_rules([c.check_key for c in checks if c.check_key], start, end),
                    **(flow.rules or {}),
                },
            )
        )
    FlowRun.objects.bulk_create(made, batch_size=1000)
    if made and made[0].pk is None:  # SQLite before 3.35 gives no ids back
        keys = {(r.client_id, r.period_start, r.period_end) for r in made}
        made = [
            r
            for r in FlowRun.objects.filter(flow=flow, client_id__in={k[0] for k in keys})
            if (r.client_id, r.period_start, r.period_end) in keys
        ]
    FlowRunCheck.objects.bulk_create(
        (
            FlowRunCheck(
                practice_id=flow.practice_id,
                run=run,
                position=i,
                check_key=check.check_key,
                custom_check_id=check.custom_check_id,
                name=_check_name(check),
                description=_check_description(check),
            )
            for run in made
            for i, check in enumerate(checks)
        ),
        batch_size=2000,
    )
    return made


def _check_name(check) -> str:
    if check.check_key:
        return BUILTIN[check.check_key].name
    return check.custom_check.name


def _check_description(check) -> str:
    if check.check_key:
        return BUILTIN[check.check_key].description
    return check.custom_check.description


def _schedule_flow(flow: Flow, day: dt.date | None) -> None:
    """Set when the sweep next looks at the flow: the start of `day` in the practice's zone."""
    if day is None:
        flow.next_run_at = None
    else:
        zone = ZoneInfo(flow.practice.time_zone)
        flow.next_run_at = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    flow.save(update_fields=["next_run_at"])


def reschedule_flow(flow: Flow) -> None:
    """Point the sweep at the flow's earliest next date among its clients (none: never)."""
    nxt = (
        FlowClient.objects.filter(flow=flow, next_date__isnull=False)
        .order_by("next_date")
        .values_list("next_date", flat=True)
        .first()
    )
    _schedule_flow(flow, nxt)


# --- repeating runs from the sweep -------------------------------------------------------------


def generate_due_runs(now: dt.datetime, limit: int = 50) -> int:
    """Make the runs of repeating flows whose dates have come; return how many were made.

    Claims due flows with FOR UPDATE SKIP LOCKED (several sweeps at once make each run
    once); for every client whose next date has come, makes a run for each scheduled date
    since its last one up to today, then moves its next date on.
    """
    made = 0
    with scopes_disabled():  # cross-tenant by design, like the timer claim
        due = list(
            Flow.objects.filter(
                kind=Flow.Kind.REPEATING, paused=False, next_run_at__lte=now
            ).values_list("pk", "practice_id")[:limit]
        )
    for flow_id, practice_id in due:
        with practice_scope(practice_id), transaction.atomic():
            flow = (
                Flow.objects.select_for_update(skip_locked=True)
                .select_related("practice")
                .filter(pk=flow_id, next_run_at__lte=now, paused=False)
                .first()
            )
            if flow is not None:
                made += _generate(flow, now)
    return made


def _generate(flow: Flow, now: dt.datetime | None = None) -> int:
    today = today_for(flow.practice, now)
    cadence = Cadence.from_json(flow.cadence)
    calendar = working_calendar(flow.practice)
    due_clients = list(
        FlowClient.objects.filter(flow=flow, next_date__lte=today)
        .select_related("client")
        .order_by("id")
    )
    # Clients with the same dates (every client of a scheduled cadence; those sharing a year
    # end or VAT stagger for an event) share one working-out: 5,000 clients due at once are
    # a handful of schedule walks, not 10,000.
    found_for: dict[tuple, list | str] = {}
    next_for: dict[tuple, dt.date | None] = {}
    dates = []
    for fc in due_clients:
        after = (fc.generated_until + relativedelta(days=1)) if fc.generated_until else fc.next_date
        key = _dates_key(cadence, fc.client)
        if (after, key) not in found_for:
            try:
                found_for[(after, key)] = cadence.runs_between(
                    after, today + relativedelta(days=1), calendar=calendar, client=fc.client
                )
            except ClientDateMissing as exc:
                found_for[(after, key)] = str(exc)[:200]
        found = found_for[(after, key)]
        if isinstance(found, str):
            fc.skip_reason, fc.next_date = found, None
            continue
        for run in found:
            dates.append((fc, run.period.start, run.period.end, run.scheduled, run.due))
        fc.generated_until = today
        if key not in next_for:
            next_for[key] = _next_after(cadence, fc.client, today, calendar)
        fc.next_date = next_for[key]
        fc.skip_reason = ""
    made = _make_runs(flow, dates)
    # One UPDATE per set of new values (usually one), not a CASE per row as bulk_update does.
    groups: dict[tuple, list[int]] = {}
    for fc in due_clients:
        groups.setdefault((fc.generated_until, fc.next_date, fc.skip_reason), []).append(fc.pk)
    for (until, nxt, reason), ids in groups.items():
        for i in range(0, len(ids), 1000):
            FlowClient.objects.filter(pk__in=ids[i : i + 1000]).update(
                generated_until=until, next_date=nxt, skip_reason=reason
            )
    reschedule_flow(flow)
    return len(made)


def _dates_key(cadence: Cadence, client: Client) -> tuple:
    """What a client's run dates depend on: nothing for a scheduled cadence; its year end and
    VAT stagger for an event (all that `sodium.schedules.client_dates` reads for them)."""
    if cadence.mode == Mode.SCHEDULED:
        return ()
    return (client.year_end_day, client.year_end_month, client.vat_periods)


def _next_after(cadence: Cadence, client: Client, today: dt.date, calendar) -> dt.date | None:
    try:
        found = cadence.next_runs(
            1, after=today + relativedelta(days=1), calendar=calendar, client=client
        )
    except ClientDateMissing:
        return None
    return found[0].scheduled if found else None


timers.register_safety_net("checks.flow_runs", generate_due_runs)
