"""Chasing a client confirmation with the clock moved."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from django.utils import timezone

from portal import engine as portal_engine
from portal.models import Confirmation
from sodium import timers
from sodium.models import Notification, OutboundMessage, Timer
from tests import factories as f
from tests.base import BaseTestCase
from workflows import attach, building
from workflows import engine as wf_engine

RUN = "workflows.tasks.run_step_task.delay"
DELIVER = "sodium.tasks.deliver_message_task.delay"


class ChaseTests(BaseTestCase):
    def start(self, *, every_days: int = 3, max_times: int = 2):
        acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        self.ann = f.ContactFactory(
            client=acme, first_name="Ann", email="ann@acme.example", is_main=True
        )
        task = f.TaskFactory(client=acme, owner=self.staff, status="in_progress")
        template = building.create_template(
            practice=self.practice, actor=self.manager, name="Filing"
        )
        building.add_step(
            template.groups.get(),
            actor=self.manager,
            name="Confirm entries",
            type="client_confirmation",
            mode="automatic",
            to_recipients=["contact:main"],
            settings={
                "message": "Please confirm all accounting entries have been made.",
                "button_text": "Confirm",
                "thank_you": "Thanks!",
                "chase": {
                    "enabled": True,
                    "every_days": every_days,
                    "max_times": max_times,
                    "subject": "Still waiting: {{ step.name }}",
                    "body": "Dear {{ contacts.main.first_name }}, please confirm: "
                    "{{ action_link }}",
                },
            },
        )
        with mock.patch(RUN):
            (self.step,) = attach.attach_template(task, template, actor=self.manager)
        self.t0 = timezone.now()
        with mock.patch(DELIVER), mock.patch("django.utils.timezone.now", return_value=self.t0):
            wf_engine.run_step(self.step.pk)
        self.step.refresh_from_db()
        self.assertEqual(self.step.status, "in_progress")

    def sweep_at(self, when: dt.datetime) -> None:
        with mock.patch(DELIVER), mock.patch("django.utils.timezone.now", return_value=when):
            timers.sweep(when)

    def chases(self):
        return list(
            OutboundMessage.objects.filter(
                idempotency_key__startswith=f"step:{self.step.pk}:chase:"
            )
            .order_by("idempotency_key")
            .values_list("idempotency_key", flat=True)
        )

    def test_chases_go_out_on_schedule_and_the_assignee_is_told_after_the_last(self) -> None:
        self.start(every_days=3, max_times=2)
        timer = Timer.objects.get(key=f"step:{self.step.pk}:chase")
        self.assertEqual(timer.due_at, self.t0 + dt.timedelta(days=3))
        self.sweep_at(self.t0 + dt.timedelta(days=2))
        self.assertEqual(self.chases(), [])
        self.sweep_at(self.t0 + dt.timedelta(days=3, minutes=1))
        self.assertEqual(self.chases(), [f"step:{self.step.pk}:chase:1"])
        chase = OutboundMessage.objects.get(idempotency_key=f"step:{self.step.pk}:chase:1")
        self.assertEqual(chase.to, ["ann@acme.example"])
        self.assertIn("/portal/confirm/", chase.body_text)
        self.assertEqual(
            Timer.objects.get(key=f"step:{self.step.pk}:chase").due_at,
            self.t0 + dt.timedelta(days=6, minutes=1),
        )
        self.assertFalse(Notification.objects.filter(user=self.staff).exists())
        self.sweep_at(self.t0 + dt.timedelta(days=6, minutes=2))
        self.assertEqual(len(self.chases()), 2)
        self.assertFalse(Timer.objects.filter(key=f"step:{self.step.pk}:chase").exists())
        note = Notification.objects.get(user=self.staff)
        self.assertIn("after 2 chases", note.text)
        self.step.refresh_from_db()
        self.assertEqual(self.step.chase_count, 2)
        self.sweep_at(self.t0 + dt.timedelta(days=30))
        self.assertEqual(len(self.chases()), 2)

    def test_no_chase_after_the_client_confirms(self) -> None:
        self.start(every_days=3, max_times=5)
        confirmation = Confirmation.objects.get(step=self.step)
        with mock.patch(RUN):
            self.assertTrue(portal_engine.confirm(confirmation, contact=self.ann))
        self.assertFalse(Timer.objects.filter(key=f"step:{self.step.pk}:chase").exists())
        self.sweep_at(self.t0 + dt.timedelta(days=10))
        self.assertEqual(self.chases(), [])

    def test_after_an_outage_one_chase_goes_out_not_one_per_missed_interval(self) -> None:
        self.start(every_days=1, max_times=10)
        outage_over = self.t0 + dt.timedelta(days=8, hours=5)
        self.sweep_at(outage_over)
        self.assertEqual(len(self.chases()), 1)
        self.sweep_at(outage_over + dt.timedelta(minutes=1))
        self.assertEqual(len(self.chases()), 1)
        # The next one is a full interval after the catch-up, not back on the old schedule.
        self.assertEqual(
            Timer.objects.get(key=f"step:{self.step.pk}:chase").due_at,
            outage_over + dt.timedelta(days=1),
        )

    def test_a_second_sweep_of_the_same_due_timer_sends_nothing_more(self) -> None:
        self.start(every_days=3, max_times=3)
        when = self.t0 + dt.timedelta(days=3, minutes=1)
        self.sweep_at(when)
        self.sweep_at(when)
        self.assertEqual(len(self.chases()), 1)
