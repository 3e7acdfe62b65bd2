"""sodium.bounces: what bounced, and correcting the address and sending the email again."""

from __future__ import annotations

import re
from unittest import mock

from django.core import mail

from portal import access
from portal.models import AccessToken
from sodium import bounces, outbox
from sodium.models import ActivityEvent, MessageEvent, OutboundMessage
from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.bounce_helpers import DELIVER, NEW, OLD, REASON, BouncedWorldMixin

LINK = re.compile(r"http://127\.0\.0\.1:8000/portal/(?:link|confirm)/([^/\s]+)/")


class BounceOfTests(BouncedWorldMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.make_world()

    def test_it_names_the_address_and_the_reason(self) -> None:
        bounce = bounces.bounce_of(self.message)
        self.assertEqual((bounce.address, bounce.reason), (OLD, REASON))

    def test_a_message_that_did_not_bounce_has_none(self) -> None:
        self.message.status = OutboundMessage.Status.DELIVERED
        self.assertIsNone(bounces.bounce_of(self.message))
        self.assertIsNone(bounces.bounce_of(None))

    def test_last_messages_reads_a_page_of_steps_in_one_query(self) -> None:
        ids = [self.letter.pk, self.prepare.pk, 999_999]
        with self.assertNumQueries(1):
            found = bounces.last_messages(self.practice, "workflows.step", ids)
        self.assertEqual(list(found), [self.letter.pk])
        self.assertEqual(found[self.letter.pk].bounce.address, OLD)


class ResendBouncedTests(BouncedWorldMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.make_world()

    def resend(self, message=None, address: str = NEW) -> OutboundMessage:
        # The delivery task runs here and now (no worker in these tests).
        with (
            mock.patch(DELIVER, side_effect=outbox.deliver),
            self.captureOnCommitCallbacks(execute=True),
        ):
            return bounces.resend_bounced(
                message or self.message, new_address=address, actor=self.staff
            )

    def test_it_corrects_the_contact_and_sends_the_same_email_to_the_new_address(self) -> None:
        new = self.resend()
        self.ann.refresh_from_db()
        self.assertEqual(self.ann.email, NEW)
        self.assertEqual(len(mail.outbox), 1)
        sent = mail.outbox[0]
        self.assertEqual(sent.to, [NEW])
        self.assertEqual(sent.subject, self.message.subject)
        self.assertEqual(sent.body, self.message.body_text)
        new.refresh_from_db()
        self.assertEqual(
            (new.status, new.source_id, new.task_id), ("sent", self.letter.pk, self.task.pk)
        )
        self.assertEqual(
            bounces.last_messages(self.practice, "workflows.step", [self.letter.pk])[
                self.letter.pk
            ],
            new,
        )

    def test_it_records_the_change_and_the_resend(self) -> None:
        new = self.resend()
        verbs = set(ActivityEvent.objects.filter(client=self.acme).values_list("verb", flat=True))
        self.assertTrue({"contact.updated", "message.resent"} <= verbs)
        resent = ActivityEvent.objects.get(verb="message.resent")
        self.assertIn(f"from {OLD} to {NEW}", resent.summary)
        self.assertEqual((resent.task_id, resent.actor), (self.task.pk, self.staff))
        self.assertTrue(
            MessageEvent.objects.filter(
                message=self.message, event="resent", detail__contains=str(new.pk)
            ).exists()
        )

    def test_it_refuses_bad_addresses_and_changes_nothing(self) -> None:
        for typed in ("", "not-an-address", OLD.upper(), "a" * 250 + "@x.example"):
            with self.subTest(typed=typed), self.assertRaises(bounces.BounceError):
                self.resend(address=typed)
        self.ann.refresh_from_db()
        self.assertEqual(self.ann.email, OLD)
        self.assertEqual(OutboundMessage.objects.count(), 1)
        self.assertEqual(mail.outbox, [])

    def test_it_sends_again_only_once(self) -> None:
        self.resend()
        with self.assertRaisesMessage(bounces.BounceError, "sent again already"):
            self.resend(address="ann@third.example")
        self.assertEqual(OutboundMessage.objects.count(), 2)

    def test_it_refuses_a_message_that_did_not_bounce(self) -> None:
        OutboundMessage.objects.filter(pk=self.message.pk).update(status="delivered")
        with self.assertRaisesMessage(bounces.BounceError, "has not bounced"):
            self.resend()

    def test_a_portal_email_gets_a_fresh_link_and_the_old_one_stops_working(self) -> None:
        step, message = self.confirmation_step()
        old_ref = re.search(r"\{\{secret:portal:([^}]+)\}\}", message.body_text).group(1)
        old_token = AccessToken.objects.get(pk=int(old_ref.split(".")[0]))
        new = self.resend(message)
        self.assertNotIn(old_ref, new.body_text + new.body_html)
        new.refresh_from_db()
        self.assertEqual(new.status, "sent", new.error)
        self.assertEqual(mail.outbox[0].to, [NEW])
        token = LINK.search(mail.outbox[0].body).group(1)
        found = access.find_token(token)
        self.assertIsNotNone(found)
        self.assertEqual((found.step_id, found.contact_id), (step.pk, self.ann.pk))
        old_token.refresh_from_db()
        self.assertFalse(old_token.is_usable)
        self.assertIsNone(access.secret_for_message(message, old_ref, True))

    def test_a_refused_renewal_rolls_everything_back(self) -> None:
        _step, message = self.confirmation_step()
        with mock.patch.dict(bounces._RENEWERS, {"portal": lambda *a: None}):
            with self.assertRaises(bounces.BounceError):
                self.resend(message)
        self.ann.refresh_from_db()
        self.assertEqual(self.ann.email, OLD)

    def test_a_contact_of_another_client_keeps_the_address(self) -> None:
        other = f.ContactFactory(client=f.ClientFactory(practice=self.practice), email=OLD)
        self.resend()
        other.refresh_from_db()
        self.assertEqual(other.email, OLD)
