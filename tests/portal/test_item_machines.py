"""The portal items' state machines (portal.models) and the step's sub-status machine: an
allowed move is written and recorded through the core helper; a refused one raises the
portal's refusal and writes nothing."""

from __future__ import annotations

from unittest import mock

from django.db import transaction

from portal import engine as portal_engine
from portal.errors import ItemRefused, PortalError
from portal.models import (
    CONFIRMATION_MACHINE,
    REQUEST_MACHINE,
    SUBMISSION_MACHINE,
    VERSION_MACHINE,
    ApprovalVersion,
    Confirmation,
    DocumentRequest,
    Submission,
)
from sodium.models import ActivityEvent
from tests.portal.portal_factories import staff_document
from tests.portal.staff_helpers import (
    PortalStaffTestCase,
    approval_step,
    confirmation_step,
    pdf,
    request_step,
)
from workflows import engine as wf_engine
from workflows.models import Step


class PortalItemMachineTests(PortalStaffTestCase):
    def setUp(self) -> None:
        super().setUp()
        request, approval, confirm = self.attach(
            (request_step(), []), (approval_step(), []), (confirmation_step(), [])
        )
        self.request_step = self.run_step(request)
        self.approval_step = approval
        self.confirm_step = self.run_step(confirm)
        self.request = DocumentRequest.objects.get(step=self.request_step)
        with mock.patch("sodium.notifications.notify"):
            self.submission = portal_engine.submit(
                self.request, contact=self.ann, uploads=[pdf()], message="Here"
            )
        self.request.refresh_from_db()
        with mock.patch("workflows.tasks.run_step_task"), self.captureOnCommitCallbacks():
            self.version = portal_engine.send_for_approval(
                approval,
                actor=self.staff,
                document=staff_document(approval, self.staff),
                title="Draft accounts",
            )
        self.confirmation = Confirmation.objects.get(step=self.confirm_step)

    def assert_move(self, machine, obj, to: str) -> None:
        """The allowed move is written and recorded with the machine's verb."""
        before = ActivityEvent.objects.filter(verb=machine.verb).count()
        with transaction.atomic():
            machine.transition(obj, to=to, actor=self.staff)
        obj.refresh_from_db()
        self.assertEqual(obj.status, to)
        event = ActivityEvent.objects.filter(verb=machine.verb).latest("id")
        self.assertEqual(ActivityEvent.objects.filter(verb=machine.verb).count(), before + 1)
        self.assertEqual((event.new_status, event.object_id), (to, obj.pk))

    def assert_refused(self, machine, obj, to: str) -> None:
        """The refused move raises the portal's refusal and writes nothing."""
        status, events = obj.status, ActivityEvent.objects.count()
        with self.assertRaises(ItemRefused), transaction.atomic():
            machine.transition(obj, to=to, actor=self.staff)
        obj.refresh_from_db()
        self.assertEqual((obj.status, ActivityEvent.objects.count()), (status, events))

    def test_document_request(self) -> None:
        self.assertEqual(self.request.status, DocumentRequest.Status.SUBMITTED)
        self.assert_refused(REQUEST_MACHINE, self.request, DocumentRequest.Status.SUBMITTED)
        self.assert_move(REQUEST_MACHINE, self.request, DocumentRequest.Status.CLOSED)
        self.assert_refused(REQUEST_MACHINE, self.request, DocumentRequest.Status.ACCEPTED)

    def test_submission(self) -> None:
        self.assert_move(SUBMISSION_MACHINE, self.submission, Submission.Status.REJECTED)
        self.assert_refused(SUBMISSION_MACHINE, self.submission, Submission.Status.ACCEPTED)

    def test_approval_version(self) -> None:
        self.assert_refused(VERSION_MACHINE, self.version, ApprovalVersion.Status.PENDING)
        self.assert_move(VERSION_MACHINE, self.version, ApprovalVersion.Status.SUPERSEDED)
        self.assert_refused(VERSION_MACHINE, self.version, ApprovalVersion.Status.APPROVED)

    def test_confirmation(self) -> None:
        self.assertEqual(self.confirmation.status, Confirmation.Status.PENDING)
        self.assert_move(CONFIRMATION_MACHINE, self.confirmation, Confirmation.Status.CONFIRMED)
        self.assert_refused(CONFIRMATION_MACHINE, self.confirmation, Confirmation.Status.PENDING)

    def test_confirming_moves_the_confirmation_once_and_records_only_the_steps_event(self):
        before = ActivityEvent.objects.filter(verb=CONFIRMATION_MACHINE.verb).count()
        with mock.patch("sodium.notifications.notify"):
            self.assertTrue(portal_engine.confirm(self.confirmation, contact=self.ann))
            self.assertFalse(portal_engine.confirm(self.confirmation, contact=self.ann))
        self.confirmation.refresh_from_db()
        self.assertEqual(self.confirmation.status, Confirmation.Status.CONFIRMED)
        self.assertEqual(
            ActivityEvent.objects.filter(verb=CONFIRMATION_MACHINE.verb).count(), before
        )

    def test_a_refused_submission_is_a_portal_error_views_show(self) -> None:
        portal_engine.reject_submission(self.submission, actor=self.staff, reason="Blurred")
        with self.assertRaisesMessage(PortalError, "already been reviewed"):
            portal_engine.accept_submission(self.submission, actor=self.staff)


class StepSubStatusMachineTests(PortalStaffTestCase):
    def setUp(self) -> None:
        super().setUp()
        (step,) = self.attach((request_step(), []))
        self.step = self.run_step(step)
        assert self.step.sub_status == Step.SubStatus.AWAITING_RESPONSE

    def test_an_allowed_move_is_written_with_one_event(self) -> None:
        before = ActivityEvent.objects.filter(verb="step.sub_status").count()
        wf_engine.set_sub_status(
            self.step, sub_status=Step.SubStatus.SUBMITTED, actor=None, note="Ann submitted"
        )
        self.step.refresh_from_db()
        self.assertEqual(self.step.sub_status, Step.SubStatus.SUBMITTED)
        events = ActivityEvent.objects.filter(verb="step.sub_status")
        self.assertEqual(events.count(), before + 1)
        event = events.latest("id")
        self.assertEqual(
            (event.old_status, event.new_status, event.actor_label),
            ("awaiting_response", "submitted", "Client"),
        )

    def test_a_refused_move_raises_and_writes_nothing(self) -> None:
        events = ActivityEvent.objects.count()
        with self.assertRaises(wf_engine.InvalidTransition):
            wf_engine.set_sub_status(
                # declared by the request type, but only finishing the step may accept
                self.step,
                sub_status=Step.SubStatus.ACCEPTED,
                actor=None,
                note="no",
            )
        self.step.refresh_from_db()
        self.assertEqual(self.step.sub_status, Step.SubStatus.AWAITING_RESPONSE)
        self.assertEqual(ActivityEvent.objects.count(), events)
