"""Writes of check-based flows: Go, repeating runs from the sweep, and working a run.

Every status change of a run or of one of its checks goes through `FLOW_RUN_MACHINE` /
`FLOW_RUN_CHECK_MACHINE` here, each in one transaction with the row locked.

- `create_flow(practice, spec)` (the creator's Go) checks the whole spec again and writes
  the flow, its checks and clients, and — for a one-off flow — every client's run, all or
  nothing. A repeating flow's runs are made by the sweep on their scheduled dates.
- `generate_due_runs(now)` (a timer-sweep safety net) claims repeating flows whose next date
  has come (FOR UPDATE SKIP LOCKED) and makes every run due since each client's last one:
  one per client per period, so an outage's periods are each made once and a deleted run is
  not made again.
- A run: `start_run` (needs an assignee; runs the checks for the run's period), `mark_check`
  / `undo_check`, `submit_run`, `approve_run` / `hand_back_run` by the reviewers in order,
  `complete_run` by the assignee; each writes a health-score snapshot, and hand-offs notify.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from checks import runs as check_runs
from checks.flows.cadence import Cadence, ClientDateMissing, Mode, one_off_errors
from checks.flows.templates import period_rules
from checks.models import (
    FLOW_RUN_CHECK_MACHINE,
    FLOW_RUN_MACHINE,
    CustomCheck,
    Finding,
    Flow,
    FlowCheck,
    FlowClient,
    FlowRun,
    FlowRunCheck,
    FlowRunNote,
    FlowRunSnapshot,
    HealthScore,
)
from checks.rules import CHECKS
from sodium import activity, notifications, timers
from sodium.models import Client, Membership, Practice, User
from sodium.schedules.practice import today_for, working_calendar
from sodium.tenancy import practice_scope

R = FlowRun.Status
C = FlowRunCheck.Status
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
    nxt = (
        FlowClient.objects.filter(flow=flow, next_date__isnull=False)
        .order_by("next_date")
        .values_list("next_date", flat=True)
        .first()
    )
    _schedule_flow(flow, nxt)
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


def delete_run(run: FlowRun, *, actor: User) -> None:
    """Delete a run; its repeating flow goes on making the next ones (not this one again)."""
    with transaction.atomic():
        run = FlowRun.objects.select_for_update().select_related("flow", "client").get(pk=run.pk)
        activity.record(
            practice=run.practice_id,
            verb="flow_run.deleted",
            summary=f"Deleted the run of {run.flow.name} for {run.period_start:%-d %b %Y} – "
            f"{run.period_end:%-d %b %Y}",
            actor=actor,
            client=run.client,
        )
        run.delete()


# --- working a run -----------------------------------------------------------------------------


def _lock_run(run: FlowRun) -> FlowRun:
    return (
        FlowRun.objects.select_for_update()
        .select_related("flow", "client__practice")
        .get(pk=run.pk)
    )


def _snapshot(run: FlowRun, step: str, actor: User | None) -> FlowRunSnapshot:
    latest = (
        HealthScore.objects.filter(practice_id=run.practice_id, client_id=run.client_id)
        .order_by("-recorded_at", "-pk")
        .first()
    )
    open_count = Finding.objects.filter(
        practice_id=run.practice_id, client_id=run.client_id, status=Finding.Status.OPEN
    ).count()
    return FlowRunSnapshot.objects.create(
        practice_id=run.practice_id,
        run=run,
        step=step,
        score=latest.score if latest else None,
        open_findings=open_count,
        actor=actor,
    )


def _notify(run: FlowRun, user_id: int | None, text: str) -> None:
    if user_id is None:
        return
    user = User.objects.filter(pk=user_id).first()
    notifications.notify(
        practice=run.client.practice,
        user=user,
        text=text,
        url=reverse("checks:flow-run", args=[run.pk]),
    )


def start_run(run: FlowRun, *, actor: User, today=None) -> FlowRun:
    """Start a run: run the checks as at the end of its period and move it to in progress.

    Raises FlowError when the run has no assignee, InvalidTransition unless not started.
    """
    with practice_scope(run.practice_id), transaction.atomic():
        run = _lock_run(run)
        FLOW_RUN_MACHINE.check(run, R.IN_PROGRESS)
        if run.assignee_id is None:
            raise FlowError("Choose who works this run before starting it.")
        today = today or today_for(run.client.practice)
        as_at = min(today, run.period_end + relativedelta(days=1))
        builtin_keys = set(run.run_checks.exclude(check_key="").values_list("check_key", flat=True))
        if builtin_keys:
            check_runs.run_checks(run.client, actor=actor, today=as_at, rules=run.rules)
        open_counts = dict(
            Finding.objects.filter(
                practice_id=run.practice_id,
                client_id=run.client_id,
                status=Finding.Status.OPEN,
                check_key__in=builtin_keys,
            )
            .values_list("check_key")
            .annotate(n=Count("id"))
        )
        for check in run.run_checks.exclude(check_key=""):
            check.open_findings = open_counts.get(check.check_key, 0)
            check.save(update_fields=["open_findings"])
        run.started_at = timezone.now()
        run = FLOW_RUN_MACHINE.transition(
            run, to=R.IN_PROGRESS, actor=actor, fields=["started_at"], locked=True
        )
        _snapshot(run, R.IN_PROGRESS, actor)
        return run


def _check_assignee(run: FlowRun, actor: User, doing: str) -> None:
    if run.assignee_id != actor.pk:
        raise FlowError(f"Only the run's assignee can {doing}.")


def mark_check(
    run_check: FlowRunCheck, *, outcome: str, actor: User, comment: str = ""
) -> FlowRunCheck:
    """Mark one check of an in-progress run done: no issues, some issues (a comment is
    required) or not applicable. Raises FlowError / InvalidTransition."""
    if outcome not in FlowRunCheck.DONE:
        raise FlowError({"outcome": "Choose how the check was completed."})
    comment = comment.strip()
    if outcome == C.SOME_ISSUES and not comment:
        raise FlowError({"comment": "Say what the issues are."})
    with practice_scope(run_check.practice_id), transaction.atomic():
        run = _lock_run(run_check.run)
        _check_assignee(run, actor, "work its checks")
        if run.status != R.IN_PROGRESS:
            raise FlowError("Checks can be worked only while the run is in progress.")
        run_check = FlowRunCheck.objects.select_for_update().get(pk=run_check.pk)
        run_check.run = run
        run_check.comment = comment[:4000]
        run_check.completed_by, run_check.completed_at = actor, timezone.now()
        run_check = FLOW_RUN_CHECK_MACHINE.transition(
            run_check,
            to=outcome,
            actor=actor,
            note=comment[:80],
            fields=["comment", "completed_by", "completed_at"],
            locked=True,
        )
        _count_done(run)
        return run_check


def undo_check(run_check: FlowRunCheck, *, actor: User) -> FlowRunCheck:
    """Put a done check of an in-progress run back to do."""
    with practice_scope(run_check.practice_id), transaction.atomic():
        run = _lock_run(run_check.run)
        _check_assignee(run, actor, "work its checks")
        if run.status != R.IN_PROGRESS:
            raise FlowError("Checks can be changed only while the run is in progress.")
        run_check = FlowRunCheck.objects.select_for_update().get(pk=run_check.pk)
        run_check.run = run
        run_check.completed_by, run_check.completed_at = None, None
        run_check = FLOW_RUN_CHECK_MACHINE.transition(
            run_check,
            to=C.PENDING,
            actor=actor,
            note="undone",
            fields=["completed_by", "completed_at"],
            locked=True,
        )
        _count_done(run)
        return run_check


def _count_done(run: FlowRun) -> None:
    run.checks_done = run.run_checks.exclude(status=C.PENDING).count()
    run.save(update_fields=["checks_done"])


def submit_run(run: FlowRun, *, actor: User) -> FlowRun:
    """Hand a run whose checks are all done to its first reviewer."""
    with practice_scope(run.practice_id), transaction.atomic():
        run = _lock_run(run)
        _check_assignee(run, actor, "submit it")
        FLOW_RUN_MACHINE.check(run, R.IN_REVIEW)
        if run.reviewer_id is None:
            raise FlowError("This run has no reviewer: complete it instead.")
        if run.run_checks.filter(status=C.PENDING).exists():
            raise FlowError("Finish every check before submitting the run for review.")
        run.review_stage, run.approved, run.submitted_at = 1, False, timezone.now()
        run = FLOW_RUN_MACHINE.transition(
            run,
            to=R.IN_REVIEW,
            actor=actor,
            fields=["review_stage", "approved", "submitted_at"],
            locked=True,
        )
        _snapshot(run, R.IN_REVIEW, actor)
        _notify(run, run.reviewer_id, f"{actor} sent {run} to you for review")
        return run


def _check_reviewer(run: FlowRun, actor: User) -> None:
    if run.status != R.IN_REVIEW or run.approved:
        raise FlowError("This run is not waiting for a review.")
    if run.current_reviewer_id != actor.pk:
        raise FlowError("Only the reviewer it is with can review it now.")


def approve_run(run: FlowRun, *, actor: User) -> FlowRun:
    """Approve a run as the reviewer it is with: on to the second reviewer, or approved."""
    with practice_scope(run.practice_id), transaction.atomic():
        run = _lock_run(run)
        _check_reviewer(run, actor)
        if run.review_stage == 1 and run.second_reviewer_id is not None:
            run.review_stage = 2
            text = f"{actor} approved {run}; it is with you for the second review"
            notify_id = run.second_reviewer_id
        else:
            run.approved = True
            text = f"{actor} approved {run}: you can complete it"
            notify_id = run.assignee_id
        run.save(update_fields=["review_stage", "approved"])
        activity.record(
            practice=run.practice_id,
            verb="flow_run.approved",
            summary=f"{run.flow.name}: approved by {actor}",
            actor=actor,
            client=run.client,
            obj=run,
        )
        _snapshot(run, "approved", actor)
        _notify(run, notify_id, text)
        return run


def hand_back_run(run: FlowRun, *, actor: User, comment: str) -> FlowRun:
    """Hand a run back to its assignee with a comment (required): in progress again."""
    comment = comment.strip()
    if not comment:
        raise FlowError({"comment": "Say what needs doing before it comes back."})
    with practice_scope(run.practice_id), transaction.atomic():
        run = _lock_run(run)
        _check_reviewer(run, actor)
        run.review_stage, run.approved = 0, False
        run = FLOW_RUN_MACHINE.transition(
            run,
            to=R.IN_PROGRESS,
            actor=actor,
            note=f"handed back: {comment[:80]}",
            fields=["review_stage", "approved"],
            locked=True,
        )
        FlowRunNote.objects.create(
            practice_id=run.practice_id, run=run, author=actor, body=f"Handed back: {comment}"
        )
        _snapshot(run, "handed_back", actor)
        _notify(run, run.assignee_id, f"{actor} handed {run} back to you: {comment[:120]}")
        return run


def complete_run(run: FlowRun, *, actor: User) -> FlowRun:
    """Complete a run as its assignee: approved by its reviewers, or with none and every
    check done."""
    with practice_scope(run.practice_id), transaction.atomic():
        run = _lock_run(run)
        _check_assignee(run, actor, "complete it")
        FLOW_RUN_MACHINE.check(run, R.COMPLETE)
        if run.status == R.IN_REVIEW and not run.approved:
            raise FlowError("The reviewers have not approved it yet.")
        if run.status == R.IN_PROGRESS:
            if run.reviewer_id is not None:
                raise FlowError("Submit it for review first.")
            if run.run_checks.filter(status=C.PENDING).exists():
                raise FlowError("Finish every check before completing the run.")
        run.completed_at, run.review_stage = timezone.now(), 0
        run = FLOW_RUN_MACHINE.transition(
            run, to=R.COMPLETE, actor=actor, fields=["completed_at", "review_stage"], locked=True
        )
        _snapshot(run, R.COMPLETE, actor)
        return run


def add_note(
    run: FlowRun, *, actor: User, body: str, run_check: FlowRunCheck | None = None
) -> FlowRunNote:
    """Add a comment to a run or one of its checks."""
    body = body.strip()
    if not body:
        raise FlowError({"body": "Write the comment first."})
    if run_check is not None and run_check.run_id != run.pk:
        raise FlowError("That check is not this run's.")
    note = FlowRunNote.objects.create(
        practice_id=run.practice_id, run=run, run_check=run_check, author=actor, body=body[:4000]
    )
    activity.record(
        practice=run.practice_id,
        verb="flow_run.comment",
        summary=f"{run.flow.name}: comment by {actor}",
        actor=actor,
        client=run.client,
        obj=run,
    )
    return note


# --- flow-runs: files on a run's checks --------------------------------------------------------


def attach_note_file(
    run: FlowRun,
    *,
    actor: User,
    upload,
    body: str = "",
    run_check: FlowRunCheck | None = None,
) -> FlowRunNote:
    """Store a file (with an optional comment) on a run or one of its checks.

    The file passes `checks.flows.files.check_note_file` (size, sniffed type, no markup) and
    is stored under a random name; if the row is not written the stored bytes are deleted.
    Raises FlowError saying why a file is refused.
    """
    from django.core.files.storage import default_storage

    from checks.flows import files
    from sodium.uploads import random_name

    if run_check is not None and run_check.run_id != run.pk:
        raise FlowError("That check is not this run's.")
    try:
        ext = files.check_note_file(upload)
    except files.FileRefused as exc:
        raise FlowError({"file": str(exc)}) from None
    original = (upload.name or f"file.{ext}").replace("\\", "/").rsplit("/", 1)[-1][:255]
    stored = default_storage.save(f"{files.STORAGE_DIR}/{random_name(ext)}", upload)
    try:
        with practice_scope(run.practice_id), transaction.atomic():
            note = FlowRunNote.objects.create(
                practice_id=run.practice_id,
                run=run,
                run_check=run_check,
                author=actor,
                body=body.strip()[:4000],
                file_name=original,
                stored_name=stored,
            )
            activity.record(
                practice=run.practice_id,
                verb="flow_run.file",
                summary=f"{run.flow.name}: {actor} attached {original}",
                actor=actor,
                client=run.client,
                obj=run,
            )
    except BaseException:
        default_storage.delete(stored)
        raise
    return note


# --- flow-creator: flow templates --------------------------------------------------------------

# Imported here, with this section, to keep the helpers' additions apart in merges.
from checks.models import Category, FlowTemplate, FlowTemplateCheck  # noqa: E402


def _template_fields(
    practice: Practice, name: str, category: str, refs: list[str], exclude_pk: int | None = None
):
    """Check a template's fields; return (name, refs); raise FlowError by field."""
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Give the template a name."
    elif (
        FlowTemplate.objects.filter(practice=practice, name__iexact=name)
        .exclude(pk=exclude_pk)
        .exists()
    ):
        errors["name"] = "The practice has a template of that name already."
    if category not in Category.values:
        errors["category"] = "Choose a category."
    try:
        checked = check_refs(practice, refs)
    except FlowError as exc:
        errors.update(exc.errors)
        checked = []
    if errors:
        raise FlowError(errors)
    return name[:200], checked


def _write_template_checks(template: FlowTemplate, checked) -> None:
    template.checks.all().delete()
    FlowTemplateCheck.objects.bulk_create(
        FlowTemplateCheck(
            practice_id=template.practice_id,
            template=template,
            position=i,
            check_key=key,
            custom_check=custom,
        )
        for i, (key, custom) in enumerate(checked)
    )


@transaction.atomic
def create_template(
    practice: Practice,
    *,
    actor: User,
    name: str,
    checks: Iterable[str],
    description: str = "",
    category: str = Category.OTHER,
) -> FlowTemplate:
    """Make a flow template of the ordered checks ("builtin:<key>" / "custom:<id>").

    Raises FlowError by field: no name, a name the practice uses, no or unknown checks.
    """
    name, checked = _template_fields(practice, name, category, list(checks))
    template = FlowTemplate.objects.create(
        practice=practice,
        name=name,
        description=description.strip(),
        category=category,
        created_by=actor,
    )
    _write_template_checks(template, checked)
    activity.record(
        practice=practice,
        verb="flow_template.created",
        summary=f"Created the flow template {template.name}",
        actor=actor,
        obj=template,
    )
    return template


@transaction.atomic
def update_template(
    template: FlowTemplate,
    *,
    actor: User,
    name: str,
    checks: Iterable[str],
    description: str,
    category: str,
) -> FlowTemplate:
    """Change a flow template's name, description, category and ordered checks.

    Flows made from it keep their own checks. Raises FlowError by field.
    """
    template = FlowTemplate.objects.select_for_update().get(pk=template.pk)
    name, checked = _template_fields(
        template.practice, name, category, list(checks), exclude_pk=template.pk
    )
    template.name, template.description, template.category = name, description.strip(), category
    template.save(update_fields=["name", "description", "category"])
    _write_template_checks(template, checked)
    activity.record(
        practice=template.practice_id,
        verb="flow_template.changed",
        summary=f"Changed the flow template {template.name}",
        actor=actor,
        obj=template,
    )
    return template


@transaction.atomic
def archive_template(template: FlowTemplate, *, actor: User) -> FlowTemplate:
    """Archive a flow template: the creator no longer offers it; flows made from it go on."""
    template = FlowTemplate.objects.select_for_update().get(pk=template.pk)
    if template.archived:
        return template
    template.archived = True
    template.save(update_fields=["archived"])
    activity.record(
        practice=template.practice_id,
        verb="flow_template.archived",
        summary=f"Archived the flow template {template.name}",
        actor=actor,
        obj=template,
    )
    return template


# --- flow-dashboard: editing, pausing and resuming a repeating flow ----------------------------


def _lock_repeating(flow: Flow, doing: str) -> Flow:
    flow = Flow.objects.select_for_update().select_related("practice").get(pk=flow.pk)
    if flow.kind != Flow.Kind.REPEATING:
        raise FlowError(f"Only a repeating flow can be {doing}.")
    return flow


def _same_cadence(old: Cadence, new: Cadence) -> bool:
    """Whether `new` (as a form gives it, without a start) is the stored cadence."""
    return dataclasses.replace(new, start=old.start) == old


@transaction.atomic
def update_flow(
    flow: Flow,
    *,
    actor: User,
    name: str,
    checks: Iterable[str],
    cadence: Cadence,
    clients: Iterable[ClientTeam],
    today: dt.date | None = None,
) -> Flow:
    """Edit a repeating flow: its name, checks (in order), cadence, clients and their teams.

    The edit applies from each client's next run: runs already made — started or not — keep
    their checks, client, team and dates. The flow's version goes up; new clients' next
    dates come from the cadence after today; removed clients make no more runs; a changed
    cadence carries on from each client's last run (its first new run is the first whose
    period ends after the last run's, made by the next sweep if its date has passed), so no
    period is skipped; a client with no runs yet starts after today. The checks' rules are
    kept as they are.

    Raises FlowError (nothing written) for anything the creator would refuse.
    """
    flow = _lock_repeating(flow, "edited")
    practice = flow.practice
    today = today or today_for(practice)
    clients = tuple(clients)
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Give the flow a name."
    # A custom check archived since it was added stays while the flow keeps it.
    kept = FlowCheck.objects.filter(flow=flow, custom_check__isnull=False).values_list(
        "custom_check_id", flat=True
    )
    try:
        refs = check_refs(practice, checks, kept=kept)
    except FlowError as exc:
        errors.update(exc.errors)
        refs = []
    errors.update(cadence.errors())
    ids = [t.client_id for t in clients]
    if not ids:
        errors["clients"] = "Keep at least one client."
    elif len(set(ids)) != len(ids):
        errors["clients"] = "A client is added twice."
    elif len(ids) > MAX_CLIENTS:
        errors["clients"] = f"At most {MAX_CLIENTS:,} clients in one flow."
    current = {fc.client_id: fc for fc in FlowClient.objects.filter(flow=flow)}
    new_ids = [i for i in ids if i not in current]
    found = {
        c.pk: c
        for c in Client.objects.filter(
            practice=practice, pk__in=new_ids, status=Client.Status.ACTIVE
        )
    }
    if len(found) != len(set(new_ids)):
        errors["clients"] = "One of the added clients is not an active client of the practice."
    bad_teams = team_errors(practice, clients)
    if bad_teams:
        named = dict(
            Client.objects.filter(practice=practice, pk__in=list(bad_teams)[:3]).values_list(
                "pk", "name"
            )
        )
        names = ", ".join(named.get(i, "") for i in list(bad_teams)[:3])
        errors["team"] = f"{next(iter(bad_teams.values()))} ({names})"
    old_cadence = Cadence.from_json(flow.cadence)
    changed = not _same_cadence(old_cadence, cadence)
    keep = [i for i in ids if i in current]
    # A changed cadence carries on from each kept client's last run: its first run is the
    # first whose period ends after the last run's (even if its date has passed: the next
    # sweep makes it), so no period goes unreviewed between the two cadences.
    covered = _last_runs(flow, keep) if changed else {}
    since = min([today, *(sched for sched, _ in covered.values())])
    stored = cadence.starting_after(since) if changed else old_cadence
    # Whose next date to work out: the new clients, and everyone when the cadence changed.
    to_date = set(new_ids) | (set(keep) if changed else set())
    firsts: dict[int, object] = {}
    if to_date and not errors:
        dated = dict(found)
        if changed and keep:
            dated.update((c.pk, c) for c in Client.objects.filter(practice=practice, pk__in=keep))
        fresh = [c for i, c in dated.items() if i not in covered]
        firsts, missing = first_runs(practice, stored, fresh, today)
        carried, gone = _first_uncovered(practice, stored, dated, covered)
        firsts.update(carried)
        missing.update(gone)
        if missing:
            shown = "; ".join(f"{dated[i].name}: {why}" for i, why in list(missing.items())[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            errors["clients"] = f"These clients have no date for this cadence — {shown}{more}."
    if errors:
        raise FlowError(errors)

    flow.name = name.strip()[:200]
    flow.cadence = stored.to_json()
    flow.version += 1
    flow.save(update_fields=["name", "cadence", "version"])
    FlowCheck.objects.filter(flow=flow).delete()
    FlowCheck.objects.bulk_create(
        FlowCheck(practice=practice, flow=flow, position=i, check_key=key, custom_check=custom)
        for i, (key, custom) in enumerate(refs)
    )
    removed = [cid for cid in current if cid not in set(ids)]
    FlowClient.objects.filter(flow=flow, client_id__in=removed).delete()
    updated, added = [], []
    for team in clients:
        fc = current.get(team.client_id)
        if fc is None:
            fc = FlowClient(practice=practice, flow=flow, client_id=team.client_id)
            added.append(fc)
        else:
            updated.append(fc)
        fc.assignee_id = team.assignee_id
        fc.reviewer_id = team.reviewer_id
        fc.second_reviewer_id = team.second_reviewer_id
        if team.client_id in to_date:
            first = firsts[team.client_id]
            fc.next_date = first.scheduled
            fc.generated_until = min(today, first.scheduled - relativedelta(days=1))
            fc.skip_reason = ""
    FlowClient.objects.bulk_update(
        updated,
        ["assignee", "reviewer", "second_reviewer", "next_date", "generated_until", "skip_reason"],
        batch_size=1000,
    )
    FlowClient.objects.bulk_create(added, batch_size=1000)
    _reschedule(flow)
    activity.record(
        practice=practice,
        verb="flow.edited",
        summary=f"Edited the flow {flow.name} (version {flow.version}): {len(refs)} check"
        f"{'s' if len(refs) != 1 else ''}, {len(ids)} client{'s' if len(ids) != 1 else ''}"
        + (f", {len(added)} added" if added else "")
        + (f", {len(removed)} removed" if removed else ""),
        actor=actor,
        obj=flow,
    )
    return flow


def _last_runs(flow: Flow, client_ids: list[int]) -> dict[int, tuple[dt.date, dt.date]]:
    """Return each client's latest run of the flow: {client id: (scheduled date, period end)}."""
    rows = (
        FlowRun.objects.filter(flow=flow, client_id__in=client_ids)
        .values("client_id")
        .annotate(scheduled=Max("scheduled_date"), end=Max("period_end"))
        .order_by()
    )
    return {r["client_id"]: (r["scheduled"], r["end"]) for r in rows}


def _first_uncovered(
    practice: Practice,
    cadence: Cadence,
    clients: dict[int, Client],
    covered: dict[int, tuple[dt.date, dt.date]],
) -> tuple[dict[int, object], dict[int, str]]:
    """Return, for each client with runs, the cadence's first run after its last one whose
    period ends later than the last run's, and the clients without one ({id: why})."""
    calendar = working_calendar(practice)
    firsts, missing = {}, {}
    for client_id, (scheduled, end) in covered.items():
        client = clients.get(client_id)
        if client is None:
            continue
        try:
            found = cadence.next_runs(
                24, after=scheduled + relativedelta(days=1), calendar=calendar, client=client
            )
        except ClientDateMissing as exc:
            missing[client_id] = str(exc)
            continue
        later = [run for run in found if run.period.end > end]
        if later:
            firsts[client_id] = later[0]
        else:
            missing[client_id] = "no date in the next years"
    return firsts, missing


def _reschedule(flow: Flow) -> None:
    nxt = (
        FlowClient.objects.filter(flow=flow, next_date__isnull=False)
        .order_by("next_date")
        .values_list("next_date", flat=True)
        .first()
    )
    _schedule_flow(flow, nxt)


@transaction.atomic
def pause_flow(flow: Flow, *, actor: User) -> Flow:
    """Stop a repeating flow making runs until it is resumed; its runs stay as they are."""
    flow = _lock_repeating(flow, "paused")
    if flow.paused:
        return flow
    flow.paused = True
    flow.save(update_fields=["paused"])
    activity.record(
        practice=flow.practice,
        verb="flow.paused",
        summary=f"Paused the flow {flow.name}",
        actor=actor,
        obj=flow,
    )
    return flow


@transaction.atomic
def resume_flow(flow: Flow, *, actor: User, today: dt.date | None = None) -> Flow:
    """Make runs again from today: the periods whose dates passed while paused are skipped
    (as recurring work does), a date of today is made by the next sweep.

    Each client's next date is its first scheduled date on or after today; a client whose
    date cannot be worked out any more keeps the reason and makes no runs.
    """
    flow = _lock_repeating(flow, "resumed")
    if not flow.paused:
        return flow
    today = today or today_for(flow.practice)
    yesterday = today - relativedelta(days=1)
    cadence = Cadence.from_json(flow.cadence)
    calendar = working_calendar(flow.practice)
    flow_clients = list(FlowClient.objects.filter(flow=flow).select_related("client"))
    for fc in flow_clients:
        fc.generated_until = max(fc.generated_until or yesterday, yesterday)
        try:
            found = cadence.next_runs(1, after=today, calendar=calendar, client=fc.client)
        except ClientDateMissing as exc:
            fc.next_date, fc.skip_reason = None, str(exc)[:200]
            continue
        fc.next_date = found[0].scheduled if found else None
        fc.skip_reason = "" if found else "no date in the next years"
    FlowClient.objects.bulk_update(
        flow_clients, ["generated_until", "next_date", "skip_reason"], batch_size=1000
    )
    flow.paused = False
    flow.save(update_fields=["paused"])
    _reschedule(flow)
    activity.record(
        practice=flow.practice,
        verb="flow.resumed",
        summary=f"Resumed the flow {flow.name}",
        actor=actor,
        obj=flow,
    )
    return flow
