"""What a step type declares is what the engine enforces: the sub-statuses its steps may
have and the timer kinds cancelled when one of its steps finishes."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_scopes import scopes_disabled

from portal.step_types import CHASE_TIMER, ClientStepType
from sodium import timers
from sodium.models import Timer
from tests.base import BaseTestCase
from tests.workflows import throwaway_step_type as stamp
from tests.workflows.test_engine_transitions import StepRowsMixin
from workflows import engine, step_types
from workflows.models import Mode, Step, StepType

S = Step.Status
SS = Step.SubStatus


class DeclaredSubStatusTests(StepRowsMixin, BaseTestCase):
    def confirmation(self) -> Step:
        return self.make_step(
            S.IN_PROGRESS,
            type=ClientStepType.CLIENT_CONFIRMATION,
            mode=Mode.MANUAL,
            sub_status=SS.AWAITING_RESPONSE,
        )

    def test_it_writes_a_sub_status_the_type_declares(self) -> None:
        request = self.make_step(
            S.IN_PROGRESS,
            type=ClientStepType.DOCUMENT_REQUEST,
            mode=Mode.MANUAL,
            sub_status=SS.AWAITING_RESPONSE,
        )
        step = engine.set_sub_status(request, sub_status=SS.SUBMITTED, actor=None, note="Sent")
        step.refresh_from_db()
        self.assertEqual(step.sub_status, SS.SUBMITTED)

    def test_it_refuses_a_sub_status_the_type_does_not_declare(self) -> None:
        step = self.confirmation()
        with self.assertRaisesMessage(
            step_types.UndeclaredSubStatus,
            "Client confirmation steps do not declare the sub-status 'submitted'",
        ):
            engine.set_sub_status(step, sub_status=SS.SUBMITTED, actor=None, note="Uploaded")
        step.refresh_from_db()
        self.assertEqual(step.sub_status, SS.AWAITING_RESPONSE)

    def test_finishing_with_an_undeclared_outcome_is_refused(self) -> None:
        step = self.confirmation()
        with self.assertRaises(step_types.UndeclaredSubStatus):
            engine.finish_client_step(step, actor=None, sub_status=SS.APPROVED, note="?")
        step.refresh_from_db()
        self.assertEqual(step.status, S.IN_PROGRESS)

    def test_no_sub_status_is_always_allowed_and_email_steps_declare_none(self) -> None:
        step_types.check_sub_status(StepType.EMAIL, SS.NONE)
        with self.assertRaises(step_types.UndeclaredSubStatus):
            step_types.check_sub_status(StepType.EMAIL, SS.AWAITING_RESPONSE)
        with self.assertRaisesMessage(step_types.UndeclaredSubStatus, "not registered"):
            step_types.check_sub_status("gone_type", SS.SUBMITTED)

    def test_a_plug_ins_declared_sub_status_is_accepted(self) -> None:
        stamp.register()
        self.addCleanup(stamp.unregister)
        step_types.check_sub_status(stamp.VALUE, SS.SUBMITTED)
        with self.assertRaises(step_types.UndeclaredSubStatus):
            step_types.check_sub_status(stamp.VALUE, SS.CONFIRMED)


class DeclaredTimersTests(StepRowsMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        stamp.register()
        self.addCleanup(stamp.unregister)

    def schedule(self, step: Step, kind: str) -> None:
        timers.schedule(
            practice=step.practice_id,
            kind=kind,
            target_id=step.pk,
            due_at=timezone.now() + dt.timedelta(days=3),
            key=f"test:{step.pk}:{kind}",
        )

    def pending_kinds(self, step: Step) -> set[str]:
        with scopes_disabled():
            return set(Timer.objects.filter(target_id=step.pk).values_list("kind", flat=True))

    def test_finishing_a_step_cancels_the_timer_kinds_its_type_declares(self) -> None:
        step = self.make_step(S.IN_PROGRESS, type=stamp.VALUE, mode=Mode.AUTOMATIC)
        self.schedule(step, stamp.RECHECK_TIMER)
        self.schedule(step, "someone.elses")  # not the type's: left alone
        engine.skip_step(step, actor=self.staff)
        self.assertEqual(self.pending_kinds(step), {"someone.elses"})

    def test_a_confirmation_the_client_confirms_has_its_chase_cancelled(self) -> None:
        step = self.make_step(
            S.IN_PROGRESS,
            type=ClientStepType.CLIENT_CONFIRMATION,
            sub_status=SS.AWAITING_RESPONSE,
        )
        self.schedule(step, CHASE_TIMER)
        engine.finish_client_step(step, actor=None, sub_status=SS.CONFIRMED, note="Confirmed")
        self.assertEqual(self.pending_kinds(step), set())

    def test_a_type_without_timers_touches_no_timer(self) -> None:
        step = self.make_step(S.READY, type=StepType.SIMPLE)
        self.schedule(step, stamp.RECHECK_TIMER)
        engine.complete_step(step, actor=self.staff)
        self.assertEqual(self.pending_kinds(step), {stamp.RECHECK_TIMER})
