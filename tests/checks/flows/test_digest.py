"""The daily flows digest at 08:00 in the practice's time zone, and the hand-off notices."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from checks.flows import digest, engine, making
from checks.flows.making import ClientTeam, FlowSpec
from checks.models import Flow, FlowRun, FlowRunCheck, FlowSettings
from sodium import timers
from sodium.models import ActivityEvent, ContentBlock, Notification, OutboundMessage
from tests import factories as f
from tests.base import BaseTestCase

R = FlowRun.Status
LONDON = ZoneInfo("Europe/London")
TODAY = dt.date(2026, 12, 7)  # a Monday, GMT


def at(day: dt.date, hour: int = 8, minute: int = 0, zone=LONDON) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)


def days(n: int) -> relativedelta:
    return relativedelta(days=n)


class DigestTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        self.bolt = f.ClientFactory(practice=self.practice, name="Bolt Ltd")

    def run_for(
        self, client, *, due, assignee=None, reviewer=None, made=None, practice=None
    ) -> FlowRun:
        """A one-off flow made on `made` for October, due on `due`: its one run."""
        practice = practice or self.practice
        made = made or TODAY - days(10)
        spec = FlowSpec(
            kind=Flow.Kind.ONE_OFF,
            name=f"Review due {due:%-d %b}",
            checks=("builtin:lock_date",),
            clients=(
                ClientTeam(
                    client.pk, assignee.pk if assignee else None, reviewer.pk if reviewer else None
                ),
            ),
            period_start=dt.date(2026, 10, 1),
            period_end=dt.date(2026, 10, 31),
            due_date=due,
        )
        flow = making.create_flow(practice, spec, actor=self.manager, today=made)
        return FlowRun.objects.get(flow=flow)

    def to_review(self, run: FlowRun) -> FlowRun:
        run = engine.start_run(run, actor=run.assignee, today=TODAY)
        for check in run.run_checks.all():
            engine.mark_check(check, outcome=FlowRunCheck.Status.NO_ISSUES, actor=run.assignee)
        return engine.submit_run(run, actor=run.assignee)

    def messages(self, user=None):
        found = OutboundMessage.objects.filter(idempotency_key__startswith="flows:digest:")
        return found.filter(to=[user.email]) if user else found

    def body(self, user) -> str:
        return self.messages(user).get().body_text


class WhenDigestsGoOutTests(DigestTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.run_for(self.acme, due=TODAY + days(3), assignee=self.staff)

    def test_nothing_before_eight_one_per_person_at_eight_and_nothing_again(self) -> None:
        self.run_for(self.bolt, due=TODAY + days(20), assignee=self.staff)
        self.assertEqual(digest.send_digests(at(TODAY, 7, 59)), 0)
        self.assertFalse(self.messages().exists())
        self.assertEqual(digest.send_digests(at(TODAY, 8, 0)), 1)
        message = self.messages(self.staff).get()
        self.assertEqual(
            message.idempotency_key, f"flows:digest:{self.practice.pk}:{self.staff.pk}:2026-12-07"
        )
        self.assertIn("Acme Ltd", message.body_text)
        self.assertIn("Bolt Ltd", message.body_text)
        self.assertIn("Acme Ltd", message.body_html)
        self.assertEqual(message.status, OutboundMessage.Status.QUEUED)
        self.assertEqual(digest.send_digests(at(TODAY, 8, 1)), 0)
        self.assertEqual(digest.send_digests(at(TODAY, 17, 0)), 0)
        self.assertEqual(self.messages().count(), 1)
        # The next morning, the next one.
        self.assertEqual(digest.send_digests(at(TODAY + days(1), 8, 0)), 1)
        self.assertEqual(self.messages(self.staff).count(), 2)

    def test_after_an_outage_of_two_days_only_todays_goes_out(self) -> None:
        digest.send_digests(at(TODAY - days(3), 7, 0))  # enrolled before 08:00: nothing yet
        self.assertFalse(self.messages().exists())
        self.assertEqual(digest.send_digests(at(TODAY, 10, 30)), 1)
        self.assertEqual(
            list(self.messages().values_list("idempotency_key", flat=True)),
            [f"flows:digest:{self.practice.pk}:{self.staff.pk}:2026-12-07"],
        )
        row = FlowSettings.objects.get(practice=self.practice)
        self.assertEqual((row.digest_sent_on, row.digest_messages), (TODAY, 1))
        self.assertEqual(row.next_digest_at, at(TODAY + days(1)))

    def test_the_timer_sweep_sends_it_outside_any_practice_scope(self) -> None:
        with scope():  # scopes on, no practice: what the beat's sweep task runs in
            timers.sweep(at(TODAY, 8, 5))
        self.assertEqual(self.messages(self.staff).count(), 1)

    def test_eight_oclock_is_the_practices_own(self) -> None:
        self.practice.time_zone = "America/New_York"
        self.practice.save(update_fields=["time_zone"])
        digest.send_digests(at(TODAY, 8, 0))  # 03:00 in New York
        self.assertFalse(self.messages().exists())
        digest.send_digests(at(TODAY, 8, 0, ZoneInfo("America/New_York")))
        self.assertEqual(self.messages().count(), 1)

    def test_a_sweep_with_nothing_due_costs_two_queries_whatever_exists(self) -> None:
        for i in range(5):
            practice = f.PracticeFactory()
            f.MembershipFactory(practice=practice, user=self.staff, role="staff")
            client = f.ClientFactory(practice=practice, name=f"Client {i}")
            self.run_for(client, due=TODAY + days(2), assignee=self.staff, practice=practice)
        digest.send_digests(at(TODAY, 8, 0))
        self.assertEqual(self.messages().count(), 6)
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(digest.send_digests(at(TODAY, 9, 0)), 0)
        self.assertEqual(len(queries), 2, [q["sql"] for q in queries])


class WhatTheDigestSaysTests(DigestTestCase):
    def test_ready_to_start_due_soon_and_overdue_each_in_their_section(self) -> None:
        self.run_for(self.acme, due=TODAY - days(2), assignee=self.staff)
        self.run_for(self.bolt, due=TODAY + days(7), assignee=self.staff)
        cobalt = f.ClientFactory(practice=self.practice, name="Cobalt Cycles")
        self.run_for(cobalt, due=TODAY + days(30), assignee=self.staff)
        later = f.ClientFactory(practice=self.practice, name="Later Ltd")
        self.run_for(later, due=TODAY + days(30), assignee=self.staff, made=TODAY + days(1))
        digest.send_digests(at(TODAY))
        message = self.messages(self.staff).get()
        self.assertEqual(message.subject, "Flows today: 3 runs for you (1 overdue)")
        body = message.body_text
        overdue, soon, ready = body.index("Overdue:"), body.index("Due within"), body.index("Ready")
        self.assertLess(overdue, body.index("Acme Ltd"))
        self.assertIn("due 5 December 2026, 2 days overdue", body)
        self.assertTrue(soon < body.index("Bolt Ltd") < ready < body.index("Cobalt Cycles"))
        self.assertNotIn("Later Ltd", body)  # not yet scheduled
        run = FlowRun.objects.get(client=self.acme)
        link = f"{settings.SITE_URL}/checks/flows/runs/{run.pk}/"
        self.assertIn(link, body)
        self.assertIn(f'<a href="{link}">', message.body_html)

    def test_overdue_reminders_stop_three_days_after_the_due_date(self) -> None:
        self.run_for(self.acme, due=TODAY - days(3), assignee=self.staff)
        self.run_for(self.bolt, due=TODAY - days(4), assignee=self.admin)
        digest.send_digests(at(TODAY))
        self.assertIn("Acme Ltd", self.body(self.staff))
        self.assertIn("3 days overdue", self.body(self.staff))
        self.assertFalse(self.messages(self.admin).exists())  # only a run past its reminders

    def test_a_practice_may_remind_for_five_days(self) -> None:
        digest.set_overdue_reminder_days(self.practice, "5", actor=self.manager)
        # The setting made the row with the next 08:00 of the real clock; this test's day
        # is TODAY, whatever the date it runs on.
        FlowSettings.objects.filter(practice=self.practice).update(next_digest_at=at(TODAY))
        self.run_for(self.acme, due=TODAY - days(5), assignee=self.staff)
        self.run_for(self.bolt, due=TODAY - days(6), assignee=self.admin)
        digest.send_digests(at(TODAY))
        self.assertIn("5 days overdue", self.body(self.staff))
        event = ActivityEvent.objects.get(verb="flows.overdue_reminder_days")
        self.assertEqual((event.actor, event.practice), (self.manager, self.practice))
        self.assertFalse(self.messages(self.admin).exists())

    def test_a_bad_setting_is_refused_with_a_reason(self) -> None:
        for bad in ("abc", "-1", "91", "", None, "2.5"):
            with self.subTest(bad), self.assertRaises(digest.DigestError) as ctx:
                digest.set_overdue_reminder_days(self.practice, bad, actor=self.manager)
            self.assertIn("from 0 to 90", ctx.exception.errors["overdue_reminder_days"])
        self.assertEqual(digest.settings_for(self.practice).overdue_reminder_days, 3)

    def test_people_with_nothing_waiting_get_nothing(self) -> None:
        self.run_for(self.acme, due=TODAY + days(2), assignee=self.staff, reviewer=self.manager)
        self.run_for(self.bolt, due=TODAY + days(2))  # nobody assigned: nobody to tell
        digest.send_digests(at(TODAY))
        self.assertEqual(list(self.messages().values_list("to", flat=True)), [[self.staff.email]])

    def test_a_run_in_review_is_in_its_reviewers_digest_not_the_assignees(self) -> None:
        run = self.run_for(
            self.acme, due=TODAY + days(2), assignee=self.staff, reviewer=self.manager
        )
        self.to_review(run)
        digest.send_digests(at(TODAY))
        self.assertIn("Acme Ltd", self.body(self.manager))
        self.assertIn("in review", self.body(self.manager))
        self.assertFalse(self.messages(self.staff).exists())

    def test_the_practices_edited_text_is_used(self) -> None:
        ContentBlock.objects.create(
            practice=self.practice,
            system_key=digest.DIGEST,
            name="Flows: daily digest",
            subject="Morning {{ person.first_name }}: {{ digest.count }} to do",
            body="{% for run in digest.due_soon %}* {{ run.client }} by {{ run.due }}\n"
            "{% endfor %}",
        )
        self.run_for(self.acme, due=TODAY + days(2), assignee=self.staff)
        digest.send_digests(at(TODAY))
        message = self.messages(self.staff).get()
        first = self.staff.full_name.split()[0]
        self.assertEqual(message.subject, f"Morning {first}: 1 to do")
        self.assertEqual(message.body_text, "* Acme Ltd by 9 December 2026")

    def test_the_library_edits_it_with_the_digests_variables_only(self) -> None:
        self.client.force_login(self.manager)
        url = f"/content-blocks/built-in/{digest.DIGEST}/"
        page = self.client.get(url)
        self.assertContains(page, "digest.overdue")
        refused = self.client.post(
            url, {"name": "Digest", "subject": "{{ task.name }}", "body": "Hello"}
        )
        self.assertContains(refused, "task.name")
        self.assertFalse(ContentBlock.objects.filter(system_key=digest.DIGEST).exists())
        self.client.post(
            url,
            {
                "name": "Digest",
                "subject": "{{ digest.count }} for {{ person.name }}",
                "body": "{% for run in digest.due_soon %}{{ run.client }}{% endfor %}",
            },
        )
        self.run_for(self.acme, due=TODAY + days(2), assignee=self.staff)
        digest.send_digests(at(TODAY))
        message = self.messages(self.staff).get()
        self.assertEqual(message.subject, f"1 for {self.staff.full_name}")
        self.assertEqual(message.body_text, "Acme Ltd")

    def test_an_edited_text_that_cannot_render_falls_back_to_the_default(self) -> None:
        ContentBlock.objects.create(
            practice=self.practice,
            system_key=digest.DIGEST,
            name="Flows: daily digest",
            subject="Broken",
            body="{% for i in (1..9000) %}{% for j in (1..9000) %}x{% endfor %}{% endfor %}",
        )
        self.run_for(self.acme, due=TODAY + days(2), assignee=self.staff)
        digest.send_digests(at(TODAY))
        self.assertIn("Due within 7 days:", self.body(self.staff))

    def test_another_practices_runs_never_appear(self) -> None:
        self.run_for(self.acme, due=TODAY + days(2), assignee=self.staff)
        rival = f.ClientFactory(practice=self.other_practice, name="Rival Secret Client")
        spec = FlowSpec(
            kind=Flow.Kind.ONE_OFF,
            name="Rival review",
            checks=("builtin:lock_date",),
            clients=(ClientTeam(rival.pk, self.outsider.pk),),
            period_start=dt.date(2026, 10, 1),
            period_end=dt.date(2026, 10, 31),
            due_date=TODAY + days(2),
        )
        making.create_flow(self.other_practice, spec, actor=self.outsider, today=TODAY)
        digest.send_digests(at(TODAY))
        self.assertNotIn("Rival", self.body(self.staff))
        self.assertIn("Rival Secret Client", self.body(self.outsider))
        self.assertNotIn("Acme", self.body(self.outsider))
        self.assertEqual(self.messages(self.outsider).get().practice_id, self.other_practice.pk)

    def test_the_use_and_its_builtin_are_registered_and_its_default_is_valid(self) -> None:
        from sodium import liquid
        from sodium.messaging import builtins, variables

        self.assertEqual(builtins.get_builtin(digest.DIGEST).use, digest.DIGEST)
        known = variables.known_paths(digest.DIGEST)
        self.assertEqual(liquid.validate(digest.BODY, known), [])
        self.assertEqual(liquid.validate(digest.SUBJECT, known), [])
        self.assertIn("Unknown variable", " ".join(liquid.validate("{{ task.name }}", known)))
        sample = liquid.render_message(
            digest.SUBJECT, digest.BODY, variables.sample_context(digest.DIGEST)
        )
        self.assertIn("Birch Dental LLP", sample.text)

    def test_every_documented_variable_is_filled_by_its_builder(self) -> None:
        from sodium.messaging import variables

        run = self.run_for(self.acme, due=TODAY + days(2), assignee=self.staff)
        sections = digest.digests_for(self.practice, TODAY, overdue_days=3)[self.staff.pk]
        context = digest.digest_context(self.practice, self.staff, sections, TODAY)
        for var in variables.variables_of(digest.DIGEST):
            node = context
            parts = var.path.split(".")
            if parts[0] == "run":  # an item of the lists
                node, parts = context["digest"]["due_soon"][0], parts[1:]
            for part in parts:
                self.assertIn(part, node, var.path)
                node = node[part]
        self.assertEqual(context["digest"]["due_soon"][0]["client"], run.client.name)


class HandOffNotificationTests(DigestTestCase):
    def test_reviewers_are_told_when_a_run_comes_to_them_and_assignees_when_it_comes_back(
        self,
    ) -> None:
        run = self.run_for(
            self.acme, due=TODAY + days(2), assignee=self.staff, reviewer=self.manager
        )
        run = self.to_review(run)
        url = f"/checks/flows/runs/{run.pk}/"
        to_reviewer = Notification.objects.get(user=self.manager)
        self.assertIn("to you for review", to_reviewer.text)
        self.assertEqual(to_reviewer.url, url)
        engine.hand_back_run(run, actor=self.manager, comment="Lock the period")
        back = Notification.objects.get(user=self.staff)
        self.assertIn("handed", back.text)
        self.assertIn("Lock the period", back.text)
        self.assertEqual(back.url, url)
