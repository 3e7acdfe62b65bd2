"""Chasing document requests and approvals with the clock moved: on schedule, at most M times,
the assignee told after the last, and stopped the moment the client answers."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from django.utils import timezone

from portal import engine as portal_engine
from portal.models import Approval, DocumentRequest
from sodium import timers
from sodium.models import Notification, OutboundMessage, Timer
from tests.portal.staff_helpers import (
    DELIVER,
    RUN,
    PortalStaffTestCase,
    approval_step,
    pdf,
    request_step,
)
from workflows import engine as wf_engine
from workflows.models import Step

DAY = dt.timedelta(days=1)


def chase(every_days: int = 2, max_times: int = 2, **content) -> dict:
    return {"enabled": True, "every_days": every_days, "max_times": max_times, **content}


class ChaseClockTestCase(PortalStaffTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.t0 = timezone.now()

    def at(self, when: dt.datetime):
        return mock.patch("django.utils.timezone.now", return_value=when)

    def sweep_at(self, when: dt.datetime) -> None:
        with mock.patch(DELIVER), mock.patch(RUN), self.at(when):
            timers.sweep(when)

    def chases(self, step: Step) -> list[OutboundMessage]:
        return list(
            OutboundMessage.objects.filter(
                idempotency_key__startswith=f"step:{step.pk}:chase:"
            ).order_by("created_at", "id")
        )

    def timer(self, step: Step) -> Timer | None:
        return Timer.objects.filter(key=f"step:{step.pk}:chase").first()

    def told(self) -> list[str]:
        return list(Notification.objects.filter(user=self.staff).values_list("text", flat=True))


class RequestChaseTests(ChaseClockTestCase):
    def send_request(self, **chase_settings) -> Step:
        settings = {"title": "Bank statements for 2025", "chase": chase(**chase_settings)}
        (step,) = self.attach((request_step(settings=settings), []))
        with self.at(self.t0):
            step = self.run_step(step)
        self.assertEqual(step.status, Step.Status.IN_PROGRESS)
        return step

    def submit(self, step: Step, when: dt.datetime):
        request = DocumentRequest.objects.get(step=step)
        with mock.patch(DELIVER), mock.patch(RUN), self.at(when):
            return portal_engine.submit(request, contact=self.ann, uploads=[pdf()], message="")

    def test_chases_go_out_on_schedule_at_most_m_times_then_the_assignee_is_told(self) -> None:
        step = self.send_request(every_days=2, max_times=2)
        self.assertEqual(self.timer(step).due_at, self.t0 + 2 * DAY)
        self.sweep_at(self.t0 + DAY)
        self.assertEqual(self.chases(step), [])

        self.sweep_at(self.t0 + 2 * DAY + dt.timedelta(minutes=1))
        (first,) = self.chases(step)
        self.assertEqual(first.idempotency_key, f"step:{step.pk}:chase:1")
        self.assertEqual(first.to, ["ann@acme.example"])
        self.assertEqual(first.subject, "Reminder: documents needed for Bank statements for 2025")
        self.assertIn("/portal/link/", first.body_text)  # the request's own portal page
        self.assertEqual(self.told(), [])

        self.sweep_at(self.t0 + 4 * DAY + dt.timedelta(minutes=2))
        self.assertEqual(len(self.chases(step)), 2)
        self.assertIsNone(self.timer(step))
        (note,) = self.told()
        self.assertIn("No documents from Acme Ltd", note)
        self.assertIn("after 2 chases", note)
        step.refresh_from_db()
        self.assertEqual(step.chase_count, 2)

        self.sweep_at(self.t0 + 30 * DAY)
        self.assertEqual(len(self.chases(step)), 2)

    def test_its_own_chase_content_is_sent(self) -> None:
        step = self.send_request(
            every_days=1,
            max_times=1,
            subject="Still waiting: {{ step.name }}",
            body="Dear {{ contacts.main.first_name }}, upload here: {{ action_link }}",
        )
        self.sweep_at(self.t0 + DAY)
        (message,) = self.chases(step)
        self.assertEqual(message.subject, "Still waiting: Request bank statements")
        self.assertIn("upload here:", message.body_text)

    def test_submitting_stops_the_chasing_at_once(self) -> None:
        step = self.send_request(every_days=2, max_times=5)
        self.sweep_at(self.t0 + 2 * DAY)
        self.submit(step, self.t0 + 3 * DAY)
        self.assertIsNone(self.timer(step))
        self.sweep_at(self.t0 + 20 * DAY)
        self.assertEqual(len(self.chases(step)), 1)
        self.assertFalse(any("No documents" in t for t in self.told()))

    def test_a_returned_submission_starts_a_new_round_of_chases(self) -> None:
        step = self.send_request(every_days=2, max_times=1)
        self.sweep_at(self.t0 + 2 * DAY)  # the round's only chase
        submission = self.submit(step, self.t0 + 3 * DAY)
        returned = self.t0 + 4 * DAY
        with mock.patch(DELIVER), mock.patch(RUN), self.at(returned):
            portal_engine.reject_submission(
                submission, actor=self.staff, reason="March is missing."
            )
        self.assertEqual(self.timer(step).due_at, returned + 2 * DAY)
        self.sweep_at(returned + 2 * DAY)
        self.assertEqual(
            [m.idempotency_key for m in self.chases(step)],
            [f"step:{step.pk}:chase:1", f"step:{step.pk}:chase:2"],
        )
        self.assertEqual(len(self.told()), 2 + 1)  # a chase round ran out twice; one submission

    def test_a_skipped_request_is_not_chased(self) -> None:
        step = self.send_request(every_days=2, max_times=3)
        with mock.patch(RUN), self.captureOnCommitCallbacks(execute=True):
            wf_engine.skip_step(step, actor=self.staff)
        self.assertIsNone(self.timer(step))


class ApprovalChaseTests(ChaseClockTestCase):
    def send_version(self, step: Step, when: dt.datetime):
        with mock.patch(DELIVER), mock.patch(RUN), self.at(when):
            return portal_engine.send_document_for_approval(
                step, actor=self.staff, title="Draft accounts 2025", upload=pdf()
            )

    def start(self, **chase_settings) -> tuple[Step, object]:
        (step,) = self.attach((approval_step(settings={"chase": chase(**chase_settings)}), []))
        version = self.send_version(step, self.t0)
        step.refresh_from_db()
        self.assertEqual(step.status, Step.Status.IN_PROGRESS)
        return step, version

    def answer(self, version, *, approve: bool, when: dt.datetime) -> None:
        with mock.patch(DELIVER), mock.patch(RUN), self.at(when):
            portal_engine.respond_to_approval(
                version, contact=self.ann, approve=approve, comment="" if approve else "Typo."
            )

    def test_chases_go_out_on_schedule_at_most_m_times_then_the_assignee_is_told(self) -> None:
        step, _ = self.start(every_days=3, max_times=2)
        self.sweep_at(self.t0 + 2 * DAY)
        self.assertEqual(self.chases(step), [])
        self.sweep_at(self.t0 + 3 * DAY)
        (first,) = self.chases(step)
        self.assertEqual(first.subject, "Reminder: please approve Draft accounts 2025")
        self.assertIn("/portal/link/", first.body_text)
        self.sweep_at(self.t0 + 6 * DAY)
        self.assertEqual(len(self.chases(step)), 2)
        self.assertIsNone(self.timer(step))
        (note,) = self.told()
        self.assertIn("No answer on the approval from Acme Ltd", note)
        self.assertEqual(Approval.objects.get(step=step).chases_sent, 2)
        self.sweep_at(self.t0 + 30 * DAY)
        self.assertEqual(len(self.chases(step)), 2)

    def test_approving_stops_the_chasing_at_once(self) -> None:
        step, version = self.start(every_days=3, max_times=5)
        self.sweep_at(self.t0 + 3 * DAY)
        self.answer(version, approve=True, when=self.t0 + 4 * DAY)
        self.assertIsNone(self.timer(step))
        self.sweep_at(self.t0 + 30 * DAY)
        self.assertEqual(len(self.chases(step)), 1)

    def test_rejecting_stops_the_chasing_and_a_new_version_is_chased_afresh(self) -> None:
        step, version = self.start(every_days=3, max_times=1)
        self.sweep_at(self.t0 + 3 * DAY)
        self.answer(version, approve=False, when=self.t0 + 4 * DAY)
        self.assertIsNone(self.timer(step))
        self.sweep_at(self.t0 + 20 * DAY)
        self.assertEqual(len(self.chases(step)), 1)  # the staff's turn: nobody chases

        again = self.t0 + 21 * DAY
        self.send_version(step, again)
        self.assertEqual(Approval.objects.get(step=step).chases_sent, 0)
        self.sweep_at(again + 3 * DAY)
        self.assertEqual(
            [m.idempotency_key for m in self.chases(step)],
            [f"step:{step.pk}:chase:1", f"step:{step.pk}:chase:2"],
        )

    def test_an_approval_without_chasing_schedules_nothing(self) -> None:
        (step,) = self.attach((approval_step(), []))
        self.send_version(step, self.t0)
        self.assertIsNone(self.timer(step))


class TimelineChaseTests(ChaseClockTestCase):
    """The task's timeline plans the chases of requests and approvals like confirmations'."""

    def planned(self) -> list[tuple[str, int]]:
        from workflows import timeline

        with self.at(self.t0 + dt.timedelta(hours=1)):
            entries = timeline.for_task(self.task)
        return [(e.step.name, e.number) for e in entries if e.kind == "chase"]

    def test_it_plans_a_request_and_an_approval_chase_until_the_client_answers(self) -> None:
        request, approval = self.attach(
            (request_step(settings={"title": "Statements", "chase": chase(2, 2)}), []),
            (approval_step(settings={"chase": chase(3, 1)}), []),
        )
        with self.at(self.t0):
            self.run_step(request)
        with mock.patch(DELIVER), mock.patch(RUN), self.at(self.t0):
            version = portal_engine.send_document_for_approval(
                approval, actor=self.staff, title="Draft accounts", upload=pdf()
            )
        self.assertEqual(
            self.planned(),
            [  # in time order: days 2, 3 and 4
                ("Request bank statements", 1),
                ("Approve draft accounts", 1),
                ("Request bank statements", 2),
            ],
        )
        with mock.patch(DELIVER), mock.patch(RUN), self.at(self.t0):
            portal_engine.respond_to_approval(
                version, contact=self.ann, approve=False, comment="Typo."
            )
            portal_engine.submit(
                DocumentRequest.objects.get(step=request),
                contact=self.ann,
                uploads=[pdf()],
                message="",
            )
        self.assertEqual(self.planned(), [])

    def test_a_new_round_after_a_returned_submission_is_planned_in_full(self) -> None:
        (request,) = self.attach(
            (request_step(settings={"title": "Statements", "chase": chase(2, 2)}), [])
        )
        with self.at(self.t0):
            request = self.run_step(request)
        self.sweep_at(self.t0 + 2 * DAY)
        self.sweep_at(self.t0 + 4 * DAY + dt.timedelta(minutes=1))  # the round ran out
        self.assertEqual(self.planned(), [])
        with mock.patch(DELIVER), mock.patch(RUN), self.at(self.t0 + 5 * DAY):
            submission = portal_engine.submit(
                DocumentRequest.objects.get(step=request),
                contact=self.ann,
                uploads=[pdf()],
                message="",
            )
        returned = self.t0 + 6 * DAY
        with mock.patch(DELIVER), mock.patch(RUN), self.at(returned):
            portal_engine.reject_submission(submission, actor=self.staff, reason="March?")
        from workflows import timeline

        with self.at(returned):
            chases = [e for e in timeline.for_task(self.task) if e.kind == "chase"]
        # Both chases of the new round, numbered on from the first round's two.
        self.assertEqual([e.number for e in chases], [3, 4])
        self.assertEqual([e.moment for e in chases], [returned + 2 * DAY, returned + 4 * DAY])

    def test_the_timeline_asks_about_chases_in_a_fixed_number_of_queries(self) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from tests import factories as f
        from workflows import timeline

        def sent_task(n: int):
            task = f.TaskFactory(client=self.task.client, owner=self.staff, status="in_progress")
            specs = [
                (request_step(settings={"title": f"S{i}", "chase": chase(2, 2)}), [])
                for i in range(n)
            ]
            for step in self.attach(*specs, task=task):
                with self.at(self.t0):
                    self.run_step(step)
            with self.at(self.t0), CaptureQueriesContext(connection) as seen:
                entries = timeline.for_task(task)
            return len(seen), sum(e.kind == "chase" for e in entries)

        one, three = sent_task(1), sent_task(3)
        self.assertEqual((one[1], three[1]), (2, 6))  # two chases to come for each request
        self.assertEqual(three[0], one[0])
