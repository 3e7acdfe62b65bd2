"""Texts on the outbox: queue_sms, delivery through the backends, refusals, Twilio and its
signed delivery-status callback."""

from __future__ import annotations

from unittest import mock

import responses
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from sodium import liquid, outbox
from sodium.models import MessageEvent, OutboundMessage
from sodium.sms import backends
from sodium.sms import messages as sms
from sodium.sms.twilio import signature
from tests import factories as f
from tests.base import BaseTestCase

Status = OutboundMessage.Status
DELAY = "sodium.tasks.deliver_message_task.delay"
TWILIO = {
    "SODIUM_SMS_BACKEND": "twilio",
    "TWILIO_ACCOUNT_SID": "AC123",
    "TWILIO_AUTH_TOKEN": "secret-token",
    "TWILIO_FROM": "+447700900999",
    "TWILIO_API_URL": "https://api.twilio.test",
    "SITE_URL": "https://sodium.example",
}
SEND_URL = "https://api.twilio.test/2010-04-01/Accounts/AC123/Messages.json"


class SmsTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.client_row = f.ClientFactory(practice=cls.practice, name="Acme Ltd")
        cls.anna = f.ContactFactory(
            client=cls.client_row, first_name="Anna", last_name="Smith", mobile="07700 900123"
        )

    def setUp(self) -> None:
        super().setUp()
        backends.outbox.clear()

    def queue(self, key: str = "ar:1:sms", contact=None, **kwargs) -> OutboundMessage:
        fields = {
            "practice": self.practice,
            "key": key,
            "contact": contact or self.anna,
            "body": "Hi {{ contact.first_name }}, invoice {{ number }} is due.",
            "context": {"contact": {"first_name": "Anna"}, "number": "INV-7"},
            "source": ("collections_ar.action", 1),
        }
        fields.update(kwargs)
        return sms.queue_sms(**fields)

    def queue_and_deliver(self, **kwargs) -> OutboundMessage:
        # The worker's task: what deliver_message_task.delay would run in another process.
        with (
            mock.patch(DELAY, side_effect=outbox.deliver),
            self.captureOnCommitCallbacks(execute=True),
        ):
            message = self.queue(**kwargs)
        message.refresh_from_db()
        return message

    def events(self, message: OutboundMessage) -> list[str]:
        return list(MessageEvent.objects.filter(message=message).values_list("event", flat=True))


class QueueSmsTests(SmsTestCase):
    def test_it_writes_a_queued_sms_row_and_delivers_through_the_locmem_backend(self) -> None:
        message = self.queue_and_deliver()
        self.assertEqual(message.channel, OutboundMessage.Channel.SMS)
        self.assertEqual(message.to, ["+447700900123"])
        self.assertEqual(message.body_text, "Hi Anna, invoice INV-7 is due.")
        self.assertEqual(message.client, self.client_row)
        self.assertEqual(message.status, Status.SENT)
        self.assertEqual(message.provider_message_id, "locmem-1")
        self.assertEqual(
            [(t.to, t.body) for t in backends.outbox],
            [("+447700900123", "Hi Anna, invoice INV-7 is due.")],
        )
        self.assertEqual(self.events(message), ["queued", "sent"])

    def test_the_same_key_twice_writes_one_row(self) -> None:
        with mock.patch(DELAY) as delay, self.captureOnCommitCallbacks(execute=True):
            first = self.queue()
            second = self.queue(body="Something else")
        self.assertEqual(first.pk, second.pk)
        self.assertEqual(OutboundMessage.objects.filter(idempotency_key="ar:1:sms").count(), 1)
        delay.assert_called_once_with(first.pk, first.practice_id)

    def test_delivering_twice_sends_once(self) -> None:
        with mock.patch(DELAY):
            message = self.queue()
        self.assertIsNotNone(outbox.deliver(message.pk))
        self.assertIsNone(outbox.deliver(message.pk))
        self.assertEqual(len(backends.outbox), 1)

    def test_a_contact_who_opted_out_is_never_texted(self) -> None:
        self.anna.sms_opt_out = True
        self.anna.save(update_fields=["sms_opt_out"])
        with self.assertRaisesMessage(sms.SmsRefused, "asked not to receive text messages"):
            self.queue()
        self.assertFalse(OutboundMessage.objects.exists())

    def test_a_contact_without_a_mobile_is_never_texted(self) -> None:
        ben = f.ContactFactory(client=self.client_row, first_name="Ben", last_name="")
        with self.assertRaisesMessage(sms.SmsRefused, "Ben has no mobile number"):
            self.queue(contact=ben)
        self.assertFalse(OutboundMessage.objects.exists())

    def test_a_landline_stored_as_mobile_is_refused(self) -> None:
        # Written past validation (an import): the send still checks.
        carl = f.ContactFactory(client=self.client_row, first_name="Carl", mobile="+442079460000")
        with self.assertRaisesMessage(sms.SmsRefused, "is not a valid mobile"):
            self.queue(contact=carl)

    def test_another_practices_contact_is_refused(self) -> None:
        rival = f.ContactFactory(client=self.other_client, mobile="07700 900555")
        with self.assertRaises(sms.SmsRefused):
            self.queue(contact=rival)

    def test_a_hostile_body_fails_with_a_reason(self) -> None:
        with self.assertRaises(liquid.TemplateError):
            self.queue(body="{% for i in (1..100000000) %}x{% endfor %}")
        self.assertFalse(OutboundMessage.objects.exists())

    def test_a_failed_send_is_retried_then_recorded(self) -> None:
        with mock.patch(DELAY):
            message = self.queue()
        with mock.patch.object(backends.LocmemBackend, "send", side_effect=ConnectionError("down")):
            message = outbox.deliver(message.pk)
        self.assertEqual(message.status, Status.QUEUED)
        self.assertIn("ConnectionError: down", message.error)
        self.assertEqual(self.events(message), ["queued", "error"])


class BackendSettingTests(SmsTestCase):
    @override_settings(SODIUM_SMS_BACKEND="console")
    def test_the_console_backend_prints_the_text(self) -> None:
        with mock.patch(DELAY):
            message = self.queue()
        with mock.patch("sys.stdout") as stdout:
            outbox.deliver(message.pk)
        printed = "".join(call.args[0] for call in stdout.write.call_args_list)
        self.assertIn("SMS to +447700900123", printed)
        self.assertIn("Hi Anna, invoice INV-7 is due.", printed)

    @override_settings(SODIUM_SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="")
    def test_twilio_without_credentials_is_improperly_configured(self) -> None:
        with self.assertRaisesMessage(ImproperlyConfigured, "TWILIO_ACCOUNT_SID"):
            backends.get_backend()

    @override_settings(SODIUM_SMS_BACKEND="locmem", TWILIO_ACCOUNT_SID="")
    def test_missing_twilio_credentials_do_not_matter_to_other_backends(self) -> None:
        self.assertIsInstance(backends.get_backend(), backends.LocmemBackend)

    @override_settings(SODIUM_SMS_BACKEND="carrier-pigeon")
    def test_an_unknown_backend_is_improperly_configured(self) -> None:
        with self.assertRaises(ImproperlyConfigured):
            backends.get_backend()


@override_settings(**TWILIO)
class TwilioSendTests(SmsTestCase):
    @responses.activate
    def test_it_posts_the_text_and_keeps_twilios_sid(self) -> None:
        responses.post(SEND_URL, json={"sid": "SM0001", "status": "queued"}, status=201)
        message = self.queue_and_deliver()
        self.assertEqual(message.status, Status.SENT)
        self.assertEqual(message.provider_message_id, "SM0001")
        (call,) = responses.calls
        body = dict(pair.split("=", 1) for pair in call.request.body.split("&"))  # form-encoded
        self.assertEqual(body["To"], "%2B447700900123")
        self.assertEqual(body["From"], "%2B447700900999")
        self.assertEqual(
            body["StatusCallback"], "https%3A%2F%2Fsodium.example%2Fwebhooks%2Fsms%2Ftwilio%2F"
        )
        self.assertTrue(call.request.headers["Authorization"].startswith("Basic "))

    @responses.activate
    def test_a_refused_send_is_recorded_with_twilios_reason(self) -> None:
        responses.post(
            SEND_URL, json={"code": 21211, "message": "Invalid 'To' Phone Number"}, status=400
        )
        message = self.queue_and_deliver()
        self.assertEqual(message.status, Status.QUEUED)  # retried by the sweep
        self.assertIn("Twilio error 21211: Invalid 'To' Phone Number", message.error)


@override_settings(**TWILIO)
class TwilioCallbackTests(SmsTestCase):
    URL = "/webhooks/sms/twilio/"

    def setUp(self) -> None:
        super().setUp()
        with mock.patch(DELAY):
            self.message = self.queue()
        OutboundMessage.objects.filter(pk=self.message.pk).update(
            status=Status.SENT, provider_message_id="SM0001"
        )

    def post(self, params: dict[str, str], *, sign_with: str = "secret-token", sig=None):
        given = sig
        if given is None:
            url = "https://sodium.example" + self.URL
            given = signature(url, {k: [v] for k, v in params.items()}, sign_with)
        return self.client.post(self.URL, params, headers={"X-Twilio-Signature": given})

    def test_a_signed_delivered_callback_marks_the_text_delivered(self) -> None:
        r = self.post({"MessageSid": "SM0001", "MessageStatus": "delivered", "To": "+4477"})
        self.assertEqual(r.status_code, 204)
        self.message.refresh_from_db()
        self.assertEqual(self.message.status, Status.DELIVERED)
        self.assertEqual(self.events(self.message), ["queued", "delivered"])

    def test_the_same_callback_twice_changes_nothing_more(self) -> None:
        params = {"MessageSid": "SM0001", "MessageStatus": "delivered"}
        self.post(params)
        self.assertEqual(self.post(params).status_code, 204)
        self.assertEqual(self.events(self.message), ["queued", "delivered"])

    def test_undelivered_marks_it_failed_with_the_error_code(self) -> None:
        self.post({"MessageSid": "SM0001", "MessageStatus": "undelivered", "ErrorCode": "30003"})
        self.message.refresh_from_db()
        self.assertEqual(self.message.status, Status.FAILED)
        self.assertIn("error 30003", self.message.error)
        self.assertEqual(self.events(self.message), ["queued", "failed"])

    def test_a_wrong_signature_is_refused(self) -> None:
        r = self.post({"MessageSid": "SM0001", "MessageStatus": "delivered"}, sign_with="guess")
        self.assertEqual(r.status_code, 403)
        self.message.refresh_from_db()
        self.assertEqual(self.message.status, Status.SENT)

    def test_a_missing_signature_is_refused(self) -> None:
        r = self.post({"MessageSid": "SM0001", "MessageStatus": "delivered"}, sig="")
        self.assertEqual(r.status_code, 403)

    def test_a_signature_of_other_parameters_is_refused(self) -> None:
        good = signature(
            "https://sodium.example" + self.URL,
            {"MessageSid": ["SM0001"], "MessageStatus": ["sent"]},
            "secret-token",
        )
        r = self.post({"MessageSid": "SM0001", "MessageStatus": "delivered"}, sig=good)
        self.assertEqual(r.status_code, 403)

    def test_it_needs_no_csrf_token(self) -> None:
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        params = {"MessageSid": "SM0001", "MessageStatus": "delivered"}
        given = signature(
            "https://sodium.example" + self.URL, {k: [v] for k, v in params.items()}, "secret-token"
        )
        r = client.post(self.URL, params, headers={"X-Twilio-Signature": given})
        self.assertEqual(r.status_code, 204)

    def test_the_signature_matches_twilios_documented_example(self) -> None:
        # Twilio's documented example (api-snippets, security/signature_validation).
        url = "https://mycompany.com/myapp.php?foo=1&bar=2"
        params = {
            "CallSid": ["CA1234567890ABCDE"],
            "Caller": ["+14158675310"],
            "Digits": ["1234"],
            "From": ["+14158675310"],
            "To": ["+18005551212"],
        }
        self.assertEqual(signature(url, params, "12345"), "GvWf1cFY/Q7PnoempGyD5oXAezc=")
