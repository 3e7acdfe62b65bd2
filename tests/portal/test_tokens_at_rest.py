"""No stored column holds a portal token: emails keep a placeholder, the send joins it in."""

from __future__ import annotations

import importlib
import re
from unittest import mock

from anymail.signals import AnymailTrackingEvent
from django.apps import apps as django_apps
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.db import models
from django.test import override_settings
from django.urls import reverse

from portal import access
from portal import engine as portal_engine
from portal.models import AccessToken
from sodium import outbox
from sodium.models import ActivityEvent, MessageEvent, Notification, OutboundMessage
from tests import factories as f
from tests.base import BaseTestCase
from tests.portal.helpers import delivered
from tests.portal.portal_factories import approval_chain_template, staff_document
from tests.sodium.test_message_views import make_message
from workflows import attach
from workflows import engine as wf_engine

RUN = "workflows.tasks.run_step_task.delay"
DELIVER = "sodium.tasks.deliver_message_task.delay"
LINK = re.compile(r"http://127\.0\.0\.1:8000(/portal/(?:link|confirm)/[^/\s]+/)")
URL_SAFE = re.compile(r"[A-Za-z0-9_-]{16,}")
TOKEN_LENGTH = 43


def accepted_tokens(text: str) -> set[str]:
    """Return every URL-safe substring of `text` that the portal accepts as a token."""
    candidates = set()
    for run in URL_SAFE.findall(text):
        candidates.add(run)
        candidates.update(run[i : i + TOKEN_LENGTH] for i in range(len(run) - TOKEN_LENGTH + 1))
    return {c for c in candidates if access.find_token(c) is not None}


def stored_text(model: type[models.Model]) -> list[str]:
    """Return the value of every concrete column of every row of `model`, as text."""
    fields = [fd.attname for fd in model._meta.concrete_fields]
    return [
        str(value)
        for row in model.objects.values_list(*fields)
        for value in row
        if value is not None
    ]


class TokensAtRestTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        self.ann = f.ContactFactory(
            client=self.acme, first_name="Ann", email="ann@acme.example", is_main=True
        )
        self.task = f.TaskFactory(client=self.acme, owner=self.staff, status="in_progress")
        template = approval_chain_template(
            self.practice, self.manager, chase={"enabled": True, "every_days": 1, "max_times": 2}
        )
        with mock.patch(RUN):
            self.prepare, self.approval, self.confirm = attach.attach_template(
                self.task, template, actor=self.manager
            )

    def send_every_kind_of_link(self) -> list[OutboundMessage]:
        """A sign-in link, a step link (approval) and a confirmation link, all queued."""
        self.client.post(
            reverse("portal:sign-in", args=[self.practice.slug]), {"email": "ann@acme.example"}
        )
        with mock.patch(RUN), mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            wf_engine.complete_step(self.prepare, actor=self.staff)
            version = portal_engine.send_for_approval(
                self.approval,
                actor=self.staff,
                document=staff_document(self.approval, self.staff),
                title="Draft accounts 2026",
            )
            portal_engine.respond_to_approval(version, contact=self.ann, approve=True)
            wf_engine.run_step(self.confirm.pk)
        return list(OutboundMessage.objects.order_by("pk"))

    def test_sent_emails_carry_working_links_and_no_stored_column_holds_one(self) -> None:
        messages = self.send_every_kind_of_link()
        self.assertEqual(len(messages), 3)
        links = []
        for message in messages:
            email = delivered(message)
            found = LINK.findall(email.body) + LINK.findall(email.alternatives[0][0])
            self.assertTrue(found, email.body)
            self.assertTrue(accepted_tokens(email.body), email.body)  # the extractor finds them
            links.append(found[0])
            self.assertEqual(self.client.get(found[0]).status_code, 200)
        # A provider's click event names the link clicked.
        outbox.record_tracking(
            AnymailTrackingEvent(
                event_type="clicked",
                metadata={"sodium_message_id": str(messages[1].pk)},
                click_url=f"http://127.0.0.1:8000{links[1]}",
                recipient="ann@acme.example",
            )
        )
        self.assertTrue(MessageEvent.objects.filter(event="clicked").exists())

        for model in (OutboundMessage, MessageEvent, ActivityEvent, Notification, AccessToken):
            for text in stored_text(model):
                with self.subTest(model=model.__name__, text=text[:80]):
                    self.assertEqual(accepted_tokens(text), set())

    def test_a_resend_joins_in_the_same_working_link(self) -> None:
        message = self.send_every_kind_of_link()[1]
        first = delivered(message).body
        # The worker died mid-send: the sweep puts it back to queued and it is sent again.
        OutboundMessage.objects.filter(pk=message.pk).update(status="queued")
        second = delivered(message).body
        self.assertEqual(first, second)
        self.assertEqual(len(mail.outbox), 2)
        self.assertEqual(self.client.get(LINK.search(second).group(1)).status_code, 200)

    def test_a_link_withdrawn_before_sending_fails_the_email_instead(self) -> None:
        message = self.send_every_kind_of_link()[1]
        access.revoke_tokens(self.ann)
        outbox.deliver(message.pk)
        message.refresh_from_db()
        self.assertEqual(message.status, "failed")
        self.assertIn("A link in this email was withdrawn or has expired", message.error)
        self.assertEqual(mail.outbox, [])

    def test_a_placeholder_copied_into_an_email_to_someone_else_opens_nothing(self) -> None:
        link = access.step_link(self.ann, self.approval)
        with self.captureOnCommitCallbacks():
            forged = outbox.queue_email(
                practice=self.practice,
                key="forged",
                to=["mallory@evil.example"],
                subject="Ann's link",
                text=f"Here: {link}",
            )
        outbox.deliver(forged.pk)
        forged.refresh_from_db()
        self.assertEqual(forged.status, "failed")
        self.assertEqual(mail.outbox, [])

    def test_another_practices_placeholder_is_not_joined_in(self) -> None:
        link = access.step_link(self.ann, self.approval)
        rival = f.PracticeFactory()
        with self.captureOnCommitCallbacks():
            forged = outbox.queue_email(
                practice=rival, key="rival", to=["ann@acme.example"], subject="x", text=link
            )
        outbox.deliver(forged.pk)
        self.assertEqual(mail.outbox, [])

    def test_the_messages_page_hides_the_link_and_development_shows_the_working_one(self) -> None:
        message = self.send_every_kind_of_link()[1]
        self.client.force_login(self.staff)
        url = reverse("sodium:message-detail", args=[message.pk])
        with override_settings(SHOW_CLIENT_LINKS=False):
            r = self.client.get(url)
        self.assertContains(r, "/portal/link/[hidden]/")
        self.assertNotContains(r, "{{secret:")
        self.assertContains(r, "whoever holds one can act as the client")
        with override_settings(SHOW_CLIENT_LINKS=True):
            r = self.client.get(url)
        shown = LINK.search(r.content.decode()).group(1)
        self.assertEqual(shown, LINK.search(delivered(message).body).group(1))
        self.assertNotContains(r, "whoever holds one can act as the client")


class LegacyTokensMigrationTests(BaseTestCase):
    def test_it_hides_tokens_in_sent_emails_and_keeps_those_still_to_send(self) -> None:
        migration = importlib.import_module("portal.migrations.0004_hide_tokens_in_sent_messages")
        contact = f.ContactFactory(client=f.ClientFactory(practice=self.practice))
        token = access.issue_token(contact, purpose=AccessToken.Purpose.STEP)
        link = access.link_for(token)
        sent = make_message(self.practice, "sent", status="sent", body_text=f"Open {link}")
        queued = make_message(self.practice, "queued", status="queued", body_text=f"Open {link}")
        MessageEvent.objects.create(
            practice=self.practice, message=sent, event="clicked", detail=f"Clicked {link}"
        )
        migration.hide_tokens(django_apps, None)
        sent.refresh_from_db()
        queued.refresh_from_db()
        self.assertEqual(sent.body_text, "Open http://127.0.0.1:8000/portal/link/[hidden]/")
        self.assertEqual(
            MessageEvent.objects.get(event="clicked").detail,
            "Clicked http://127.0.0.1:8000/portal/link/[hidden]/",
        )
        self.assertEqual(queued.body_text, f"Open {link}")


class SecretKeyRotationTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.ann = f.ContactFactory(
            client=f.ClientFactory(practice=self.practice), email="ann@acme.example"
        )

    def queue(self) -> OutboundMessage:
        link = access.issue_link(self.ann, purpose=AccessToken.Purpose.STEP)
        with self.captureOnCommitCallbacks():
            return outbox.queue_email(
                practice=self.practice, key="k", to=["ann@acme.example"], subject="s", text=link
            )

    def test_a_key_kept_as_a_fallback_still_derives_queued_links(self) -> None:
        old = settings.SECRET_KEY
        message = self.queue()
        with self.settings(SECRET_KEY="a-brand-new-secret-key-" * 3, SECRET_KEY_FALLBACKS=[old]):
            body = delivered(message).body
        self.assertIsNotNone(access.find_token(LINK.search(body).group(1).split("/")[3]))

    def test_without_the_old_key_the_email_fails_instead_of_sending_a_dead_link(self) -> None:
        message = self.queue()
        with self.settings(SECRET_KEY="a-brand-new-secret-key-" * 3):
            outbox.deliver(message.pk)
        message.refresh_from_db()
        self.assertEqual((message.status, mail.outbox), ("failed", []))
