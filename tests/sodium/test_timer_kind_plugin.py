"""A new timer kind is added by one app alone: the throwaway module registers it, and the core's
sweep runs it inside the practice's scope, once per due occurrence, leaving the next one pending."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from sodium import timers
from sodium.models import ActivityEvent, Timer
from tests import factories as f
from tests.base import BaseTestCase
from tests.sodium import throwaway_timer_kind as throwaway


class ThrowawayTimerKindTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        throwaway.register()
        self.addCleanup(throwaway.unregister)
        self.client_row = f.ClientFactory(practice=self.practice)
        self.now = timezone.now()

    def reminders(self) -> int:
        return ActivityEvent.objects.filter(verb="throwaway.reminded").count()

    def test_the_sweep_runs_the_new_kind_when_due_and_keeps_the_next_occurrence(self) -> None:
        throwaway.schedule_reminder(self.client_row, self.now - dt.timedelta(minutes=1))

        self.assertEqual(timers.sweep(self.now), 1)

        self.assertEqual(self.reminders(), 1)
        timer = Timer.objects.get(key=throwaway.key_of(self.client_row))
        self.assertEqual(timer.kind, throwaway.KIND)
        self.assertGreater(timer.due_at, self.now)
        # Nothing more is due, so a second sweep does nothing.
        self.assertEqual(timers.sweep(self.now), 0)
        self.assertEqual(self.reminders(), 1)

    def test_a_reminder_not_yet_due_is_left_alone(self) -> None:
        throwaway.schedule_reminder(self.client_row, self.now + dt.timedelta(hours=1))
        self.assertEqual(timers.sweep(self.now), 0)
        self.assertEqual(self.reminders(), 0)

    def test_without_the_registration_the_core_keeps_the_timer_for_a_retry(self) -> None:
        throwaway.unregister()
        throwaway.schedule_reminder(self.client_row, self.now - dt.timedelta(minutes=1))
        self.assertEqual(timers.sweep(self.now), 0)
        timer = Timer.objects.get(key=throwaway.key_of(self.client_row))
        self.assertEqual(timer.attempts, 1)
        self.assertIn("no handler", timer.last_error)
