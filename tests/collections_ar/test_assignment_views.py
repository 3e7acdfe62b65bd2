"""The customer page's workflow: who may pause, resume, assign and unassign; the workflow
card, the assignment's timeline and the account's history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from collections_ar import assigning, engine
from collections_ar.models import ActionRun, ARSettings, Assignment, Payment
from sodium import activity
from sodium.models import ActivityEvent, OutboundMessage
from tests.collections_ar.assign_helpers import AssignTestCase
from tests.collections_ar.run_helpers import ClockMixin, at

A = Assignment.State
RS = ActionRun.State
MON = dt.date(2026, 12, 7)


class AssignmentViewTestCase(AssignTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.inv = self.invoice("W-1", total="400.00")
        assigning.assign_workflow([self.customer], self.chase, actor=self.owner)
        self.assignment = assigning.live_assignment(self.customer)
        self.base = f"/ar/customers/{self.customer.pk}/workflow"
        self.page = f"/ar/customers/{self.customer.pk}/"

    def state(self) -> str:
        self.assignment.refresh_from_db()
        return self.assignment.state


class WorkflowGatingTests(AssignmentViewTestCase):
    def urls(self) -> list[str]:
        return [
            f"{self.base}/pause/",
            f"{self.base}/resume/",
            f"{self.base}/unassign/",
            f"{self.base}/assign/",
        ]

    def test_staff_and_managers_get_403_on_every_new_url(self) -> None:
        for user in (self.staff, self.manager):
            self.client.force_login(user)
            for url in [*self.urls(), "/ar/customers/assign/"]:
                with self.subTest(user=user, url=url):
                    r = self.client.post(url, {"to_workflow": self.gentle.pk})
                    self.assertEqual(r.status_code, 403)
        self.assertEqual(self.state(), A.ACTIVE)

    def test_a_specialist_may_pause_and_resume_their_own_customer(self) -> None:
        engine.assign_specialist(self.customer, self.ar_specialist, actor=self.owner)
        self.client.force_login(self.ar_specialist)
        r = self.client.post(f"{self.base}/pause/", {"reason": "Promised Friday"})
        self.assertRedirects(r, self.page)
        self.assertEqual(self.state(), A.PAUSED)
        r = self.client.post(f"{self.base}/resume/")
        self.assertRedirects(r, self.page)
        self.assertEqual(self.state(), A.ACTIVE)

    def test_a_specialist_gets_404_for_someone_elses_customer(self) -> None:
        self.client.force_login(self.ar_specialist)
        for url in (f"{self.base}/pause/", f"{self.base}/resume/"):
            with self.subTest(url=url):
                self.assertEqual(self.client.post(url).status_code, 404)
        self.assertEqual(self.state(), A.ACTIVE)

    def test_a_specialist_may_not_assign_or_unassign_even_their_own(self) -> None:
        engine.assign_specialist(self.customer, self.ar_specialist, actor=self.owner)
        self.client.force_login(self.ar_specialist)
        for url in (f"{self.base}/unassign/", f"{self.base}/assign/", "/ar/customers/assign/"):
            with self.subTest(url=url):
                r = self.client.post(
                    url, {"to_workflow": self.gentle.pk, "customer": self.customer.pk}
                )
                self.assertEqual(r.status_code, 403)
        self.assertEqual(self.state(), A.ACTIVE)
        self.assertEqual(assigning.live_assignment(self.customer).workflow, self.chase)
        r = self.client.get(self.page)
        self.assertContains(r, "Pause</button>")
        self.assertNotContains(r, "Unassign</button>")
        self.assertNotContains(r, 'name="to_workflow"')

    def test_another_practices_customer_is_a_404(self) -> None:
        rival = engine.get_or_create_customer(self.other_client, actor=self.outsider)
        self.client.force_login(self.ar_manager)
        for action in ("pause", "resume", "unassign", "assign"):
            with self.subTest(action=action):
                r = self.client.post(
                    f"/ar/customers/{rival.pk}/workflow/{action}/",
                    {"to_workflow": self.gentle.pk},
                )
                self.assertEqual(r.status_code, 404)

    def test_get_changes_nothing(self) -> None:
        self.client.force_login(self.ar_manager)
        for url in self.urls():
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 405)
        self.assertEqual(self.state(), A.ACTIVE)

    def test_a_customer_on_no_workflow_is_a_404_to_pause(self) -> None:
        engine.unassign(self.assignment, actor=self.owner)
        self.client.force_login(self.ar_manager)
        self.assertEqual(self.client.post(f"{self.base}/pause/").status_code, 404)


class PauseResumeUnassignTests(AssignmentViewTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.ar_manager)

    def test_pause_holds_the_runs_and_keeps_the_reason(self) -> None:
        r = self.client.post(
            f"{self.base}/pause/", {"reason": "Promised to pay Friday"}, follow=True
        )
        self.assertContains(r, "Paused “Chase”.")
        self.assertEqual(self.state(), A.PAUSED)
        self.assertEqual(self.assignment.paused_reason, "Promised to pay Friday")
        self.assertFalse(self.assignment.runs.filter(state=RS.PENDING).exists())
        self.assertTrue(self.assignment.runs.filter(state=RS.HELD).exists())
        self.assertContains(r, "Paused since")
        self.assertContains(r, "<q>Promised to pay Friday</q>", html=True)
        self.assertContains(r, "Resume — later actions move by the pause")
        self.assertNotContains(r, "Pause</button>")

    def test_pausing_twice_says_why_not(self) -> None:
        self.client.post(f"{self.base}/pause/")
        r = self.client.post(f"{self.base}/pause/", follow=True)
        self.assertContains(r, "Only a running workflow can be paused.")

    def test_resume_makes_the_runs_pending_again(self) -> None:
        engine.pause_assignment(self.assignment, actor=self.owner)
        r = self.client.post(f"{self.base}/resume/", follow=True)
        self.assertContains(r, "Resumed “Chase”.")
        self.assertEqual(self.state(), A.ACTIVE)
        self.assertFalse(self.assignment.runs.filter(state=RS.HELD).exists())
        self.assertContains(r, "Pause</button>")

    def test_resuming_an_active_workflow_says_why_not(self) -> None:
        r = self.client.post(f"{self.base}/resume/", follow=True)
        self.assertContains(r, "Only a paused workflow can be resumed.")

    def test_the_resume_button_says_the_practices_rule(self) -> None:
        ARSettings.objects.create(practice=self.practice, resume=ARSettings.Resume.SKIP)
        engine.pause_assignment(self.assignment, actor=self.owner)
        r = self.client.get(self.page)
        self.assertContains(r, "Resume — skip what fell due")
        self.assertNotContains(r, "later actions move by the pause")

    def test_unassign_cancels_what_was_to_come_after_a_confirm(self) -> None:
        r = self.client.get(self.page)
        self.assertContains(r, 'data-confirm="Take Acme Widgets off “Chase”?')
        r = self.client.post(f"{self.base}/unassign/", follow=True)
        self.assertContains(r, "Took the customer off “Chase”.")
        self.assertEqual(self.state(), A.ENDED)
        self.assertFalse(self.assignment.runs.filter(state__in=(RS.PENDING, RS.HELD)).exists())
        self.assertContains(r, "Acme Widgets is on no workflow.")
        self.customer.refresh_from_db()
        self.assertIsNone(self.customer.workflow)

    def test_assign_one_customer_moves_it_to_another_workflow(self) -> None:
        r = self.client.post(f"{self.base}/assign/", {"to_workflow": self.gentle.pk}, follow=True)
        self.assertContains(r, "Assigned 0; moved 1 from another workflow.")
        self.assertEqual(assigning.live_assignment(self.customer).workflow, self.gentle)
        self.assertEqual(self.state(), A.ENDED)

    def test_assign_one_refuses_an_off_workflow(self) -> None:
        r = self.client.post(f"{self.base}/assign/", {"to_workflow": self.dormant.pk}, follow=True)
        self.assertContains(r, "“Dormant” is off: switch it on to assign it.")
        self.assertEqual(assigning.live_assignment(self.customer).workflow, self.chase)

    def test_the_pause_post_needs_the_csrf_token(self) -> None:
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        client.force_login(self.ar_manager)
        self.assertEqual(client.post(f"{self.base}/pause/").status_code, 403)
        self.assertEqual(self.state(), A.ACTIVE)


class WorkflowCardTests(AssignmentViewTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.ar_manager)

    def test_it_shows_the_workflow_since_when_its_state_and_next_action(self) -> None:
        r = self.client.get(self.page)
        card = r.context["card"]
        self.assertEqual(card.assignment, self.assignment)
        first = self.assignment.runs.order_by("due_at").first()
        self.assertEqual(card.next_run, first)
        self.assertContains(r, '<span class="chip chip-tone-ok">Active</span>', html=True)
        self.assertContains(r, self.assignment.assigned_on.strftime("%-d %b %Y"))
        facts = r.content.decode().split('class="ar-facts"')[1].split("</dl>")[0]
        self.assertIn("Send an email", facts)
        self.assertIn(first.due_at.strftime("on %a %-d %b %Y"), facts)

    def test_a_customer_on_no_workflow_is_offered_the_on_workflows(self) -> None:
        engine.unassign(self.assignment, actor=self.owner)
        r = self.client.get(self.page)
        self.assertContains(r, "Assign a workflow")
        options = r.content.decode().split('id="assign-workflow"')[1].split("</select>")[0]
        self.assertIn("Chase", options)
        self.assertIn("Gentle", options)
        self.assertNotIn("Dormant", options)

    def test_the_timeline_lists_the_pending_runs_with_their_dates(self) -> None:
        r = self.client.get(self.page)
        timeline = r.content.decode().split('id="ar-timeline"')[1].split("</section>")[0]
        runs = list(self.assignment.runs.order_by("due_at", "position"))
        self.assertEqual(timeline.count("ar-tl-item"), len(runs))
        for run in runs:
            self.assertIn(run.due_at.strftime("%-d %b %Y"), timeline)
        self.assertIn("Scheduled", timeline)
        self.assertIn("Remind the AR specialist to call", timeline)

    def test_due_date_actions_already_past_are_folded_away(self) -> None:
        from collections_ar.builder import editing

        due = editing.create_workflow(self.practice, actor=self.owner, name="Due dates")
        for days in (1, 60):
            editing.add_action(
                due,
                actor=self.owner,
                kind="email",
                base="after_due",
                days=days,
                subject="Hi",
                body="Pay",
            )
        engine.switch_workflow(due, actor=self.owner, on=True)
        assigning.assign_workflow([self.customer], due, actor=self.owner)
        r = self.client.get(self.page)
        card = r.context["card"]
        self.assertEqual(len(card.left_out), 1)  # a day after a due date ten days ago
        self.assertEqual(len(card.upcoming), 1)  # sixty days after it
        self.assertEqual(card.past, [])
        self.assertContains(r, "1 action left out: its date was before the workflow was assigned")
        timeline = r.content.decode().split('id="ar-timeline"')[1].split("</section>")[0]
        self.assertEqual(timeline.count("ar-tl-item"), 1)


class TimelineAndHistoryTests(ClockMixin, AssignTestCase):
    """With the clock moved: runs done by the sweep, their messages' delivery status."""

    def setUp(self) -> None:
        super().setUp()
        self.inv = self.invoice(
            "H-1", "900.00", issue_date=MON - dt.timedelta(days=40), due_date=MON
        )
        assigning.assign_workflow([self.customer], self.chase, actor=self.owner, on=MON)
        self.assignment = assigning.live_assignment(self.customer)
        self.sweep(at(MON, 10))  # the email goes
        self.client.force_login(self.ar_manager)
        self.page = f"/ar/customers/{self.customer.pk}/"

    def test_a_done_run_shows_its_messages_delivery_status(self) -> None:
        email = OutboundMessage.objects.get(source_type="ar.run")
        for status, label, tone in (
            ("queued", "Queued", "chip-tone-muted"),
            ("sent", "Sent", "chip-tone-info"),
            ("delivered", "Delivered", "chip-tone-ok"),
            ("bounced", "Bounced", "chip-tone-danger"),
            ("failed", "Failed", "chip-tone-danger"),
        ):
            OutboundMessage.objects.filter(pk=email.pk).update(status=status)
            with self.subTest(status=status):
                r = self.client.get(self.page)
                timeline = r.content.decode().split('id="ar-timeline"')[1].split("</section>")[0]
                self.assertIn(f'<span class="chip {tone}">{label}</span>', timeline)
                self.assertIn('<span class="chip chip-tone-ok">Done</span>', timeline)

    def test_the_timeline_puts_done_runs_before_the_pending_ones(self) -> None:
        r = self.client.get(self.page)
        card = r.context["card"]
        self.assertEqual([run.state for run in card.past], [RS.DONE])
        self.assertTrue(all(run.state == RS.PENDING for run in card.upcoming))
        self.assertEqual(card.next_run.kind, "sms")
        timeline = r.content.decode().split('id="ar-timeline"')[1]
        self.assertLess(timeline.index("Send an email"), timeline.index("Send an SMS"))

    def test_the_history_has_runs_payments_and_ar_activity_newest_first(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            engine.record_payment(self.inv, actor=self.owner, amount=Decimal("100.00"), date=MON)
        # Put on the workflow at 09:00, the email at 10:00 (the sweep ran with the clock moved),
        # paid at 11:00: stamped so, whatever today's real time is (the defaults are bound).
        ActivityEvent.objects.filter(verb__startswith="ar.").update(created_at=at(MON, 9))
        Payment.objects.update(created_at=at(MON, 11))
        r = self.client.get(self.page)
        history = r.context["history"]
        kinds = [entry.kind for entry in history]
        self.assertIn("run", kinds)
        self.assertIn("payment", kinds)
        self.assertIn("activity", kinds)
        self.assertEqual(kinds[0], "payment")  # the newest
        stamps = [entry.at for entry in history]
        self.assertEqual(stamps, sorted(stamps, reverse=True))
        texts = " ".join(entry.text for entry in history)
        self.assertIn("Acme Widgets put on AR workflow “Chase”", texts)
        # The run is listed once, from its own row (not again as its "ar.run.done" event).
        self.assertEqual(kinds.count("run"), 1)
        self.assertTrue(ActivityEvent.objects.filter(verb="ar.run.done").exists())
        self.assertContains(r, "Payment of <strong>£100.00</strong> on H-1")

    def test_the_history_leaves_out_activity_that_is_not_ar(self) -> None:
        activity.record(
            practice=self.practice,
            actor=self.owner,
            verb="client.updated",
            summary="Renamed the client (not AR)",
            client=self.acme,
        )
        r = self.client.get(self.page)
        self.assertNotContains(r, "Renamed the client (not AR)")

    def test_the_history_keeps_the_latest_100(self) -> None:
        for n in range(105):
            activity.record(
                practice=self.practice,
                actor=self.owner,
                verb="ar.customer.note",
                summary=f"Note {n:03}",
                client=self.acme,
            )
        r = self.client.get(self.page)
        self.assertEqual(len(r.context["history"]), 100)
        self.assertContains(r, "Note 104")
        self.assertNotContains(r, "Note 004")
        self.assertContains(r, "The latest 100")

    def test_the_page_query_count_does_not_grow_with_runs_and_history(self) -> None:
        self.client.get(self.page)
        with CaptureQueriesContext(connection) as first:
            self.client.get(self.page)
        self.days(MON, 10, hours=(10,))  # every other action runs
        for _ in range(5):
            engine.record_payment(self.inv, actor=self.owner, amount=Decimal("10.00"), date=MON)
        self.assertGreater(self.assignment.runs.filter(state=RS.DONE).count(), 1)
        with self.assertNumQueries(len(first)):
            self.client.get(self.page)
