"""The morning reminder of what is due (sodium.reminders, workflows.due_reminder)."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from unittest import mock
from zoneinfo import ZoneInfo

from sodium import reminders
from sodium.models import Membership, OutboundMessage
from tests import factories as f
from tests.base import BaseTestCase
from workflows.models import Step, StepGroup

LONDON = ZoneInfo("Europe/London")
DELIVER = "sodium.tasks.deliver_message_task.delay"


def at(day, hour=8, minute=0, month=12):
    return dt.datetime(2026, month, day, hour, minute, tzinfo=LONDON)


@contextmanager
def clock(when):
    with mock.patch("django.utils.timezone.now", return_value=when), mock.patch(DELIVER):
        yield


class MorningReminderTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.task = f.TaskFactory(
            client=f.ClientFactory(practice=self.practice, name="Acme Ltd"),
            owner=self.staff,
            status="in_progress",
            name="VAT Q4",
        )
        group = StepGroup.objects.create(practice=self.practice, task=self.task, name="Steps")

        def step(name, deadline, status="ready", who=None):
            return Step.objects.create(
                practice=self.practice,
                task=self.task,
                group=group,
                name=name,
                status=status,
                deadline=deadline,
                assignee=who or self.staff,
            )

        step("Prepare the return", dt.date(2026, 12, 4))
        step("Check EC sales", dt.date(2026, 12, 7))
        step("Not yet", dt.date(2026, 12, 9))
        step("Finished", dt.date(2026, 12, 1), status="done")
        step("Someone else's", dt.date(2026, 12, 1), who=self.manager)

    def membership(self) -> Membership:
        return Membership.objects.get(practice=self.practice, user=self.staff)

    def turn_on(self, when) -> None:
        with clock(when):
            self.client.force_login(self.staff)
            r = self.client.post(
                "/account/", {"full_name": self.staff.full_name, "morning_reminder": "on"}
            )
        self.assertEqual(r.status_code, 302)

    def test_it_sends_what_is_due_once_each_working_morning(self) -> None:
        self.turn_on(at(6, 15))  # a Sunday afternoon
        self.assertEqual(self.membership().next_reminder_at, at(7))  # Monday 08:00
        with clock(at(7, 7, 59)):
            reminders.send_due(at(7, 7, 59))
        self.assertFalse(
            OutboundMessage.objects.filter(idempotency_key__startswith="reminder:").exists()
        )
        with clock(at(7, 8, 1)):
            self.assertEqual(reminders.send_due(at(7, 8, 1)), 1)
            reminders.send_due(at(7, 8, 2))  # the next sweep: nothing more
        (message,) = OutboundMessage.objects.filter(idempotency_key__startswith="reminder:")
        self.assertEqual(message.to, [self.staff.email])
        self.assertEqual(message.subject, "2 things due today or overdue")
        self.assertIn("Overdue 3 days: Prepare the return — VAT Q4 (Acme Ltd)", message.body_text)
        self.assertIn("Due today: Check EC sales", message.body_text)
        self.assertNotIn("Not yet", message.body_text)
        self.assertNotIn("Finished", message.body_text)
        self.assertNotIn("Someone else", message.body_text)
        self.assertEqual(self.membership().next_reminder_at, at(8))

    def test_after_an_outage_it_sends_today_only_and_skips_christmas(self) -> None:
        self.turn_on(at(21, 9))
        with clock(at(24, 10)):  # three missed mornings
            reminders.send_due(at(24, 10))
        keys = list(
            OutboundMessage.objects.filter(idempotency_key__startswith="reminder:").values_list(
                "idempotency_key", flat=True
            )
        )
        self.assertEqual(keys, [f"reminder:{self.membership().pk}:2026-12-24"])
        # Fri 25 Christmas, weekend, Mon 28 Boxing Day's substitute: Tuesday 29.
        self.assertEqual(self.membership().next_reminder_at, at(29))

    def test_nothing_due_sends_nothing_and_turning_it_off_stops_it(self) -> None:
        Step.objects.filter(task=self.task).update(deadline=dt.date(2027, 1, 20))
        self.turn_on(at(7, 9))
        with clock(at(8, 8, 5)):
            reminders.send_due(at(8, 8, 5))
        self.assertFalse(
            OutboundMessage.objects.filter(idempotency_key__startswith="reminder:").exists()
        )
        self.assertEqual(self.membership().next_reminder_at, at(9))
        with clock(at(8, 9)):
            self.client.force_login(self.staff)
            r = self.client.post("/account/", {"full_name": self.staff.full_name})
        self.assertEqual(r.status_code, 302)
        self.assertIsNone(self.membership().next_reminder_at)
