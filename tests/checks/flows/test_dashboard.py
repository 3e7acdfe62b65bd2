"""The flows dashboard: open runs by due date against the practice's today, counts, filters,
progress, pages per section, a fixed number of queries; the flows list and a flow's page."""

from __future__ import annotations

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

from django.db import connection
from django.test.utils import CaptureQueriesContext

from checks.flows import making
from checks.flows.cadence import Cadence
from checks.flows.making import ClientTeam, FlowSpec
from checks.models import Flow, FlowClient, FlowRun, FlowTemplate
from tests import factories as f
from tests.base import BaseTestCase

R = FlowRun.Status
LONDON = ZoneInfo("Europe/London")
TODAY = dt.date(2026, 11, 10)


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON)


class DashboardTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.clock = mock.patch("django.utils.timezone.now", return_value=at(TODAY))
        self.clock.start()
        self.addCleanup(self.clock.stop)
        self.template = FlowTemplate.objects.create(practice=self.practice, name="Month end")
        self.vip = f.TagFactory(practice=self.practice, name="VIP")

    def one_off(self, clients, *, name="October review", template=None, team=None) -> Flow:
        team = team or (lambda c: ClientTeam(c.pk, self.staff.pk, self.manager.pk))
        spec = FlowSpec(
            kind=Flow.Kind.ONE_OFF,
            name=name,
            checks=("builtin:bank_reconciliation", "builtin:lock_date", "builtin:vat"),
            clients=tuple(team(c) for c in clients),
            template_id=template.pk if template else None,
            period_start=dt.date(2026, 10, 1),
            period_end=dt.date(2026, 10, 31),
            due_date=dt.date(2026, 11, 30),
        )
        return making.create_flow(
            self.practice, spec, actor=self.manager, today=dt.date(2026, 11, 2)
        )

    def run_of(self, client) -> FlowRun:
        return FlowRun.objects.get(client=client)

    def due(self, client, day: dt.date, **fields) -> FlowRun:
        """Set a run's due date (and status fields): the test's arrangement of the world."""
        FlowRun.objects.filter(client=client).update(due_date=day, **fields)
        return self.run_of(client)

    def get(self, user=None, **params):
        self.client.force_login(user or self.staff)
        return self.client.get("/checks/flows/", params)

    def shown(self, response) -> dict[str, list[str]]:
        return {
            s["name"]: [run.client_name for run in s["runs"]] for s in response.context["sections"]
        }


class SectionTests(DashboardTestCase):
    def setUp(self) -> None:
        super().setUp()
        names = ["Late Ltd", "Today Ltd", "Week Ltd", "Later Ltd", "Done Ltd"]
        self.c = {n: f.ClientFactory(practice=self.practice, name=n) for n in names}
        self.one_off(self.c.values())
        self.due(self.c["Late Ltd"], dt.date(2026, 11, 9))
        self.due(self.c["Today Ltd"], TODAY)
        self.due(self.c["Week Ltd"], dt.date(2026, 11, 17))
        self.due(self.c["Later Ltd"], dt.date(2026, 11, 18))
        self.due(self.c["Done Ltd"], dt.date(2026, 11, 1), status=R.COMPLETE)

    def test_open_runs_fall_into_sections_by_due_date_against_the_practices_today(self) -> None:
        r = self.get()
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "checks/flows/dashboard.html")
        self.assertEqual(
            self.shown(r),
            {
                "overdue": ["Late Ltd"],
                "soon": ["Today Ltd", "Week Ltd"],
                "upcoming": ["Later Ltd"],
            },
        )
        self.assertContains(r, "Nothing is overdue.", count=0)

    def test_a_week_later_the_sections_move_on(self) -> None:
        self.clock.stop()
        with mock.patch("django.utils.timezone.now", return_value=at(dt.date(2026, 11, 18))):
            r = self.get()
        self.clock.start()
        self.assertEqual(
            self.shown(r),
            {
                "overdue": ["Late Ltd", "Today Ltd", "Week Ltd"],
                "soon": ["Later Ltd"],
                "upcoming": [],
            },
        )
        self.assertContains(r, "No later runs yet")

    def test_the_practices_time_zone_decides_today(self) -> None:
        # 00:30 in London on the 10th is still the 9th in New York: nothing due the 9th is late.
        self.practice.time_zone = "America/New_York"
        self.practice.save(update_fields=["time_zone"])
        self.clock.stop()
        with mock.patch(
            "django.utils.timezone.now",
            return_value=dt.datetime(2026, 11, 10, 0, 30, tzinfo=LONDON),
        ):
            r = self.get()
        self.clock.start()
        self.assertEqual(self.shown(r)["overdue"], [])
        self.assertEqual(self.shown(r)["soon"][0], "Late Ltd")

    def test_counts_tiles_and_progress(self) -> None:
        self.due(self.c["Week Ltd"], dt.date(2026, 11, 17), status=R.IN_REVIEW, checks_done=3)
        self.due(self.c["Today Ltd"], TODAY, status=R.IN_PROGRESS, checks_done=1)
        FlowRun.objects.filter(client=self.c["Done Ltd"]).update(completed_at=at(TODAY))
        # Completed last month: not this month's.
        other = f.ClientFactory(practice=self.practice, name="Old Ltd")
        self.one_off([other], name="Old review")
        self.due(
            other, dt.date(2026, 10, 20), status=R.COMPLETE, completed_at=at(dt.date(2026, 10, 31))
        )
        r = self.get()
        self.assertEqual(
            r.context["counts"],
            {"overdue": 1, "soon": 2, "upcoming": 1, "in_review": 1, "complete_month": 1},
        )
        self.assertContains(r, '<span class="stat-label">Complete this month</span>')
        self.assertContains(
            r,
            '<progress class="progress progress-sm" value="1" max="3" '
            'aria-label="1 of 3 checks done"></progress>'
            '<span class="progress-counts">1 of 3</span>',
            html=False,
        )
        self.assertContains(r, '<span class="chip chip-tone-purple block-chip">In review</span>')
        self.assertContains(r, '<span class="chip chip-tone-info block-chip">In progress</span>')
        self.assertContains(r, '<span class="chip chip-tone-muted block-chip">Not started</span>')
        self.assertContains(r, 'href="/checks/flows/creator/"', count=0)  # staff make none

    def test_the_current_reviewer_is_shown_in_review(self) -> None:
        self.due(
            self.c["Week Ltd"],
            dt.date(2026, 11, 17),
            status=R.IN_REVIEW,
            review_stage=2,
            second_reviewer=self.admin,
        )
        r = self.get()
        soon = next(s for s in r.context["sections"] if s["name"] == "soon")
        run = next(run for run in soon["runs"] if run.client_name == "Week Ltd")
        self.assertEqual(run.shown_reviewer, str(self.admin))
        self.assertContains(r, f"with {self.admin}")

    def test_managers_get_the_create_link(self) -> None:
        r = self.get(self.manager)
        self.assertContains(
            r, '<a class="btn btn-primary" href="/checks/flows/creator/">Create a flow</a>'
        )

    def test_empty_practice_shows_empty_states(self) -> None:
        FlowRun.objects.all().delete()
        r = self.get()
        self.assertContains(r, "Nothing is overdue.")
        self.assertContains(r, "Nothing is due in the next 7 days.")
        self.assertEqual(r.context["counts"]["overdue"], 0)

    def test_htmx_gets_the_body_or_one_section(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get("/checks/flows/", headers={"HX-Request": "true"})
        self.assertContains(r, 'id="flows-body"')
        self.assertNotContains(r, "<html")
        r = self.client.get(
            "/checks/flows/?overdue=1",
            headers={"HX-Request": "true", "HX-Target": "flows-overdue"},
        )
        self.assertContains(r, 'id="flows-overdue"')
        self.assertNotContains(r, 'id="flows-body"')
        self.assertNotContains(r, 'id="flows-soon"')

    def test_the_nav_has_flows_marked_current(self) -> None:
        r = self.get()
        self.assertContains(r, '<a href="/checks/flows/" aria-current="page">Flows</a>', count=2)
        self.assertNotContains(r, '<a href="/checks/" aria-current="page">Data health</a>')


class FilterTests(DashboardTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        self.bolt = f.ClientFactory(practice=self.practice, name="Bolt Ltd")
        self.cog = f.ClientFactory(practice=self.practice, name="Cog Ltd")
        self.cog.tags.add(self.vip)
        self.one_off([self.acme], template=self.template)
        self.one_off(
            [self.bolt],
            name="Bolt review",
            team=lambda c: ClientTeam(c.pk, self.admin.pk, self.owner.pk, self.manager.pk),
        )
        self.one_off([self.cog], name="Cog review")
        self.due(self.acme, dt.date(2026, 11, 1))
        self.due(self.bolt, dt.date(2026, 11, 12))
        self.due(self.cog, dt.date(2026, 12, 30))

    def names(self, **params) -> list[str]:
        r = self.get(**params)
        self.assertEqual(r.status_code, 200)
        return sorted(n for names in self.shown(r).values() for n in names)

    def test_each_filter_narrows_every_section_and_the_counts(self) -> None:
        self.assertEqual(self.names(), ["Acme Ltd", "Bolt Ltd", "Cog Ltd"])
        self.assertEqual(self.names(assignee=self.admin.pk), ["Bolt Ltd"])
        self.assertEqual(self.names(reviewer=self.manager.pk), ["Acme Ltd", "Bolt Ltd", "Cog Ltd"])
        self.assertEqual(self.names(reviewer=self.owner.pk), ["Bolt Ltd"])
        self.assertEqual(self.names(template=self.template.pk), ["Acme Ltd"])
        self.assertEqual(self.names(client=self.cog.pk), ["Cog Ltd"])
        self.assertEqual(self.names(tag=self.vip.pk), ["Cog Ltd"])
        self.assertEqual(self.names(tag=self.vip.pk, assignee=self.admin.pk), [])
        r = self.get(assignee=self.admin.pk)
        self.assertEqual(r.context["counts"]["soon"], 1)
        self.assertEqual(r.context["counts"]["overdue"], 0)
        self.assertContains(r, "Clear the filters")
        self.assertContains(r, "No run matches these filters here.", count=2)

    def test_a_bad_filter_value_is_refused_readably_and_ignored(self) -> None:
        r = self.get(assignee="999999", client="nonsense")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Assignee: that choice is no longer there")
        self.assertEqual(len(self.names(assignee="999999")), 3)

    def test_another_practices_people_and_tags_are_not_choices(self) -> None:
        rival_tag = f.TagFactory(practice=self.other_practice, name="Rival tag")
        r = self.get(tag=rival_tag.pk)
        self.assertContains(r, "Tag: that choice is no longer there")
        self.assertNotContains(r, "Rival tag")
        self.assertNotContains(r, str(self.outsider))


class PagingAndQueryTests(DashboardTestCase):
    def make(self, n: int, start: int = 0) -> None:
        clients = [
            f.ClientFactory(practice=self.practice, name=f"Client {i:03d}")
            for i in range(start, start + n)
        ]
        self.one_off(clients, name=f"Review {start}")
        self.vip.clients.add(*clients[::2])
        # A third each: overdue, due this week, later; some in review, some complete.
        for i, client in enumerate(clients):
            day = [dt.date(2026, 11, 1), dt.date(2026, 11, 12), dt.date(2026, 12, 20)][i % 3]
            fields = {"status": R.IN_REVIEW, "review_stage": 1} if i % 4 == 1 else {}
            self.due(client, day, **fields)

    def count(self) -> int:
        with CaptureQueriesContext(connection) as ctx:
            r = self.client.get("/checks/flows/")
        self.assertEqual(r.status_code, 200)
        return len(ctx.captured_queries)

    def test_the_query_count_is_the_same_for_5_runs_and_50(self) -> None:
        self.make(5)
        self.client.force_login(self.staff)
        self.client.get("/checks/flows/")  # warm
        five = self.count()
        self.make(45, start=5)
        self.assertEqual(FlowRun.objects.count(), 50)
        with self.assertNumQueries(five):
            r = self.client.get("/checks/flows/")
        self.assertEqual(sum(len(s["runs"]) for s in r.context["sections"]), 50)
        # And filtered: the same queries, fewer rows.
        with CaptureQueriesContext(connection) as ctx:
            r = self.client.get("/checks/flows/", {"assignee": self.staff.pk, "tag": self.vip.pk})
        self.assertEqual(len(ctx.captured_queries), five)
        tagged = FlowRun.objects.filter(client__tags=self.vip).count()
        self.assertEqual(sum(len(s["runs"]) for s in r.context["sections"]), tagged)
        self.assertLess(tagged, 50)

    def test_a_large_section_shows_25_and_a_show_more_link(self) -> None:
        clients = [f.ClientFactory(practice=self.practice, name=f"Late {i:03d}") for i in range(60)]
        self.one_off(clients)
        FlowRun.objects.update(due_date=dt.date(2026, 11, 1))
        r = self.get()
        overdue = r.context["sections"][0]
        self.assertEqual((overdue["total"], len(overdue["runs"])), (60, 25))
        self.assertContains(r, "Show more (35 left)")
        self.assertContains(r, 'href="?overdue=2#flows-overdue"')
        r = self.get(overdue=3)
        overdue = r.context["sections"][0]
        self.assertEqual([run.client_name for run in overdue["runs"]][0], "Late 050")
        self.assertEqual(len(overdue["runs"]), 10)
        self.assertContains(r, "← Earlier")
        self.assertNotContains(r, "Show more")
        # A page past the end shows the last one; nonsense shows the first.
        self.assertEqual(len(self.get(overdue=99).context["sections"][0]["runs"]), 10)
        self.assertEqual(len(self.get(overdue="x").context["sections"][0]["runs"]), 25)


class IsolationTests(DashboardTestCase):
    def test_another_practices_runs_and_flows_are_not_shown_and_answer_404(self) -> None:
        rival = making.create_flow(
            self.other_practice,
            FlowSpec(
                kind="one_off",
                name="Rival flow",
                checks=("builtin:vat",),
                clients=(ClientTeam(self.other_client.pk, self.outsider.pk),),
                period_start=dt.date(2026, 10, 1),
                period_end=dt.date(2026, 10, 31),
                due_date=dt.date(2026, 11, 12),
            ),
            actor=self.outsider,
            today=dt.date(2026, 11, 2),
        )
        r = self.get(self.owner)
        self.assertNotContains(r, "Rival")
        self.assertEqual(r.context["counts"]["soon"], 0)
        self.assertNotContains(self.client.get("/checks/flows/list/"), "Rival")
        self.assertEqual(self.client.get(f"/checks/flows/{rival.pk}/").status_code, 404)
        run = rival.runs.get()
        mine = self.one_off([f.ClientFactory(practice=self.practice)])
        url = f"/checks/flows/{mine.pk}/runs/{run.pk}/delete/"
        self.assertEqual(self.client.post(url).status_code, 404)
        self.assertTrue(FlowRun.objects.filter(pk=run.pk).exists())


class FlowListAndDetailTests(DashboardTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(
            practice=self.practice, name="Acme Ltd", year_end_day=31, year_end_month=3
        )
        self.bolt = f.ClientFactory(
            practice=self.practice, name="Bolt Ltd", year_end_day=None, year_end_month=None
        )
        self.one = self.one_off([self.acme, self.bolt])
        FlowRun.objects.filter(client=self.bolt).update(status=R.COMPLETE)
        self.rep = making.create_flow(
            self.practice,
            FlowSpec(
                kind=Flow.Kind.REPEATING,
                name="Monthly review",
                checks=("builtin:bank_reconciliation",),
                clients=(ClientTeam(self.acme.pk, self.staff.pk, self.manager.pk, self.admin.pk),),
                cadence=Cadence(offset=1, within=2, within_unit="weeks"),
            ),
            actor=self.manager,
            today=TODAY,
        )
        FlowClient.objects.create(
            practice=self.practice, flow=self.rep, client=self.bolt, skip_reason="no year end"
        )

    def test_the_list_shows_cadence_clients_runs_by_status_and_next_date(self) -> None:
        self.client.force_login(self.staff)
        with CaptureQueriesContext(connection) as ctx:
            r = self.client.get("/checks/flows/list/")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "1 day after each month ends; complete within 2 weeks")
        self.assertContains(r, "October 2026; due 30 Nov 2026")
        self.assertContains(r, '<span class="chip chip-tone-muted">1 not started</span>')
        self.assertContains(r, '<span class="chip chip-tone-ok">1 complete</span>')
        self.assertContains(r, "1 Dec 2026")  # the repeating flow's next run
        flows = {flow.name: flow for flow in r.context["page"].object_list}
        self.assertEqual(flows["Monthly review"].client_count, 2)
        self.assertEqual(flows["October review"].run_total, 2)
        fixed = len(ctx.captured_queries)
        for i in range(5):
            self.one_off([f.ClientFactory(practice=self.practice)], name=f"More {i}")
        with self.assertNumQueries(fixed):
            self.client.get("/checks/flows/list/")

    def test_the_detail_shows_checks_clients_team_next_dates_skips_and_runs(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(f"/checks/flows/{self.rep.pk}/")
        self.assertContains(r, "<li>Bank reconciliation</li>", html=True)
        self.assertContains(r, f"reviewed by {self.manager}, then {self.admin}")
        self.assertContains(r, "1 Dec 2026")
        self.assertContains(r, "no year end")
        self.assertContains(r, "No runs yet")
        self.assertNotContains(r, "Pause")  # staff manage no flows
        r = self.client.get(f"/checks/flows/{self.one.pk}/")
        self.assertContains(r, "Acme Ltd")
        self.assertContains(r, "0 of 3")
        self.client.force_login(self.manager)
        r = self.client.get(f"/checks/flows/{self.rep.pk}/")
        self.assertContains(r, ">Pause</button>")
        self.assertContains(r, f'href="/checks/flows/{self.rep.pk}/edit/"')
        r = self.client.get(f"/checks/flows/{self.one.pk}/")
        self.assertContains(r, ">Delete</a>", count=2)
        self.assertNotContains(r, ">Pause</button>")
