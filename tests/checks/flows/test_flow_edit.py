"""Editing a repeating flow applies from the next run, never to runs made already; pausing and
resuming (missed periods skipped); deleting a run leaves the flow generating; who may."""

from __future__ import annotations

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

from checks.flows import editing, engine, making
from checks.flows.cadence import Cadence
from checks.flows.making import ClientTeam, FlowError, FlowSpec
from checks.models import CustomCheck, Flow, FlowClient, FlowRun
from sodium.models import ActivityEvent
from tests import factories as f
from tests.base import BaseTestCase

R = FlowRun.Status
LONDON = ZoneInfo("Europe/London")
MONTHLY = Cadence(offset=1, offset_unit="days", within=2, within_unit="weeks")


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON)


class EditTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(
            practice=self.practice, name="Acme Ltd", year_end_day=None, year_end_month=None
        )
        self.bolt = f.ClientFactory(practice=self.practice, name="Bolt Ltd")
        self.cog = f.ClientFactory(
            practice=self.practice, name="Cog Ltd", default_assignee=self.admin,
            default_reviewer=self.owner,
        )  # fmt: skip
        self.custom = CustomCheck.objects.create(practice=self.practice, name="Fixed assets")
        self.flow = making.create_flow(
            self.practice,
            FlowSpec(
                kind=Flow.Kind.REPEATING,
                name="Monthly review",
                checks=("builtin:bank_reconciliation", "builtin:lock_date"),
                clients=(
                    ClientTeam(self.acme.pk, self.staff.pk, self.manager.pk),
                    ClientTeam(self.bolt.pk, self.staff.pk),
                ),
                cadence=MONTHLY,
            ),
            actor=self.manager,
            today=dt.date(2026, 10, 28),
        )

    def sweep(self, day: dt.date) -> int:
        with mock.patch("django.utils.timezone.now", return_value=at(day)):
            return making.generate_due_runs(at(day))

    def edit(self, today: dt.date, **kw) -> Flow:
        values = {
            "name": "Monthly review",
            "checks": ("builtin:bank_reconciliation", "builtin:lock_date"),
            "cadence": MONTHLY,
            "clients": (
                ClientTeam(self.acme.pk, self.staff.pk, self.manager.pk),
                ClientTeam(self.bolt.pk, self.staff.pk),
            ),
        }
        values.update(kw)
        flow = Flow.objects.get(pk=self.flow.pk)
        return editing.update_flow(flow, actor=self.manager, today=today, **values)

    def checks_of(self, run: FlowRun) -> list[str]:
        return [c.name for c in run.run_checks.order_by("position")]

    def fc(self, client) -> FlowClient:
        return FlowClient.objects.get(flow=self.flow, client=client)


class UpdateFlowTests(EditTestCase):
    def test_a_started_run_keeps_its_checks_and_client_and_the_next_run_takes_the_edit(
        self,
    ) -> None:
        self.assertEqual(self.sweep(dt.date(2026, 11, 1)), 2)
        started = FlowRun.objects.get(flow=self.flow, client=self.acme)
        with mock.patch("django.utils.timezone.now", return_value=at(dt.date(2026, 11, 2))):
            started = engine.start_run(started, actor=self.staff, today=dt.date(2026, 11, 2))
        waiting = FlowRun.objects.get(flow=self.flow, client=self.bolt)
        before = (self.checks_of(started), started.client_id, started.assignee_id, started.due_date)
        flow = self.edit(
            dt.date(2026, 11, 3),
            name="Monthly review (new)",
            checks=(f"custom:{self.custom.pk}", "builtin:vat"),
            clients=(ClientTeam(self.acme.pk, self.admin.pk, self.owner.pk),),
        )
        self.assertEqual(flow.version, 2)
        started.refresh_from_db()
        self.assertEqual(
            (self.checks_of(started), started.client_id, started.assignee_id, started.due_date),
            before,
        )
        self.assertEqual((started.status, started.flow_version), (R.IN_PROGRESS, 1))
        # Not started runs are not touched either, nor is a removed client's run deleted.
        waiting.refresh_from_db()
        self.assertEqual(self.checks_of(waiting), ["Bank reconciliation", "Lock date"])
        self.assertEqual(self.sweep(dt.date(2026, 12, 1)), 1)  # Bolt was removed
        nxt = FlowRun.objects.get(
            flow=self.flow, client=self.acme, period_start=dt.date(2026, 11, 1)
        )
        self.assertEqual(self.checks_of(nxt), ["Fixed assets", "VAT"])
        self.assertEqual(
            (nxt.flow_version, nxt.assignee, nxt.reviewer), (2, self.admin, self.owner)
        )
        self.assertEqual(nxt.checks_total, 2)
        self.assertFalse(
            FlowRun.objects.filter(
                client=self.bolt, period_start__gte=dt.date(2026, 11, 1)
            ).exists()
        )
        self.assertTrue(
            ActivityEvent.objects.filter(verb="flow.edited", summary__contains="1 removed").exists()
        )

    def test_a_new_client_starts_from_the_cadences_next_date_after_today(self) -> None:
        self.sweep(dt.date(2026, 11, 1))
        self.edit(
            dt.date(2026, 11, 20),
            clients=(
                ClientTeam(self.acme.pk, self.staff.pk, self.manager.pk),
                ClientTeam(self.bolt.pk, self.staff.pk),
                ClientTeam(self.cog.pk, self.admin.pk),
            ),
        )
        cog = self.fc(self.cog)
        self.assertEqual(
            (cog.next_date, cog.generated_until), (dt.date(2026, 12, 1), dt.date(2026, 11, 20))
        )
        self.assertEqual(self.fc(self.acme).next_date, dt.date(2026, 12, 1))  # unchanged
        self.assertEqual(self.sweep(dt.date(2026, 12, 1)), 3)
        self.assertEqual(FlowRun.objects.filter(client=self.cog).count(), 1)  # no October run

    def test_a_changed_cadence_moves_every_clients_next_date_and_makes_nothing_missed(self) -> None:
        self.sweep(dt.date(2026, 11, 1))
        fifth = Cadence(offset=5, within=3, within_unit="weeks")
        flow = self.edit(dt.date(2026, 11, 6), cadence=fifth)
        self.assertEqual(flow.next_run_at.date(), dt.date(2026, 12, 5))
        self.assertEqual(
            [self.fc(c).next_date for c in (self.acme, self.bolt)], [dt.date(2026, 12, 5)] * 2
        )
        self.assertEqual(self.sweep(dt.date(2026, 12, 1)), 0)  # the old date makes nothing
        self.assertEqual(self.sweep(dt.date(2026, 12, 5)), 2)
        run = FlowRun.objects.get(client=self.acme, period_start=dt.date(2026, 11, 1))
        self.assertEqual(
            (run.period_end, run.due_date), (dt.date(2026, 11, 30), dt.date(2026, 12, 26))
        )
        # An event cadence from a date before today makes no run for the days in between.
        Client = type(self.acme)
        Client.objects.filter(pk__in=[self.acme.pk, self.bolt.pk]).update(
            year_end_day=30, year_end_month=11
        )
        event = Cadence(mode="event", event="year_end", offset=2, within=4, within_unit="weeks")
        self.edit(dt.date(2026, 12, 6), cadence=event)
        self.assertEqual(self.fc(self.acme).next_date, dt.date(2027, 12, 2))
        self.assertEqual(self.sweep(dt.date(2026, 12, 7)), 0)

    def periods(self, client) -> list[tuple[dt.date, dt.date]]:
        runs = FlowRun.objects.filter(flow=self.flow, client=client).order_by("period_start")
        return list(runs.values_list("period_start", "period_end"))

    def test_monthly_to_quarterly_makes_the_quarter_that_starts_with_a_reviewed_month(
        self,
    ) -> None:
        self.sweep(dt.date(2026, 11, 1))  # October's run
        quarterly = Cadence(period="quarter", offset=1, within=2, within_unit="weeks")
        self.edit(dt.date(2026, 11, 10), cadence=quarterly)
        self.assertEqual(self.fc(self.acme).next_date, dt.date(2027, 1, 1))
        self.assertEqual(self.sweep(dt.date(2027, 1, 1)), 2)
        # The quarter begins on the day October's run did: both are kept, not the first only.
        self.assertEqual(
            self.periods(self.acme),
            [(dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
             (dt.date(2026, 10, 1), dt.date(2026, 12, 31))],
        )  # fmt: skip
        self.assertEqual(self.sweep(dt.date(2027, 1, 2)), 0)

    def test_quarterly_to_monthly_carries_on_from_the_last_quarter_without_a_gap(self) -> None:
        quarterly = Cadence(period="quarter", offset=1, within=2, within_unit="weeks")
        self.edit(dt.date(2026, 9, 20), cadence=quarterly)
        self.assertEqual(self.sweep(dt.date(2026, 10, 1)), 2)  # July–September
        self.edit(dt.date(2026, 11, 15), cadence=MONTHLY)
        # October's period has passed its date: the next sweep makes it, then November's.
        self.assertEqual(self.fc(self.acme).next_date, dt.date(2026, 11, 1))
        self.assertEqual(self.sweep(dt.date(2026, 11, 15)), 2)
        self.assertEqual(self.sweep(dt.date(2026, 12, 1)), 2)
        self.assertEqual(
            self.periods(self.acme),
            [(dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
             (dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
             (dt.date(2026, 11, 1), dt.date(2026, 11, 30))],
        )  # fmt: skip
        run = FlowRun.objects.get(client=self.acme, period_end=dt.date(2026, 10, 31))
        self.assertEqual(run.due_date, dt.date(2026, 11, 15))  # two weeks after 1 November

    def test_an_unchanged_cadence_keeps_its_start_and_dates(self) -> None:
        stored = dict(self.flow.cadence)
        flow = self.edit(dt.date(2026, 10, 30), name="Renamed")
        self.assertEqual(flow.cadence, stored)
        self.assertEqual(self.fc(self.acme).generated_until, None)
        self.assertEqual(self.sweep(dt.date(2026, 11, 1)), 2)

    def test_a_custom_check_archived_since_stays_until_it_is_unticked(self) -> None:
        refs = (f"custom:{self.custom.pk}", "builtin:vat")
        self.edit(dt.date(2026, 10, 29), checks=refs)
        CustomCheck.objects.filter(pk=self.custom.pk).update(archived=True)
        flow = self.edit(dt.date(2026, 10, 30), name="Renamed", checks=refs)
        self.assertEqual([c.ref for c in flow.checks.order_by("position")], list(refs))
        self.edit(dt.date(2026, 10, 30), checks=("builtin:vat",))
        # Once gone from the flow, an archived check cannot be added back.
        with self.assertRaises(FlowError) as ctx:
            self.edit(dt.date(2026, 10, 30), checks=refs)
        self.assertIn("no longer exists", ctx.exception.errors["checks"])
        flow = Flow.objects.get(pk=self.flow.pk)
        self.assertEqual([c.ref for c in flow.checks.all()], ["builtin:vat"])

    def test_bad_edits_are_refused_and_change_nothing(self) -> None:
        event = Cadence(mode="event", event="year_end", offset=0, within=4, within_unit="weeks")
        cases = {
            "name": dict(name="  "),
            "checks": dict(checks=()),
            "offset": dict(cadence=Cadence(offset=40)),
            "team": dict(clients=(ClientTeam(self.acme.pk, self.staff.pk, self.staff.pk),)),
            "clients": dict(clients=()),
        }
        for field, kw in cases.items():
            with self.subTest(field), self.assertRaises(FlowError) as ctx:
                self.edit(dt.date(2026, 10, 30), **kw)
            self.assertIn(field, ctx.exception.errors)
        with self.assertRaises(FlowError) as ctx:  # Acme has no year end
            self.edit(dt.date(2026, 10, 30), cadence=event)
        self.assertIn("Acme Ltd: no year end", ctx.exception.errors["clients"])
        with self.assertRaises(FlowError) as ctx:
            self.edit(dt.date(2026, 10, 30), clients=(ClientTeam(self.other_client.pk),))
        self.assertIn("not an active client", ctx.exception.errors["clients"])
        with self.assertRaises(FlowError):
            self.edit(
                dt.date(2026, 10, 30),
                clients=(ClientTeam(self.acme.pk), ClientTeam(self.acme.pk)),
            )
        flow = Flow.objects.get(pk=self.flow.pk)
        self.assertEqual((flow.version, flow.name), (1, "Monthly review"))
        self.assertEqual(flow.checks.count(), 2)
        self.assertEqual(flow.flow_clients.count(), 2)

    def test_a_one_off_flow_cannot_be_edited_paused_or_resumed(self) -> None:
        one_off = making.create_flow(
            self.practice,
            FlowSpec(
                kind=Flow.Kind.ONE_OFF,
                name="Once",
                checks=("builtin:vat",),
                clients=(ClientTeam(self.acme.pk, self.staff.pk),),
                period_start=dt.date(2026, 10, 1),
                period_end=dt.date(2026, 10, 31),
                due_date=dt.date(2026, 11, 30),
            ),
            actor=self.manager,
            today=dt.date(2026, 11, 2),
        )
        for call in (
            lambda: editing.update_flow(
                one_off, actor=self.manager, name="x", checks=("builtin:vat",),
                cadence=MONTHLY, clients=(ClientTeam(self.acme.pk),),
            ),
            lambda: editing.pause_flow(one_off, actor=self.manager),
            lambda: editing.resume_flow(one_off, actor=self.manager),
        ):  # fmt: skip
            with self.assertRaises(FlowError):
                call()


class PauseResumeTests(EditTestCase):
    def test_paused_periods_are_skipped_and_resuming_goes_on_from_today(self) -> None:
        self.assertEqual(self.sweep(dt.date(2026, 11, 1)), 2)
        editing.pause_flow(self.flow, actor=self.manager)
        self.assertEqual(self.sweep(dt.date(2026, 12, 1)), 0)
        self.assertEqual(self.sweep(dt.date(2027, 1, 1)), 0)
        flow = editing.resume_flow(self.flow, actor=self.manager, today=dt.date(2027, 1, 15))
        self.assertFalse(flow.paused)
        self.assertEqual(flow.next_run_at.date(), dt.date(2027, 2, 1))
        self.assertEqual(self.sweep(dt.date(2027, 1, 15)), 0)  # December and January: skipped
        self.assertEqual(self.sweep(dt.date(2027, 2, 1)), 2)
        starts = sorted(
            set(FlowRun.objects.filter(flow=self.flow).values_list("period_start", flat=True))
        )
        self.assertEqual(starts, [dt.date(2026, 10, 1), dt.date(2027, 1, 1)])

    def test_resuming_on_a_scheduled_date_makes_that_days_run(self) -> None:
        editing.pause_flow(self.flow, actor=self.manager)
        editing.resume_flow(self.flow, actor=self.manager, today=dt.date(2026, 12, 1))
        self.assertEqual(self.sweep(dt.date(2026, 12, 1)), 2)
        self.assertEqual(
            set(FlowRun.objects.values_list("period_start", flat=True)), {dt.date(2026, 11, 1)}
        )

    def test_pausing_twice_or_resuming_a_running_flow_changes_nothing(self) -> None:
        editing.pause_flow(self.flow, actor=self.manager)
        editing.pause_flow(self.flow, actor=self.manager)
        self.assertEqual(ActivityEvent.objects.filter(verb="flow.paused").count(), 1)
        editing.resume_flow(self.flow, actor=self.manager, today=dt.date(2026, 10, 29))
        editing.resume_flow(self.flow, actor=self.manager, today=dt.date(2026, 10, 29))
        self.assertEqual(ActivityEvent.objects.filter(verb="flow.resumed").count(), 1)


class EditViewTests(EditTestCase):
    def post_data(self, **overrides) -> dict:
        data = {
            "name": "Monthly review",
            "mode": "scheduled",
            "period": "month",
            "every": "1",
            "event": "year_end",
            "offset": "1",
            "offset_unit": "days",
            "within": "2",
            "within_unit": "weeks",
            "rule": "none",
            "check-builtin:bank_reconciliation": "on",
            "order-builtin:bank_reconciliation": "1",
            "check-builtin:lock_date": "on",
            "order-builtin:lock_date": "2",
            f"assignee-{self.acme.pk}": str(self.staff.pk),
            f"reviewer-{self.acme.pk}": str(self.manager.pk),
            f"assignee-{self.bolt.pk}": str(self.staff.pk),
        }
        data.update(overrides)
        return {k: v for k, v in data.items() if v is not None}

    def url(self, action: str = "edit/") -> str:
        return f"/checks/flows/{self.flow.pk}/{action}"

    def test_staff_may_not_edit_pause_or_delete(self) -> None:
        self.sweep(dt.date(2026, 11, 1))
        run = FlowRun.objects.filter(flow=self.flow).first()
        self.client.force_login(self.staff)
        for method, url in (
            ("get", self.url()),
            ("post", self.url()),
            ("post", self.url("pause/")),
            ("post", self.url("resume/")),
            ("get", self.url(f"runs/{run.pk}/delete/")),
            ("post", self.url(f"runs/{run.pk}/delete/")),
        ):
            with self.subTest(url=url, method=method):
                r = getattr(self.client, method)(url, self.post_data() if method == "post" else {})
                self.assertEqual(r.status_code, 403)
        self.assertEqual(Flow.objects.get(pk=self.flow.pk).version, 1)
        self.assertTrue(FlowRun.objects.filter(pk=run.pk).exists())

    def test_a_manager_reorders_adds_removes_checks_and_clients_and_changes_a_team(self) -> None:
        self.client.force_login(self.manager)
        r = self.client.get(self.url())
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, 'name="check-builtin:lock_date"')
        tag = f.TagFactory(practice=self.practice, name="Ledger clients")
        self.cog.tags.add(tag)
        data = self.post_data(
            **{
                "order-builtin:lock_date": "1",
                "order-builtin:bank_reconciliation": "3",
                f"check-custom:{self.custom.pk}": "on",
                f"order-custom:{self.custom.pk}": "2",
                f"remove-{self.bolt.pk}": "on",
                f"assignee-{self.acme.pk}": str(self.admin.pk),
                f"second-{self.acme.pk}": str(self.owner.pk),
                "add_tag": str(tag.pk),
            }
        )
        with mock.patch("django.utils.timezone.now", return_value=at(dt.date(2026, 10, 29))):
            r = self.client.post(self.url(), data)
        self.assertRedirects(r, f"/checks/flows/{self.flow.pk}/", fetch_redirect_response=False)
        flow = Flow.objects.get(pk=self.flow.pk)
        self.assertEqual(flow.version, 2)
        self.assertEqual(
            [c.ref for c in flow.checks.order_by("position")],
            ["builtin:lock_date", f"custom:{self.custom.pk}", "builtin:bank_reconciliation"],
        )
        teams = {
            fc.client.name: (fc.assignee, fc.reviewer, fc.second_reviewer)
            for fc in flow.flow_clients.select_related("client")
        }
        self.assertEqual(
            teams,
            {
                "Acme Ltd": (self.admin, self.manager, self.owner),
                "Cog Ltd": (self.admin, self.owner, None),  # the client's defaults
            },
        )

    def test_the_edit_page_offers_an_archived_check_only_where_the_flow_has_it(self) -> None:
        other = CustomCheck.objects.create(practice=self.practice, name="Old check", archived=True)
        self.edit(dt.date(2026, 10, 29), checks=(f"custom:{self.custom.pk}", "builtin:vat"))
        CustomCheck.objects.filter(pk=self.custom.pk).update(archived=True)
        self.client.force_login(self.manager)
        r = self.client.get(self.url())
        self.assertContains(r, "Fixed assets (archived)")
        self.assertContains(r, f'name="check-custom:{self.custom.pk}"')
        self.assertNotContains(r, f'name="check-custom:{other.pk}"')
        data = self.post_data(
            **{
                "check-builtin:bank_reconciliation": None,
                "check-builtin:lock_date": None,
                f"check-custom:{self.custom.pk}": "on",
                f"order-custom:{self.custom.pk}": "1",
                "check-builtin:vat": "on",
                "order-builtin:vat": "2",
            }
        )
        r = self.client.post(self.url(), data)
        self.assertEqual(r.status_code, 302)
        flow = Flow.objects.get(pk=self.flow.pk)
        self.assertEqual(
            [c.ref for c in flow.checks.order_by("position")],
            [f"custom:{self.custom.pk}", "builtin:vat"],
        )

    def test_bad_input_gets_a_readable_message_and_changes_nothing(self) -> None:
        self.client.force_login(self.manager)
        for data, message in (
            (
                self.post_data(
                    **{"check-builtin:bank_reconciliation": None, "check-builtin:lock_date": None}
                ),
                "Tick at least one check.",
            ),
            (
                self.post_data(**{f"reviewer-{self.acme.pk}": str(self.staff.pk)}),
                "A reviewer cannot also be the assignee.",
            ),
            (self.post_data(offset="40"), "Give 1 to 28 days."),
            (self.post_data(offset="soon"), "Give a whole number."),
            (
                self.post_data(**{f"assignee-{self.acme.pk}": str(self.outsider.pk)}),
                "Select a valid choice",
            ),
            (
                self.post_data(**{f"remove-{self.acme.pk}": "on", f"remove-{self.bolt.pk}": "on"}),
                "Keep at least one client.",
            ),
        ):
            with self.subTest(message=message):
                r = self.client.post(self.url(), data)
                self.assertEqual(r.status_code, 200)
                self.assertContains(r, message)
        self.assertEqual(Flow.objects.get(pk=self.flow.pk).version, 1)

    def test_a_one_off_flows_edit_page_says_why_not(self) -> None:
        Flow.objects.filter(pk=self.flow.pk).update(kind=Flow.Kind.ONE_OFF)
        self.client.force_login(self.manager)
        r = self.client.get(self.url(), follow=True)
        self.assertContains(r, "cannot be edited")

    def test_pause_and_resume_through_the_page(self) -> None:
        self.client.force_login(self.manager)
        r = self.client.post(self.url("pause/"), follow=True)
        self.assertContains(r, "Paused Monthly review")
        self.assertTrue(Flow.objects.get(pk=self.flow.pk).paused)
        self.assertContains(r, ">Resume</button>")
        r = self.client.post(self.url("resume/"), follow=True)
        self.assertContains(r, "Resumed Monthly review")
        self.assertFalse(Flow.objects.get(pk=self.flow.pk).paused)
        self.assertEqual(self.client.get(self.url("pause/")).status_code, 405)

    def test_deleting_a_run_confirms_first_and_the_flow_goes_on(self) -> None:
        self.sweep(dt.date(2026, 11, 1))
        run = FlowRun.objects.get(flow=self.flow, client=self.acme)
        self.client.force_login(self.manager)
        r = self.client.get(self.url(f"runs/{run.pk}/delete/"))
        self.assertContains(r, "The flow goes on making the next runs")
        self.assertTrue(FlowRun.objects.filter(pk=run.pk).exists())
        r = self.client.post(self.url(f"runs/{run.pk}/delete/"), follow=True)
        self.assertContains(r, "Deleted the run for Acme Ltd, October 2026.")
        self.assertFalse(FlowRun.objects.filter(pk=run.pk).exists())
        self.assertEqual(self.sweep(dt.date(2026, 11, 2)), 0)  # not made again
        self.assertEqual(self.sweep(dt.date(2026, 12, 1)), 2)  # the flow goes on
