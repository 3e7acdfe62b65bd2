"""The Messages pages: the practice's outbox, filtered, and one message read in full."""

from __future__ import annotations

import datetime as dt

from django.test import override_settings
from django.utils import timezone

from sodium.models import MessageEvent, OutboundMessage
from tests import factories as f
from tests.base import BaseTestCase

Status = OutboundMessage.Status


def make_message(practice, key: str, **fields) -> OutboundMessage:
    fields.setdefault("to", ["someone@client.example"])
    fields.setdefault("subject", f"Subject {key}")
    return OutboundMessage.objects.create(practice=practice, idempotency_key=key, **fields)


class MessageListTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.acme = f.ClientFactory(practice=cls.practice, name="Acme Ltd")
        cls.bolt = f.ClientFactory(practice=cls.practice, name="Bolt Partners")
        cls.quiet = f.ClientFactory(practice=cls.practice, name="Quiet Ltd")
        cls.task = f.TaskFactory(client=cls.acme, name="VAT return Q1")
        now = timezone.now()
        cls.vat = make_message(
            cls.practice,
            "vat",
            subject="Your VAT return",
            to=["anna@acme.example"],
            client=cls.acme,
            task=cls.task,
            status=Status.DELIVERED,
            created_at=now - dt.timedelta(hours=2),
        )
        cls.welcome = make_message(
            cls.practice,
            "welcome",
            subject="Welcome aboard",
            to=["ben@bolt.example"],
            cc=["carla@bolt.example"],
            client=cls.bolt,
            status=Status.BOUNCED,
            created_at=now - dt.timedelta(hours=1),
        )
        cls.note = make_message(
            cls.practice,
            "note",
            subject="Internal note",
            to=["maya@ledger.example"],
            created_at=now,
        )
        cls.rival = make_message(
            cls.other_practice,
            "rival",
            subject="Rival Secret Message",
            to=["boss@rival.example"],
            client=cls.other_client,
        )

    def get(self, **params):
        self.client.force_login(self.staff)
        return self.client.get("/messages/", params)

    def subjects(self, response) -> list[str]:
        return [m.subject for m in response.context["page"].object_list]

    def test_it_lists_the_practices_messages_newest_first(self) -> None:
        r = self.get()
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/message_list.html")
        self.assertEqual(self.subjects(r), ["Internal note", "Welcome aboard", "Your VAT return"])
        self.assertContains(r, f'href="/messages/{self.vat.pk}/"')
        self.assertContains(r, 'class="chip chip-delivered"')
        self.assertContains(r, "Bounced")
        self.assertContains(r, "anna@acme.example")
        self.assertContains(r, "VAT return Q1")
        self.assertNotContains(r, "Rival Secret")
        self.assertNotContains(r, "boss@rival.example")

    def test_the_client_choices_are_this_practices_clients_with_messages(self) -> None:
        r = self.get()
        self.assertEqual(r.context["clients"], [self.acme, self.bolt])
        self.assertNotContains(r, "Rival Secret Client")

    def test_it_filters_by_client(self) -> None:
        r = self.get(client=self.bolt.pk)
        self.assertEqual(self.subjects(r), ["Welcome aboard"])
        self.assertEqual(r.context["client"], self.bolt)

    def test_a_client_without_messages_shows_an_empty_list(self) -> None:
        r = self.get(client=self.quiet.pk)
        self.assertEqual(self.subjects(r), [])
        self.assertContains(r, "No messages match")
        self.assertIn(self.quiet, r.context["clients"])

    def test_another_practices_client_or_nonsense_is_ignored(self) -> None:
        for wanted in (self.other_client.pk, "abc", "99999"):
            with self.subTest(client=wanted):
                r = self.get(client=wanted)
                self.assertEqual(r.status_code, 200)
                self.assertIsNone(r.context["client"])
                self.assertEqual(len(self.subjects(r)), 3)

    def test_it_filters_by_task(self) -> None:
        r = self.get(task=self.task.pk)
        self.assertEqual(self.subjects(r), ["Your VAT return"])
        self.assertContains(r, 'name="task"')
        other_task = f.TaskFactory(client=self.other_client)
        r = self.get(task=other_task.pk)
        self.assertIsNone(r.context["task"])
        self.assertEqual(len(self.subjects(r)), 3)

    def test_it_filters_by_status(self) -> None:
        self.assertEqual(self.subjects(self.get(status="bounced")), ["Welcome aboard"])
        self.assertEqual(len(self.subjects(self.get(status="nonsense"))), 3)

    def test_it_searches_subjects_and_recipients(self) -> None:
        self.assertEqual(self.subjects(self.get(q="vat")), ["Your VAT return"])
        self.assertEqual(self.subjects(self.get(q="ben@bolt")), ["Welcome aboard"])
        self.assertEqual(self.subjects(self.get(q="carla")), ["Welcome aboard"])
        r = self.get(q="Rival")
        self.assertEqual(self.subjects(r), [])
        self.assertContains(r, "No messages match")

    def test_it_returns_only_the_table_for_htmx(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get("/messages/", {"status": "bounced"}, headers={"HX-Request": "true"})
        self.assertContains(r, 'id="message-table"')
        self.assertContains(r, "Welcome aboard")
        self.assertNotContains(r, "<html")
        self.assertNotContains(r, 'class="filters"')
        self.assertEqual(r["Vary"], "HX-Request, Cookie")

    def test_it_paginates_25_a_page(self) -> None:
        for n in range(30):
            make_message(self.practice, f"bulk-{n}")
        r = self.get()
        self.assertEqual(len(r.context["page"].object_list), 25)
        self.assertContains(r, "Page 1 of 2")
        r = self.get(page=2)
        self.assertEqual(len(r.context["page"].object_list), 8)

    def test_it_runs_the_same_number_of_queries_for_3_and_30_messages(self) -> None:
        self.client.force_login(self.staff)
        self.client.get("/messages/")  # warm caches (content types, session)

        def count() -> int:
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as ctx:
                r = self.client.get("/messages/")
            self.assertEqual(r.status_code, 200)
            return len(ctx.captured_queries)

        few = count()
        for n in range(27):
            client = f.ClientFactory(practice=self.practice)
            make_message(
                self.practice,
                f"more-{n}",
                client=client,
                task=f.TaskFactory(client=client),
                cc=["x@y.example"],
            )
        with self.assertNumQueries(few):
            r = self.client.get("/messages/")
        self.assertEqual(len(r.context["page"].object_list), 25)

    def test_everyone_in_the_practice_may_see_it(self) -> None:
        self.client.force_login(self.ar_specialist)
        self.assertEqual(self.client.get("/messages/").status_code, 200)

    def test_signed_out_visitors_are_sent_to_sign_in(self) -> None:
        r = self.client.get("/messages/")
        self.assertRedirects(r, "/sign-in/?next=/messages/", fetch_redirect_response=False)

    def test_the_nav_links_to_it(self) -> None:
        r = self.get()
        self.assertContains(r, 'href="/messages/" aria-current="page"')


class EmptyMessageListTests(BaseTestCase):
    def test_it_explains_where_messages_come_from(self) -> None:
        self.client.force_login(self.owner)
        r = self.client.get("/messages/")
        self.assertContains(r, "No messages yet")
        self.assertContains(r, "appear here as soon as they are queued")


class MessageDetailTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.acme = f.ClientFactory(practice=cls.practice, name="Acme Ltd")
        cls.task = f.TaskFactory(client=cls.acme, name="Year-end accounts")
        cls.message = make_message(
            cls.practice,
            "detail",
            subject="Please upload your bank statements",
            to=["anna@acme.example"],
            cc=["bob@acme.example"],
            from_name="Ledger Team",
            reply_to="hello@ledger.example",
            body_text=(
                "Hello Anna,\n\nUpload them here: http://127.0.0.1:8000/portal/t/abc123.\n"
                "Thanks, <Ledger>"
            ),
            body_html='<p>Hello <b>Anna</b> &amp; "team"</p><script>alert(1)</script>',
            client=cls.acme,
            task=cls.task,
            status=Status.OPENED,
            provider_message_id="prov-1",
        )
        for event in ("queued", "sent", "delivered", "opened"):
            MessageEvent.objects.create(practice=cls.practice, message=cls.message, event=event)
        cls.rival = make_message(cls.other_practice, "rival", subject="Rival Secret Message")

    def get(self, message_id: int):
        self.client.force_login(self.staff)
        return self.client.get(f"/messages/{message_id}/")

    def test_it_shows_the_headers_status_and_events(self) -> None:
        r = self.get(self.message.pk)
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/message_detail.html")
        self.assertContains(r, "<h1>Please upload your bank statements</h1>", html=False)
        self.assertContains(r, "Ledger Team &lt;no-reply@sodium.localhost&gt;")
        self.assertContains(r, "hello@ledger.example")
        self.assertContains(r, "anna@acme.example")
        self.assertContains(r, "bob@acme.example")
        self.assertContains(r, 'class="chip chip-opened"')
        self.assertContains(r, "Year-end accounts")
        for event in ("Queued", "Sent", "Delivered", "Opened"):
            self.assertContains(r, f"<strong>{event}</strong>")

    def test_it_shows_the_text_body_escaped_and_its_links(self) -> None:
        r = self.get(self.message.pk)
        self.assertContains(r, '<pre class="message-body">Hello Anna,')
        self.assertContains(r, "Thanks, &lt;Ledger&gt;")
        self.assertContains(
            r,
            '<a href="http://127.0.0.1:8000/portal/t/abc123" rel="noopener noreferrer">',
        )

    def test_outside_development_client_access_tokens_are_hidden(self) -> None:
        token = "Ab1_-" * 8 + "xyz"  # 43 URL-safe characters, like a portal token
        link = f"http://127.0.0.1:8000/portal/link/{token}/"
        message = make_message(
            self.practice,
            "with-token",
            body_text=f"Open your portal: {link}\nOr visit http://127.0.0.1:8000/portal/acme/",
            body_html=f'<p><a href="{link}">Open your portal</a></p>',
        )
        MessageEvent.objects.create(
            practice=self.practice, message=message, event="clicked", detail=f"Clicked {link}"
        )
        with override_settings(SHOW_CLIENT_LINKS=False):
            r = self.get(message.pk)
        self.assertNotContains(r, token)
        self.assertContains(r, "Open your portal: http://127.0.0.1:8000/portal/link/[hidden]/")
        self.assertContains(r, "whoever holds one can act as the client")
        self.assertContains(r, "portal/link/[hidden]/&quot;")  # in the HTML frame too
        self.assertContains(r, "Clicked http://127.0.0.1:8000/portal/link/[hidden]/")
        with override_settings(SHOW_CLIENT_LINKS=True):  # development: follow the demo's links
            r = self.get(message.pk)
        self.assertContains(r, f'<a href="{link}" rel="noopener noreferrer">')
        self.assertNotContains(r, "whoever holds one can act as the client")

    def test_it_shows_the_html_body_in_a_sandboxed_frame(self) -> None:
        r = self.get(self.message.pk)
        self.assertContains(r, 'sandbox=""')
        self.assertContains(
            r,
            "&lt;body&gt;&lt;p&gt;Hello &lt;b&gt;Anna&lt;/b&gt; &amp;amp; "
            "&quot;team&quot;&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;/body&gt;",
        )
        # The letter's look is a stylesheet file: the frame inherits the page's CSP.
        self.assertContains(
            r, "&lt;link rel=&quot;stylesheet&quot; href=&quot;/static/css/email-preview.css"
        )
        self.assertNotContains(r, "<script>alert(1)</script>")

    def test_a_message_without_html_has_no_frame(self) -> None:
        plain = make_message(self.practice, "plain", body_text="Just text")
        r = self.get(plain.pk)
        self.assertNotContains(r, "<iframe")
        self.assertContains(r, "Just text")

    def test_another_practices_message_is_404(self) -> None:
        self.assertEqual(self.get(self.rival.pk).status_code, 404)
        self.assertEqual(self.get(999999).status_code, 404)

    def test_it_rejects_post(self) -> None:
        self.client.force_login(self.staff)
        self.assertEqual(self.client.post(f"/messages/{self.message.pk}/").status_code, 405)
