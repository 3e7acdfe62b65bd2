"""The demo's check-based flows: one-off and repeating, with runs in every status.

`build(practice, owner=…, manager=…)` (a demo builder, registered after the ledgers' one in
`ChecksConfig.ready`, so its runs check real books) makes, over the demo clients with
ledgers:

- **Month-end review**, repeating: 1 day after each month ends, complete within 2 weeks,
  for six clients. It is made as if three months ago and swept forward through the flows'
  own sweep (`making.generate_due_runs`) on each date it came due, so it has a run per
  client for each of the last three months, exactly as the sweep would have made them.
- **VAT return review**, repeating on each client's VAT stagger: 7 days after each VAT
  period ends, complete within 4 weeks, for the VAT-registered clients with ledgers, made
  and swept the same way.
- **Onboarding health check**, one-off, for last month, due in two weeks, for three clients.

Then runs move through the engine, as the demo people would have worked them: the oldest
months complete (started, checks marked, submitted, approved, completed), newer ones in
review (with the first or second reviewer, or approved and waiting for the assignee), in
progress (one handed back with a comment) and not started, some overdue. Sam Okafor (staff)
and Maya Patel (manager) do the work; Maya, Olivia Hartley (owner) and Adam Finch (admin)
review. Nothing is made twice: a practice that has these flows already is left alone.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from checks.flows import engine, making
from checks.flows.cadence import Cadence, last_full_month
from checks.flows.making import ClientTeam, FlowSpec
from checks.flows.templates import ensure_builtin_templates
from checks.models import Flow, FlowRun, FlowRunCheck, LedgerAccount
from sodium.models import Client, Practice, User
from sodium.schedules.practice import today_for

R = FlowRun.Status
C = FlowRunCheck.Status
MONTH_END = "Month-end review"
VAT = "VAT return review"
ONBOARDING = "Onboarding health check"
HISTORY_MONTHS = 3


def _people() -> dict[str, User]:
    from sodium import demo

    by_email = {u.email: u for u in User.objects.filter(email__in=[p[1] for p in demo.PEOPLE])}
    return {name.split()[0].lower(): by_email[email] for name, email, _ in demo.PEOPLE}


def _ledger_clients(practice: Practice) -> list[Client]:
    with_books = LedgerAccount.objects.filter(practice=practice).values("client_id")
    return list(
        Client.objects.filter(
            practice=practice, status=Client.Status.ACTIVE, pk__in=with_books
        ).order_by("name")
    )


def _sweep_until(flow: Flow, now: dt.datetime) -> None:
    """Run the flows' sweep at each moment `flow` came due, up to `now` (a past of sweeps)."""
    while True:
        flow.refresh_from_db(fields=["next_run_at"])
        if flow.next_run_at is None or flow.next_run_at > now:
            return
        making.generate_due_runs(flow.next_run_at + relativedelta(hours=7))


def build(practice: Practice, *, owner: User, manager: User) -> None:
    """The demo builder: the three flows and their runs in every status (see the module)."""
    if Flow.objects.filter(practice=practice, name=MONTH_END).exists():
        return
    people = _people()
    sam, maya, olivia, adam = people["sam"], people["maya"], people["olivia"], people["adam"]
    templates = {t.builtin_key: t for t in ensure_builtin_templates(practice)}
    today = today_for(practice)
    now = dt.datetime.combine(today, dt.time(7), tzinfo=ZoneInfo(practice.time_zone))
    since = today - relativedelta(months=HISTORY_MONTHS)
    clients = _ledger_clients(practice)
    month_end_clients = clients[:6]
    vat_clients = [c for c in clients[6:] if c.vat_periods != Client.VatPeriods.NONE][:4]
    onboarding_clients = [c for c in clients[6:] if c not in vat_clients][:3] or clients[-3:]

    def teams(chosen: list[Client]) -> tuple[ClientTeam, ...]:
        # Sam works most, Maya some; the reviewer is never the assignee; every third run has
        # a second reviewer.
        out = []
        for i, client in enumerate(chosen):
            assignee, reviewer = (maya, olivia) if i % 3 == 2 else (sam, maya)
            second = adam if i % 3 == 1 else None
            out.append(
                ClientTeam(client.pk, assignee.pk, reviewer.pk, second.pk if second else None)
            )
        return tuple(out)

    def checks_of(key: str) -> tuple[str, ...]:
        return tuple(f"builtin:{c.check_key}" for c in templates[key].checks.all())

    month_end = making.create_flow(
        practice,
        FlowSpec(
            kind=Flow.Kind.REPEATING,
            name=MONTH_END,
            template_id=templates["month_end_review"].pk,
            checks=checks_of("month_end_review"),
            clients=teams(month_end_clients),
            cadence=Cadence(offset=1, within=2, within_unit="weeks"),
        ),
        actor=manager,
        today=since,
    )
    _sweep_until(month_end, now)
    if vat_clients:
        vat = making.create_flow(
            practice,
            FlowSpec(
                kind=Flow.Kind.REPEATING,
                name=VAT,
                template_id=templates["vat_return_review"].pk,
                checks=checks_of("vat_return_review"),
                clients=teams(vat_clients),
                cadence=Cadence(
                    mode="event", event="vat_period_end", offset=7, within=4, within_unit="weeks"
                ),
            ),
            actor=manager,
            today=since,
        )
        _sweep_until(vat, now)
    last_month = last_full_month(today)
    onboarding = making.create_flow(
        practice,
        FlowSpec(
            kind=Flow.Kind.ONE_OFF,
            name=ONBOARDING,
            template_id=templates["onboarding_health_check"].pk,
            checks=checks_of("onboarding_health_check"),
            clients=tuple(
                ClientTeam(c.pk, sam.pk, None if i == 0 else maya.pk)
                for i, c in enumerate(onboarding_clients)
            ),
            period_start=last_month.start,
            period_end=last_month.end,
            due_date=today + relativedelta(days=14),
        ),
        actor=manager,
        today=today - relativedelta(days=5),
    )
    _work_runs(list(FlowRun.objects.filter(flow=month_end).order_by("period_start", "id")), today)
    if vat_clients:
        _work_runs(list(FlowRun.objects.filter(flow=vat).order_by("period_start", "id")), today)
    _work_onboarding(list(FlowRun.objects.filter(flow=onboarding).order_by("id")), today)


# The story of each run, by its place among its period's runs (oldest period first).
_OLDEST = ["complete", "complete", "complete", "complete", "complete", "not_started"]
_MIDDLE = ["complete", "complete", "approved", "handed_back", "complete", "not_started"]
_NEWEST = ["not_started", "second_review", "in_review", "in_progress", "in_progress", "not_started"]


def _work_runs(runs: list[FlowRun], today: dt.date) -> None:
    periods = sorted({r.period_start for r in runs})
    stories = {p: s for p, s in zip(reversed(periods), (_NEWEST, _MIDDLE, _OLDEST), strict=False)}
    for period in periods:
        story = stories.get(period, _OLDEST)
        for run, step in zip([r for r in runs if r.period_start == period], story, strict=False):
            _work(run, step, today)


def _work_onboarding(runs: list[FlowRun], today: dt.date) -> None:
    for run, step in zip(runs, ["complete", "in_progress", "not_started"], strict=False):
        _work(run, step, today)


def _work(run: FlowRun, step: str, today: dt.date) -> None:
    """Move `run` to the demo state `step` through the engine, as its team would."""
    if step == "not_started":
        return
    assignee = run.assignee
    if step == "second_review" and run.second_reviewer_id is None:
        step = "in_review"
    run = engine.start_run(run, actor=assignee, today=min(today, run.due_date))
    checks = list(run.run_checks.order_by("position", "id"))
    if step == "in_progress":
        checks = checks[: len(checks) // 2]  # halfway through
    for check in checks:
        if check.open_findings:
            engine.mark_check(
                check,
                outcome=C.SOME_ISSUES,
                actor=assignee,
                comment=f"{check.open_findings} to follow up with the client; noted on the file.",
            )
        else:
            engine.mark_check(check, outcome=C.NO_ISSUES, actor=assignee)
    if step == "in_progress":
        return
    if run.reviewer_id is None:
        engine.complete_run(run, actor=assignee)
        return
    run = engine.submit_run(run, actor=assignee)
    if step == "in_review":
        return
    if step == "handed_back":
        engine.hand_back_run(
            run, actor=run.reviewer, comment="Please attach the bank statement for the month end."
        )
        return
    run = engine.approve_run(run, actor=run.reviewer)
    if step == "second_review":
        return
    if run.review_stage == 2 and not run.approved:
        run = engine.approve_run(run, actor=run.second_reviewer)
    if step == "approved":
        return
    engine.complete_run(run, actor=assignee)
