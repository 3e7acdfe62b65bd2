"""Go, repeating runs from the sweep, and working a run through its state machine."""

from __future__ import annotations

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

from checks.flows import engine, making
from checks.flows.cadence import Cadence
from checks.flows.making import ClientTeam, FlowError, FlowSpec
from checks.models import CustomCheck, Flow, FlowRun, FlowRunCheck, FlowRunSnapshot
from sodium.models import Notification
from sodium.statemachine import InvalidTransition
from tests import factories as f
from tests.base import BaseTestCase

R = FlowRun.Status
C = FlowRunCheck.Status
LONDON = ZoneInfo("Europe/London")


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON)


class FlowTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(
            practice=self.practice, name="Acme Ltd", year_end_day=31, year_end_month=3,
            vat_periods="q_mar",
        )  # fmt: skip
        self.bolt = f.ClientFactory(
            practice=self.practice, name="Bolt Ltd", vat_periods="none", year_end_day=None,
            year_end_month=None,
        )  # fmt: skip
        self.custom = CustomCheck.objects.create(practice=self.practice, name="Fixed assets")

    def team(self, client, assignee=None, reviewer=None, second=None) -> ClientTeam:
        pk = lambda u: u.pk if u else None  # noqa: E731
        return ClientTeam(client.pk, pk(assignee), pk(reviewer), pk(second))

    def one_off(self, *teams, **kw) -> Flow:
        spec = FlowSpec(
            kind=Flow.Kind.ONE_OFF,
            name=kw.pop("name", "October review"),
            checks=kw.pop("checks", ("builtin:bank_reconciliation", f"custom:{self.custom.pk}")),
            clients=teams or (self.team(self.acme, self.staff, self.manager),),
            period_start=kw.pop("period_start", dt.date(2026, 10, 1)),
            period_end=kw.pop("period_end", dt.date(2026, 10, 31)),
            due_date=kw.pop("due_date", dt.date(2026, 11, 15)),
            **kw,
        )
        return making.create_flow(
            self.practice, spec, actor=self.manager, today=dt.date(2026, 11, 2)
        )

    def repeating(self, cadence: Cadence, *teams, today=dt.date(2026, 10, 28)) -> Flow:
        spec = FlowSpec(
            kind=Flow.Kind.REPEATING,
            name="Monthly review",
            checks=("builtin:bank_reconciliation", "builtin:lock_date"),
            clients=teams or (self.team(self.acme, self.staff, self.manager),),
            cadence=cadence,
        )
        return making.create_flow(self.practice, spec, actor=self.manager, today=today)

    def sweep(self, day: dt.date) -> int:
        with mock.patch("django.utils.timezone.now", return_value=at(day)):
            return making.generate_due_runs(at(day))


class GoTests(FlowTestCase):
    def test_a_one_off_flow_makes_one_run_per_client_with_its_checks(self) -> None:
        flow = self.one_off(self.team(self.acme, self.staff), self.team(self.bolt, self.admin))
        runs = FlowRun.objects.filter(flow=flow).order_by("client__name")
        self.assertEqual([r.client for r in runs], [self.acme, self.bolt])
        run = runs[0]
        self.assertEqual(
            (run.period_start, run.due_date, run.status),
            (dt.date(2026, 10, 1), dt.date(2026, 11, 15), R.NOT_STARTED),
        )
        self.assertEqual(
            [c.name for c in run.run_checks.all()], ["Bank reconciliation", "Fixed assets"]
        )
        self.assertEqual(run.checks_total, 2)

    def test_bad_specs_are_refused_and_write_nothing(self) -> None:
        cases = {
            "due_date": dict(due_date=dt.date(2026, 9, 1)),
            "checks": dict(checks=()),
            "name": dict(name=" "),
        }
        for field, kw in cases.items():
            with self.subTest(field), self.assertRaises(FlowError) as ctx:
                self.one_off(**kw)
            self.assertIn(field, ctx.exception.errors)
        with self.assertRaises(FlowError) as ctx:
            self.one_off(self.team(self.acme, self.staff), self.team(self.acme, self.admin))
        self.assertIn("twice", ctx.exception.errors["clients"])
        with self.assertRaises(FlowError) as ctx:
            self.one_off(self.team(self.acme, self.staff, self.staff))
        self.assertIn("also be the assignee", ctx.exception.errors["team"])
        with self.assertRaises(FlowError):
            self.one_off(self.team(self.other_client, self.staff))
        self.assertFalse(Flow.objects.exists())
        self.assertFalse(FlowRun.objects.exists())

    def test_a_repeating_flow_needs_each_clients_dates(self) -> None:
        cadence = Cadence(mode="event", event="year_end", offset=0, within=4, within_unit="weeks")
        with self.assertRaises(FlowError) as ctx:
            self.repeating(
                cadence, self.team(self.acme, self.staff), self.team(self.bolt, self.staff)
            )
        self.assertIn("Bolt Ltd: no year end", ctx.exception.errors["clients"])
        self.assertFalse(Flow.objects.exists())


class RepeatingTests(FlowTestCase):
    def test_the_worked_example(self) -> None:
        """Created 28 Oct, 1 day after the last full month, within 2 weeks, monthly."""
        flow = self.repeating(Cadence(offset=1, offset_unit="days", within=2, within_unit="weeks"))
        self.assertFalse(FlowRun.objects.exists())  # nothing until its date
        self.assertEqual(self.sweep(dt.date(2026, 10, 31)), 0)
        self.assertEqual(self.sweep(dt.date(2026, 11, 1)), 1)
        run = FlowRun.objects.get(flow=flow)
        self.assertEqual(
            (run.scheduled_date, run.due_date, run.period_start, run.period_end),
            (
                dt.date(2026, 11, 1),
                dt.date(2026, 11, 15),
                dt.date(2026, 10, 1),
                dt.date(2026, 10, 31),
            ),
        )
        self.assertEqual(self.sweep(dt.date(2026, 11, 1)), 0)  # a second sweep makes nothing

    def test_a_year_with_an_outage_makes_one_run_per_period(self) -> None:
        flow = self.repeating(
            Cadence(offset=1), self.team(self.acme, self.staff), self.team(self.bolt, self.staff)
        )
        day = dt.date(2026, 10, 29)
        while day < dt.date(2027, 10, 29):
            if not dt.date(2027, 2, 10) <= day <= dt.date(2027, 5, 20):  # the sweep is down
                self.sweep(day)
            day += dt.timedelta(days=1)
        starts = sorted(
            FlowRun.objects.filter(flow=flow, client=self.acme).values_list(
                "period_start", flat=True
            )
        )
        self.assertEqual(len(starts), 12)
        self.assertEqual(len(set(starts)), 12)
        self.assertEqual(starts[0], dt.date(2026, 10, 1))
        self.assertEqual(FlowRun.objects.filter(flow=flow).count(), 24)

    def test_vat_stagger_runs_cover_each_vat_period(self) -> None:
        cadence = Cadence(mode="event", event="vat_period_end", offset=7)
        flow = self.repeating(cadence, today=dt.date(2026, 10, 28))
        self.sweep(dt.date(2027, 1, 7))
        run = FlowRun.objects.get(flow=flow)
        self.assertEqual(
            (run.period_start, run.period_end), (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
        )
        self.assertEqual(run.due_date, dt.date(2027, 1, 21))

    def test_year_end_runs_cover_the_financial_year(self) -> None:
        cadence = Cadence(
            mode="event",
            event="year_end",
            offset=2,
            offset_unit="weeks",
            within=4,
            within_unit="weeks",
        )
        flow = self.repeating(cadence)
        self.sweep(dt.date(2027, 4, 14))
        run = FlowRun.objects.get(flow=flow)
        self.assertEqual(
            (run.period_start, run.period_end), (dt.date(2026, 4, 1), dt.date(2027, 3, 31))
        )
        self.assertEqual(
            (run.scheduled_date, run.due_date), (dt.date(2027, 4, 14), dt.date(2027, 5, 12))
        )

    def test_a_deleted_run_is_not_made_again_and_the_flow_goes_on(self) -> None:
        flow = self.repeating(Cadence(offset=1))
        self.sweep(dt.date(2026, 11, 1))
        engine.delete_run(FlowRun.objects.get(flow=flow), actor=self.manager)
        self.sweep(dt.date(2026, 11, 2))
        self.assertFalse(FlowRun.objects.filter(flow=flow).exists())
        self.sweep(dt.date(2026, 12, 1))
        self.assertEqual(
            list(FlowRun.objects.filter(flow=flow).values_list("period_start", flat=True)),
            [dt.date(2026, 11, 1)],
        )

    def test_a_paused_flow_makes_nothing(self) -> None:
        flow = self.repeating(Cadence(offset=1))
        Flow.objects.filter(pk=flow.pk).update(paused=True)
        self.assertEqual(self.sweep(dt.date(2026, 11, 1)), 0)


class RunMachineTests(FlowTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.flow = self.one_off(self.team(self.acme, self.staff, self.manager, self.admin))
        self.run = FlowRun.objects.get(flow=self.flow)

    def work_all(self) -> None:
        for check in self.run.run_checks.all():
            engine.mark_check(check, outcome=C.NO_ISSUES, actor=self.staff)

    def test_start_needs_an_assignee_and_records_a_snapshot(self) -> None:
        FlowRun.objects.filter(pk=self.run.pk).update(assignee=None)
        with self.assertRaises(FlowError):
            engine.start_run(self.run, actor=self.manager)
        FlowRun.objects.filter(pk=self.run.pk).update(assignee=self.staff)
        run = engine.start_run(self.run, actor=self.staff, today=dt.date(2026, 11, 2))
        self.assertEqual(run.status, R.IN_PROGRESS)
        self.assertTrue(FlowRunSnapshot.objects.filter(run=run, step=R.IN_PROGRESS).exists())
        with self.assertRaises(InvalidTransition):
            engine.start_run(run, actor=self.staff)

    def test_checks_are_worked_only_in_progress_and_by_the_assignee(self) -> None:
        check = self.run.run_checks.first()
        with self.assertRaises(FlowError):
            engine.mark_check(check, outcome=C.NO_ISSUES, actor=self.staff)  # not started
        engine.start_run(self.run, actor=self.staff, today=dt.date(2026, 11, 2))
        with self.assertRaises(FlowError):
            engine.mark_check(check, outcome=C.NO_ISSUES, actor=self.manager)
        with self.assertRaises(FlowError) as ctx:
            engine.mark_check(check, outcome=C.SOME_ISSUES, actor=self.staff)
        self.assertIn("comment", ctx.exception.errors)
        done = engine.mark_check(
            check, outcome=C.SOME_ISSUES, actor=self.staff, comment="Two lines"
        )
        self.assertEqual((done.status, done.comment), (C.SOME_ISSUES, "Two lines"))
        with self.assertRaises(InvalidTransition):
            engine.mark_check(check, outcome=C.NOT_APPLICABLE, actor=self.staff)
        engine.undo_check(check, actor=self.staff)
        self.run.refresh_from_db()
        self.assertEqual(self.run.checks_done, 0)

    def test_submit_review_in_order_hand_back_approve_and_complete(self) -> None:
        engine.start_run(self.run, actor=self.staff, today=dt.date(2026, 11, 2))
        with self.assertRaises(FlowError):
            engine.submit_run(self.run, actor=self.staff)  # checks not done
        self.work_all()
        run = engine.submit_run(self.run, actor=self.staff)
        self.assertEqual((run.status, run.review_stage), (R.IN_REVIEW, 1))
        self.assertTrue(Notification.objects.filter(user=self.manager).exists())
        with self.assertRaises(FlowError):
            engine.approve_run(run, actor=self.admin)  # the second reviewer, out of turn
        with self.assertRaises(FlowError):
            engine.hand_back_run(run, actor=self.manager, comment=" ")
        run = engine.hand_back_run(run, actor=self.manager, comment="Explain the suspense line")
        self.assertEqual(run.status, R.IN_PROGRESS)
        self.assertTrue(Notification.objects.filter(user=self.staff).exists())
        run = engine.submit_run(run, actor=self.staff)
        run = engine.approve_run(run, actor=self.manager)
        self.assertEqual((run.review_stage, run.approved), (2, False))
        with self.assertRaises(FlowError):
            engine.complete_run(run, actor=self.staff)  # not yet approved
        run = engine.approve_run(run, actor=self.admin)
        self.assertTrue(run.approved)
        with self.assertRaises(FlowError):
            engine.complete_run(run, actor=self.manager)  # only the assignee
        run = engine.complete_run(run, actor=self.staff)
        self.assertEqual(run.status, R.COMPLETE)
        steps = list(FlowRunSnapshot.objects.filter(run=run).values_list("step", flat=True))
        self.assertEqual(
            steps,
            [
                "in_progress",
                "in_review",
                "handed_back",
                "in_review",
                "approved",
                "approved",
                "complete",
            ],
        )
        with self.assertRaises(InvalidTransition):
            engine.start_run(run, actor=self.staff)

    def test_a_run_without_reviewers_is_completed_from_in_progress(self) -> None:
        FlowRun.objects.filter(pk=self.run.pk).update(reviewer=None, second_reviewer=None)
        engine.start_run(self.run, actor=self.staff, today=dt.date(2026, 11, 2))
        with self.assertRaises(FlowError):
            engine.complete_run(self.run, actor=self.staff)  # checks to do
        self.work_all()
        with self.assertRaises(FlowError):
            engine.submit_run(self.run, actor=self.staff)
        self.assertEqual(engine.complete_run(self.run, actor=self.staff).status, R.COMPLETE)
