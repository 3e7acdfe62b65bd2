from __future__ import annotations

from unittest import mock

from django.core import mail

from sodium import outbox
from sodium.engine import change_task_status
from sodium.models import ActivityEvent, OutboundMessage
from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.wf_factories import chain_template
from workflows import attach, engine, handlers, queries
from workflows.handlers import StepFailure
from workflows.models import Step


def email_events(step: Step):
    return ActivityEvent.objects.filter(
        verb="step.status", object_type="workflows.step", object_id=step.pk
    ).order_by("id")


class ChainTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        f.ContactFactory(client=self.acme, first_name="Ann", email="ann@acme.example", is_main=True)
        self.task = f.TaskFactory(client=self.acme, owner=self.staff, status="in_progress")
        self.template = chain_template(self.practice, self.manager)

    def test_completing_the_manual_step_fires_the_automatic_email_once(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            prepare, email = attach.attach_template(self.task, self.template, actor=self.manager)
        self.assertEqual((prepare.status, email.status), ("ready", "blocked"))
        self.assertEqual(prepare.assignee, self.staff)
        self.assertEqual(queries.progress(self.task).percent, 0)

        with mock.patch("workflows.tasks.run_step_task.delay") as delay:
            with self.captureOnCommitCallbacks(execute=True):
                engine.complete_step(prepare, actor=self.staff)
        delay.assert_called_once_with(email.pk)
        email.refresh_from_db()
        self.assertEqual(email.status, "ready")
        self.assertEqual(queries.progress(self.task).percent, 50)

        with mock.patch("sodium.tasks.deliver_message_task.delay") as deliver:
            with self.captureOnCommitCallbacks(execute=True):
                engine.run_step(email.pk)
                engine.run_step(email.pk)  # a duplicate delivery changes nothing
        email.refresh_from_db()
        self.assertEqual(email.status, "done")
        message = OutboundMessage.objects.get(source_type="workflows.step", source_id=email.pk)
        self.assertEqual(message.to, ["ann@acme.example"])
        self.assertEqual(message.subject, "Welcome, Acme Ltd")
        self.assertIn("Dear Ann,", message.body_text)
        deliver.assert_called_once_with(message.pk, message.practice_id)
        outbox.deliver(message.pk)
        self.assertEqual(len(mail.outbox), 1)
        progress = queries.progress(self.task)
        self.assertEqual((progress.percent, progress.done), (100, 2))

    def test_an_automatic_email_with_nobody_to_send_to_fails_with_the_reason(self) -> None:
        self.acme.contacts.update(email="")
        with self.captureOnCommitCallbacks(execute=True):
            prepare, email = attach.attach_template(self.task, self.template, actor=self.manager)
        with mock.patch("workflows.tasks.run_step_task.delay"):
            with self.captureOnCommitCallbacks(execute=True):
                engine.complete_step(prepare, actor=self.staff)
        engine.run_step(email.pk)
        email.refresh_from_db()
        self.assertEqual(email.status, "failed")
        self.assertIn("Main contact", email.failure_reason)
        self.assertFalse(OutboundMessage.objects.exists())
        # After the fix, a retry sends it.
        self.acme.contacts.update(email="ann@acme.example")
        with mock.patch("workflows.tasks.run_step_task.delay") as delay:
            with self.captureOnCommitCallbacks(execute=True):
                engine.retry_step(email, actor=self.staff)
        delay.assert_called_once_with(email.pk)
        with self.captureOnCommitCallbacks(execute=False):
            engine.run_step(email.pk)
        email.refresh_from_db()
        self.assertEqual(email.status, "done")

    def test_a_handler_failing_after_it_wrote_leaves_nothing_behind(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            prepare, email = attach.attach_template(self.task, self.template, actor=self.manager)
        with mock.patch("workflows.tasks.run_step_task.delay"):
            engine.complete_step(prepare, actor=self.staff)
        real_queue = handlers.queue_step_email

        def queue_then_fail(step, draft, **kwargs):
            real_queue(step, draft, **kwargs)
            raise StepFailure("The provider refused the message.")

        with (
            mock.patch("workflows.handlers.queue_step_email", queue_then_fail),
            mock.patch("sodium.tasks.deliver_message_task.delay") as deliver,
            self.captureOnCommitCallbacks(execute=True),
        ):
            failed = engine.run_step(email.pk)
        self.assertEqual(failed.status, "failed")
        email.refresh_from_db()
        self.assertEqual(
            (email.status, email.failure_reason), ("failed", "The provider refused the message.")
        )
        self.assertFalse(OutboundMessage.objects.exists())  # the queued email was rolled back
        deliver.assert_not_called()
        events = list(email_events(email))
        self.assertEqual(
            [(e.old_status, e.new_status) for e in events],
            [("blocked", "ready"), ("ready", "failed")],
        )

    def test_automatic_steps_wait_for_the_task_to_start(self) -> None:
        planned = f.TaskFactory(client=self.acme, owner=self.staff, status="planned")
        template = chain_template(
            self.practice,
            self.manager,
        )
        # Make the email independent so it is ready at once.
        with mock.patch("workflows.tasks.run_step_task.delay") as delay:
            with self.captureOnCommitCallbacks(execute=True):
                steps = attach.attach_template(planned, template, actor=self.manager)
            delay.assert_not_called()
            prepare = steps[0]
            with self.captureOnCommitCallbacks(execute=True):
                engine.complete_step(prepare, actor=self.staff)
            delay.assert_not_called()  # ready, but the task has not started
            with self.captureOnCommitCallbacks(execute=True):
                change_task_status(planned, to="in_progress", actor=self.staff)
            delay.assert_called_once_with(steps[1].pk)
        self.assertEqual(Step.objects.get(pk=steps[1].pk).status, "ready")
