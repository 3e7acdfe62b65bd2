"""The outbox: queueing in the caller's transaction, delivery, the safety net and tracking."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from anymail.signals import AnymailTrackingEvent, tracking
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from sodium import outbox
from sodium.models import MessageEvent, OutboundMessage
from tests import factories as f
from tests.base import BaseTestCase

Status = OutboundMessage.Status
DELAY = "sodium.tasks.deliver_message_task.delay"


class BrokenBackend(BaseEmailBackend):
    """An email backend whose provider is down."""

    def send_messages(self, email_messages):
        raise ConnectionError("provider unreachable")


# Django's test setup swaps in the locmem backend; anymail's test backend also reports the
# provider's message id (anymail_status), as a real provider would.
@override_settings(EMAIL_BACKEND="anymail.backends.test.EmailBackend")
class OutboxTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.practice.sender_name = "Ledger Team"
        cls.practice.reply_to = "hello@ledger.example"
        cls.practice.save(update_fields=["sender_name", "reply_to"])
        cls.client_row = f.ClientFactory(practice=cls.practice, name="Acme Ltd")
        cls.task = f.TaskFactory(client=cls.client_row, name="Year-end accounts")

    def queue(self, key: str = "step:1:send", **kwargs) -> OutboundMessage:
        fields = {
            "practice": self.practice,
            "key": key,
            "to": ["anna@acme.example"],
            "subject": "Your year-end accounts",
            "text": "Hello Anna,\nPlease upload here: https://sodium.example/p/abc123\n",
            "html": "<p>Hello Anna</p>",
            "client": self.client_row,
            "task": self.task,
            "source": ("workflows.step", 1),
        }
        fields.update(kwargs)
        return outbox.queue_email(**fields)

    def events(self, message: OutboundMessage) -> list[str]:
        return list(MessageEvent.objects.filter(message=message).values_list("event", flat=True))


class QueueEmailTests(OutboxTestCase):
    def test_it_writes_a_queued_row_and_enqueues_delivery_on_commit(self) -> None:
        with mock.patch(DELAY) as delay, self.captureOnCommitCallbacks(execute=True):
            message = self.queue()
            delay.assert_not_called()  # not before the commit
        delay.assert_called_once_with(message.pk, message.practice_id)
        message.refresh_from_db()
        self.assertEqual(message.status, Status.QUEUED)
        self.assertEqual(message.practice, self.practice)
        self.assertEqual(message.to, ["anna@acme.example"])
        self.assertEqual(message.from_name, "Ledger Team")
        self.assertEqual(message.reply_to, "hello@ledger.example")
        self.assertEqual((message.source_type, message.source_id), ("workflows.step", 1))
        self.assertEqual(message.client, self.client_row)
        self.assertEqual(message.task, self.task)
        self.assertEqual(self.events(message), ["queued"])

    def test_it_keeps_an_explicit_sender_name_and_reply_to(self) -> None:
        with mock.patch(DELAY), self.captureOnCommitCallbacks(execute=True):
            message = self.queue(from_name="Anna's accountant", reply_to="maya@ledger.example")
        self.assertEqual(message.from_name, "Anna's accountant")
        self.assertEqual(message.reply_to, "maya@ledger.example")

    def test_it_is_idempotent_on_the_key(self) -> None:
        with mock.patch(DELAY) as delay, self.captureOnCommitCallbacks(execute=True) as callbacks:
            first = self.queue()
            second = self.queue(subject="A different subject")
        self.assertEqual(first.pk, second.pk)
        self.assertEqual(second.subject, "Your year-end accounts")
        self.assertEqual(OutboundMessage.objects.filter(idempotency_key="step:1:send").count(), 1)
        self.assertEqual(len(callbacks), 1)
        delay.assert_called_once_with(first.pk, first.practice_id)
        self.assertEqual(self.events(first), ["queued"])

    def test_a_rolled_back_transaction_leaves_no_row_and_enqueues_nothing(self) -> None:
        with mock.patch(DELAY) as delay, self.captureOnCommitCallbacks(execute=True) as callbacks:
            with self.assertRaises(RuntimeError), transaction.atomic():
                self.queue()
                raise RuntimeError("the state change failed")
        self.assertEqual(callbacks, [])
        delay.assert_not_called()
        self.assertFalse(OutboundMessage.objects.filter(idempotency_key="step:1:send").exists())
        self.assertFalse(MessageEvent.objects.exists())

    def test_it_refuses_another_practices_client(self) -> None:
        with self.assertRaises(ValueError):
            self.queue(client=self.other_client, task=None)
        self.assertFalse(OutboundMessage.objects.exists())

    def test_it_works_without_an_open_scope(self) -> None:
        # Commands and tasks may call it outside any practice scope; it opens its own.
        from django_scopes import scope

        with scope(), mock.patch(DELAY):  # scopes on, no practice: scoped queries would fail
            message = self.queue()
        self.assertEqual(message.practice_id, self.practice.pk)


class DeliverTests(OutboxTestCase):
    def setUp(self) -> None:
        super().setUp()
        with mock.patch(DELAY), self.captureOnCommitCallbacks(execute=True):
            self.message = self.queue(cc=["bob@acme.example"])

    def test_it_sends_one_email_and_records_it(self) -> None:
        result = outbox.deliver(self.message.pk)
        self.assertEqual(len(mail.outbox), 1)
        sent = mail.outbox[0]
        self.assertEqual(sent.to, ["anna@acme.example"])
        self.assertEqual(sent.cc, ["bob@acme.example"])
        self.assertEqual(sent.subject, "Your year-end accounts")
        self.assertEqual(sent.from_email, "Ledger Team <no-reply@sodium.localhost>")
        self.assertEqual(sent.reply_to, ["hello@ledger.example"])
        self.assertIn("https://sodium.example/p/abc123", sent.body)
        self.assertEqual(sent.alternatives[0][0], "<p>Hello Anna</p>")
        self.assertEqual(
            sent.metadata,
            {"sodium_message_id": str(self.message.pk), "practice": str(self.practice.pk)},
        )
        self.assertEqual(sent.tags, ["workflows.step"])

        self.message.refresh_from_db()
        self.assertEqual(result, self.message)
        self.assertEqual(self.message.status, Status.SENT)
        self.assertIsNotNone(self.message.sent_at)
        self.assertEqual(self.message.attempts, 1)
        self.assertEqual(self.message.provider_message_id, str(sent.anymail_status.message_id))
        self.assertEqual(self.events(self.message), ["queued", "sent"])

    def test_a_resend_after_a_worker_died_carries_the_same_message_id(self) -> None:
        outbox.deliver(self.message.pk)
        # The worker died before recording `sent`: the row is back to queued, as the sweep
        # leaves a stale `sending` row after the sending timeout.
        OutboundMessage.objects.filter(pk=self.message.pk).update(status=Status.QUEUED)
        outbox.deliver(self.message.pk)
        other = self.queue(key="test:other")
        outbox.deliver(other.pk)
        first, again, another = (m.extra_headers["Message-ID"] for m in mail.outbox)
        self.assertEqual(first, again)
        self.assertNotEqual(first, another)
        self.assertRegex(first, rf"^<sodium\.{self.message.pk}\.[0-9a-f]{{16}}@sodium\.localhost>$")
        self.assertIn(f"Message-ID: {first}", mail.outbox[0].message().as_string())

    def test_delivering_twice_sends_one_email(self) -> None:
        outbox.deliver(self.message.pk)
        self.assertIsNone(outbox.deliver(self.message.pk))
        self.assertEqual(len(mail.outbox), 1)
        self.message.refresh_from_db()
        self.assertEqual(self.message.attempts, 1)
        self.assertEqual(self.events(self.message), ["queued", "sent"])

    def test_a_webhook_that_arrives_before_the_send_is_recorded_keeps_its_status(self) -> None:
        webhook_at = timezone.now() - dt.timedelta(seconds=5)
        real_send = EmailMultiAlternatives.send

        def send_then_webhook(email, *args, **kwargs):
            sent = real_send(email, *args, **kwargs)
            OutboundMessage.objects.filter(pk=self.message.pk).update(
                status=Status.DELIVERED, status_changed_at=webhook_at
            )
            return sent

        with mock.patch.object(EmailMultiAlternatives, "send", send_then_webhook):
            outbox.deliver(self.message.pk)
        self.message.refresh_from_db()
        self.assertEqual(self.message.status, Status.DELIVERED)
        self.assertEqual(self.message.status_changed_at, webhook_at)
        self.assertIsNotNone(self.message.sent_at)  # still recorded as sent, with its id
        self.assertEqual(
            self.message.provider_message_id, str(mail.outbox[0].anymail_status.message_id)
        )
        self.assertEqual(self.events(self.message), ["queued", "sent"])

    def test_it_sends_nothing_for_a_message_another_worker_claimed(self) -> None:
        OutboundMessage.objects.filter(pk=self.message.pk).update(status=Status.SENDING)
        self.assertIsNone(outbox.deliver(self.message.pk))
        self.assertEqual(mail.outbox, [])

    def test_it_ignores_a_missing_message(self) -> None:
        self.assertIsNone(outbox.deliver(self.message.pk + 1000))
        self.assertEqual(mail.outbox, [])

    def test_the_task_delivers(self) -> None:
        from sodium import tasks

        tasks.deliver_message_task(self.message.pk)
        self.assertEqual(len(mail.outbox), 1)

    def test_it_leaves_the_provider_id_blank_on_a_plain_backend(self) -> None:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            outbox.deliver(self.message.pk)
        self.message.refresh_from_db()
        self.assertEqual(self.message.status, Status.SENT)
        self.assertEqual(self.message.provider_message_id, "")

    @override_settings(EMAIL_BACKEND="tests.sodium.test_outbox.BrokenBackend")
    def test_a_send_error_requeues_it_with_the_error(self) -> None:
        with self.assertLogs("sodium.outbox", "ERROR"):
            result = outbox.deliver(self.message.pk)
        self.message.refresh_from_db()
        self.assertEqual(result, self.message)
        self.assertEqual(self.message.status, Status.QUEUED)
        self.assertEqual(self.message.attempts, 1)
        self.assertIn("provider unreachable", self.message.error)
        self.assertIsNone(self.message.sent_at)
        self.assertEqual(self.events(self.message), ["queued", "error"])

    @override_settings(EMAIL_BACKEND="tests.sodium.test_outbox.BrokenBackend")
    def test_it_fails_for_good_after_five_attempts(self) -> None:
        with self.assertLogs("sodium.outbox", "ERROR"):
            for attempt in range(1, 6):
                outbox.deliver(self.message.pk)
                self.message.refresh_from_db()
                self.assertEqual(self.message.attempts, attempt)
        self.assertEqual(self.message.status, Status.FAILED)
        self.assertIn("provider unreachable", self.message.error)
        self.assertEqual(self.events(self.message), ["queued"] + ["error"] * 4 + ["failed"])
        # Failed is final: further deliveries do nothing.
        self.assertIsNone(outbox.deliver(self.message.pk))
        self.message.refresh_from_db()
        self.assertEqual(self.message.attempts, 5)

    def test_a_retry_after_an_error_sends_it(self) -> None:
        with (
            override_settings(EMAIL_BACKEND="tests.sodium.test_outbox.BrokenBackend"),
            self.assertLogs("sodium.outbox", "ERROR"),
        ):
            outbox.deliver(self.message.pk)
        outbox.deliver(self.message.pk)
        self.message.refresh_from_db()
        self.assertEqual(self.message.status, Status.SENT)
        self.assertEqual(self.message.error, "")
        self.assertEqual(len(mail.outbox), 1)


class RedispatchStaleTests(OutboxTestCase):
    def make(self, key: str, status: str, age: dt.timedelta) -> OutboundMessage:
        when = timezone.now() - age
        return OutboundMessage.objects.create(
            practice=self.practice,
            idempotency_key=key,
            to=["anna@acme.example"],
            status=status,
            created_at=when,
            queued_at=when,
            status_changed_at=when,
        )

    def test_it_re_enqueues_only_old_queued_messages(self) -> None:
        old = self.make("old", Status.QUEUED, dt.timedelta(minutes=5))
        other_practice = OutboundMessage.objects.create(
            practice=self.other_practice,
            idempotency_key="rival-old",
            to=["x@rival.example"],
            queued_at=timezone.now() - dt.timedelta(minutes=5),
        )
        self.make("fresh", Status.QUEUED, dt.timedelta(seconds=10))
        self.make("sent", Status.SENT, dt.timedelta(minutes=5))
        self.make("failed", Status.FAILED, dt.timedelta(minutes=5))
        with mock.patch(DELAY) as delay:
            count = outbox.redispatch_stale()
        self.assertEqual(count, 2)
        self.assertEqual(
            sorted(c.args[0] for c in delay.call_args_list), sorted([old.pk, other_practice.pk])
        )

    def test_it_respects_the_limit(self) -> None:
        for n in range(3):
            self.make(f"old-{n}", Status.QUEUED, dt.timedelta(minutes=5))
        with mock.patch(DELAY) as delay:
            self.assertEqual(outbox.redispatch_stale(limit=2), 2)
        self.assertEqual(delay.call_count, 2)

    def test_it_requeues_a_message_whose_worker_died_while_sending(self) -> None:
        stuck = self.make("stuck", Status.SENDING, dt.timedelta(hours=1))
        busy = self.make("busy", Status.SENDING, dt.timedelta(seconds=30))
        with mock.patch(DELAY) as delay:
            self.assertEqual(outbox.redispatch_stale(), 1)
        delay.assert_called_once_with(stuck.pk, stuck.practice_id)
        stuck.refresh_from_db()
        busy.refresh_from_db()
        self.assertEqual(stuck.status, Status.QUEUED)
        self.assertEqual(busy.status, Status.SENDING)
        self.assertEqual(self.events(stuck), ["requeued"])

    def test_a_failed_send_waits_a_minute_before_the_retry(self) -> None:
        message = self.make("retry", Status.QUEUED, dt.timedelta(minutes=5))
        with (
            override_settings(EMAIL_BACKEND="tests.sodium.test_outbox.BrokenBackend"),
            self.assertLogs("sodium.outbox", "ERROR"),
        ):
            outbox.deliver(message.pk)
        with mock.patch(DELAY) as delay:
            self.assertEqual(outbox.redispatch_stale(), 0)
            later = timezone.now() + dt.timedelta(minutes=2)
            self.assertEqual(outbox.redispatch_stale(now=later), 1)
        delay.assert_called_once_with(message.pk, message.practice_id)

    def test_the_sweep_runs_it_as_a_safety_net(self) -> None:
        from sodium import timers

        self.assertIs(timers.SAFETY_NETS["outbox.stale_messages"], outbox.redispatch_stale)


class TrackingTests(OutboxTestCase):
    def setUp(self) -> None:
        super().setUp()
        with mock.patch(DELAY), self.captureOnCommitCallbacks(execute=True):
            self.message = self.queue()
        outbox.deliver(self.message.pk)
        self.message.refresh_from_db()
        self.provider_id = self.message.provider_message_id

    def track(self, event_type: str, **kwargs) -> OutboundMessage | None:
        kwargs.setdefault("message_id", self.provider_id)
        return outbox.record_tracking(AnymailTrackingEvent(event_type=event_type, **kwargs))

    def status(self) -> str:
        self.message.refresh_from_db()
        return self.message.status

    def test_delivered_then_opened_moves_forward(self) -> None:
        self.track("delivered")
        self.assertEqual(self.status(), Status.DELIVERED)
        self.track("opened")
        self.assertEqual(self.status(), Status.OPENED)
        self.assertEqual(self.events(self.message), ["queued", "sent", "delivered", "opened"])

    def test_opened_then_delivered_stays_opened(self) -> None:
        self.track("opened")
        self.track("delivered")
        self.assertEqual(self.status(), Status.OPENED)
        self.assertEqual(self.events(self.message)[-2:], ["opened", "delivered"])

    def test_a_click_counts_as_opened(self) -> None:
        self.track("clicked", click_url="https://sodium.example/p/abc123")
        self.assertEqual(self.status(), Status.OPENED)
        event = MessageEvent.objects.filter(message=self.message).last()
        self.assertEqual(event.event, "clicked")
        self.assertIn("https://sodium.example/p/abc123", event.detail)

    def test_bounced_sets_bounced_with_the_reason(self) -> None:
        self.track("delivered")
        self.track("bounced", description="Mailbox does not exist", recipient="anna@acme.example")
        self.assertEqual(self.status(), Status.BOUNCED)
        self.assertIn("Mailbox does not exist", self.message.error)
        self.track("delivered")
        self.assertEqual(self.status(), Status.BOUNCED)

    def test_rejected_is_a_bounce_and_failed_is_a_failure(self) -> None:
        self.track("rejected")
        self.assertEqual(self.status(), Status.BOUNCED)
        other = self.queue(key="step:2:send")
        outbox.deliver(other.pk)
        other.refresh_from_db()
        self.track("failed", message_id=other.provider_message_id)
        other.refresh_from_db()
        self.assertEqual(other.status, Status.FAILED)

    def test_other_events_are_recorded_without_changing_status(self) -> None:
        self.track("deferred", mta_response="451 try again later")
        self.assertEqual(self.status(), Status.SENT)
        self.assertEqual(self.events(self.message)[-1], "deferred")

    def test_it_finds_the_message_by_our_metadata(self) -> None:
        self.track("delivered", message_id="", metadata={"sodium_message_id": str(self.message.pk)})
        self.assertEqual(self.status(), Status.DELIVERED)

    def test_unknown_messages_are_ignored(self) -> None:
        before = MessageEvent.objects.count()
        self.assertIsNone(self.track("delivered", message_id="no-such-id"))
        self.assertIsNone(self.track("delivered", message_id=None, metadata={"x": "1"}))
        self.assertIsNone(
            self.track("delivered", message_id=None, metadata={"sodium_message_id": "999999"})
        )
        self.assertEqual(MessageEvent.objects.count(), before)
        self.assertEqual(self.status(), Status.SENT)

    def test_the_anymail_signal_reaches_the_handler(self) -> None:
        event = AnymailTrackingEvent(event_type="delivered", message_id=self.provider_id)
        tracking.send(sender=object, event=event, esp_name="Test")
        self.assertEqual(self.status(), Status.DELIVERED)

    def test_the_webhook_urls_exist(self) -> None:
        self.assertEqual(
            reverse("anymail:postmark_tracking_webhook"), "/anymail/postmark/tracking/"
        )
        self.assertEqual(
            reverse("anymail:sendgrid_tracking_webhook"), "/anymail/sendgrid/tracking/"
        )


class LinksInTests(BaseTestCase):
    def test_it_finds_links_without_trailing_punctuation(self) -> None:
        text = (
            "Upload at https://a.example/p/x1. Or see (http://b.example/docs?a=1&b=2), "
            "again https://a.example/p/x1 and ftp://c.example/no."
        )
        self.assertEqual(
            outbox.links_in(text),
            ["https://a.example/p/x1", "http://b.example/docs?a=1&b=2"],
        )
