"""The Messages pages show texts: body, number, segments; filtered by kind; fixed queries."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sodium.models import OutboundMessage
from tests import factories as f
from tests.base import BaseTestCase

SMS = OutboundMessage.Channel.SMS


def make(practice, key: str, **fields) -> OutboundMessage:
    return OutboundMessage.objects.create(practice=practice, idempotency_key=key, **fields)


class SmsInMessagesTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.acme = f.ClientFactory(practice=cls.practice, name="Acme Ltd")
        cls.text = make(
            cls.practice,
            "sms-1",
            channel=SMS,
            to=["+447700900123"],
            body_text="Hi Anna, your VAT return is ready to approve.",
            client=cls.acme,
            provider_message_id="SM0001",
        )
        cls.email = make(
            cls.practice, "email-1", to=["anna@acme.example"], subject="Your VAT return"
        )

    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.staff)

    def test_the_list_shows_a_text_with_its_body_number_and_segments(self) -> None:
        r = self.client.get("/messages/")
        self.assertContains(r, "SMS</span>")
        self.assertContains(r, "Hi Anna, your VAT return is ready to approve.")
        self.assertContains(r, "+447700900123")
        self.assertContains(r, "45 characters · 1 segment (GSM-7)")
        self.assertContains(r, "Your VAT return")

    def test_it_filters_by_kind(self) -> None:
        r = self.client.get("/messages/?channel=sms")
        self.assertEqual(list(r.context["page"].object_list), [self.text])
        r = self.client.get("/messages/?channel=email")
        self.assertEqual(list(r.context["page"].object_list), [self.email])

    def test_search_finds_a_text_by_its_body(self) -> None:
        r = self.client.get("/messages/?q=ready to approve")
        self.assertEqual(list(r.context["page"].object_list), [self.text])

    def test_the_detail_shows_number_segments_and_provider_id(self) -> None:
        r = self.client.get(f"/messages/{self.text.pk}/")
        self.assertContains(r, "Text to +447700900123")
        self.assertContains(r, "45 characters · 1 segment (GSM-7)")
        self.assertContains(r, "SM0001")
        self.assertNotContains(r, "Reply-to")

    def test_texts_add_no_queries_to_the_list(self) -> None:
        def count() -> int:
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.client.get("/messages/").status_code, 200)
            return len(ctx.captured_queries)

        count()  # warm caches (content types, session)
        few = count()
        for n in range(10):
            client = f.ClientFactory(practice=self.practice)
            make(
                self.practice,
                f"more-sms-{n}",
                channel=SMS,
                to=["+447700900124"],
                body_text="€" * 90,
                client=client,
                task=f.TaskFactory(client=client),
            )
        with self.assertNumQueries(few):
            r = self.client.get("/messages/")
        self.assertContains(r, "180 characters · 2 segments (GSM-7)")
