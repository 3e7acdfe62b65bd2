"""A task whose automatic email (or portal confirmation) bounced from ann@old.example."""

from __future__ import annotations

from unittest import mock

from anymail.signals import AnymailTrackingEvent
from django.core import mail

from sodium import outbox
from sodium.models import OutboundMessage
from tests import factories as f
from tests.workflows.wf_factories import chain_template
from workflows import attach, building
from workflows import engine as wf_engine
from workflows.models import Step

RUN = "workflows.tasks.run_step_task.delay"
DELIVER = "sodium.tasks.deliver_message_task.delay"
OLD = "ann@old.example"
NEW = "ann@new.example"
REASON = "Mailbox does not exist"


def bounce(message: OutboundMessage, reason: str = REASON) -> OutboundMessage:
    """Deliver `message` and apply the provider's bounce webhook for OLD."""
    outbox.deliver(message.pk)
    return outbox.record_tracking(
        AnymailTrackingEvent(
            event_type="bounced",
            metadata={"sodium_message_id": str(message.pk)},
            recipient=OLD,
            description=reason,
        )
    )


class BouncedWorldMixin:
    """`self.acme` with Ann (OLD); `self.letter`, an automatic email step of `self.task`
    (assigned to its owner, `self.staff`), whose email `self.message` bounced."""

    def make_world(self) -> None:
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        self.ann = f.ContactFactory(
            client=self.acme, first_name="Ann", last_name="Archer", email=OLD, is_main=True
        )
        self.task = f.TaskFactory(client=self.acme, owner=self.staff, status="in_progress")
        template = chain_template(self.practice, self.manager)
        with mock.patch(RUN):
            self.prepare, self.letter = attach.attach_template(
                self.task, template, actor=self.manager
            )
        with mock.patch(RUN), mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            wf_engine.complete_step(self.prepare, actor=self.staff)
            wf_engine.run_step(self.letter.pk)
        self.message = bounce(OutboundMessage.objects.get(source_id=self.letter.pk))
        mail.outbox.clear()

    def confirmation_step(self) -> tuple[Step, OutboundMessage]:
        """Another task of Acme: an automatic client confirmation whose email bounced."""
        template = building.create_template(
            practice=self.practice, actor=self.manager, name="Filing"
        )
        step = building.add_step(
            template.groups.get(),
            actor=self.manager,
            name="Confirm filing",
            type="client_confirmation",
            mode="automatic",
            to_recipients=["contact:main"],
            settings={
                "message": "Please confirm you are happy for us to file the accounts.",
                "button_text": "Yes, file them",
                "thank_you": "Thank you, we will file them this week.",
                "notify_assignee": True,
            },
        )
        task = f.TaskFactory(client=self.acme, owner=self.staff, status="in_progress")
        with mock.patch(RUN):
            (step,) = attach.attach_template(task, template, actor=self.manager)
        with mock.patch(RUN), mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            wf_engine.run_step(step.pk)
        message = bounce(OutboundMessage.objects.get(source_id=step.pk))
        mail.outbox.clear()
        return step, message
