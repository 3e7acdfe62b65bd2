"""Contacts' mobiles (E.164, UK default) and SMS opt-out, and the "Send a text" composer."""

from __future__ import annotations

from unittest import mock

from sodium import outbox
from sodium.messaging.variables import variables_of
from sodium.models import ActivityEvent, Contact, OutboundMessage
from sodium.roles import PERMISSIONS, Perm, Role
from sodium.sms import backends
from sodium.sms import messages as sms_messages
from sodium.sms.numbers import display_mobile
from sodium.templatetags.sms import mobiles
from tests import factories as f
from tests.base import BaseTestCase

HTMX = {"HX-Request": "true"}
DELAY = "sodium.tasks.deliver_message_task.delay"


class ContactMobileTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme")
        self.base = f"/clients/{self.acme.pk}/contacts/"
        self.client.force_login(self.staff)

    def add(self, **fields):
        data = {"new-first_name": "Bob", "new-email": "bob@acme.example"}
        data.update({f"new-{k}": v for k, v in fields.items()})
        return self.client.post(self.base + "new/", data, headers=HTMX)

    def test_a_uk_mobile_is_stored_in_e164(self) -> None:
        self.add(mobile="07700 900123")
        bob = Contact.objects.get(email="bob@acme.example")
        self.assertEqual(bob.mobile.as_e164, "+447700900123")
        raw = Contact.objects.filter(pk=bob.pk).values_list("mobile", flat=True).get()
        self.assertEqual(raw, "+447700900123")

    def test_an_international_mobile_keeps_its_country(self) -> None:
        self.add(mobile="+1 415 555 2671")
        raw = Contact.objects.values_list("mobile", flat=True).get(email="bob@acme.example")
        self.assertEqual(raw, "+14155552671")

    def test_a_bad_number_is_a_form_error_and_saves_nothing(self) -> None:
        r = self.add(mobile="07123")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Enter a mobile number, e.g. 07700 900123")
        self.assertFalse(Contact.objects.filter(email="bob@acme.example").exists())

    def test_a_landline_is_not_a_mobile(self) -> None:
        r = self.add(mobile="020 7946 0000")
        self.assertContains(r, "Enter a mobile number")

    def test_opting_out_records_when_and_why(self) -> None:
        self.add(mobile="07700 900123", sms_opt_out="on", sms_opt_out_reason="Asked by phone")
        bob = Contact.objects.get(email="bob@acme.example")
        self.assertTrue(bob.sms_opt_out)
        self.assertIsNotNone(bob.sms_opt_out_at)
        self.assertEqual(bob.sms_opt_out_reason, "Asked by phone")
        r = self.client.get(f"/clients/{self.acme.pk}/")
        self.assertContains(r, '<a href="tel:+447700900123">07700 900123</a>', html=True)
        self.assertContains(r, "No texts")
        self.assertNotContains(r, "Send a text")

    def test_opting_back_in_clears_the_date(self) -> None:
        bob = f.ContactFactory(client=self.acme, mobile="07700 900123", sms_opt_out=True)
        r = self.client.post(
            f"{self.base}{bob.pk}/edit/",
            {f"c{bob.pk}-first_name": "Bob", f"c{bob.pk}-mobile": "07700 900123"},
            headers=HTMX,
        )
        self.assertEqual(r.status_code, 200)
        bob.refresh_from_db()
        self.assertEqual((bob.sms_opt_out, bob.sms_opt_out_at), (False, None))

    def test_the_client_page_offers_a_text_to_a_mobile_contact(self) -> None:
        bob = f.ContactFactory(client=self.acme, mobile="07700 900123")
        r = self.client.get(f"/clients/{self.acme.pk}/")
        self.assertContains(r, f"/clients/{self.acme.pk}/contacts/{bob.pk}/text/")


class MobileDisplayTests(BaseTestCase):
    """Stored in E.164; shown nationally for UK numbers, internationally for the rest."""

    def test_uk_numbers_read_nationally_and_others_internationally(self) -> None:
        cases = [
            ("+447700900123", "07700 900123"),  # the reserved drama range
            ("+447911123456", "07911 123456"),
            ("+14155552671", "+1 415-555-2671"),
            ("+33612345678", "+33 6 12 34 56 78"),
            ("", ""),
        ]
        for stored, shown in cases:
            with self.subTest(stored):
                self.assertEqual(display_mobile(stored), shown)

    def test_a_foreign_contacts_mobile_on_the_client_page(self) -> None:
        acme = f.ClientFactory(practice=self.practice, name="Acme")
        f.ContactFactory(client=acme, first_name="Jo", mobile="+1 415 555 2671")
        self.client.force_login(self.staff)
        r = self.client.get(f"/clients/{acme.pk}/")
        self.assertContains(r, '<a href="tel:+14155552671">+1 415-555-2671</a>', html=True)
        self.assertNotContains(r, ">+14155552671<")

    def test_the_mobiles_filter_joins_a_texts_numbers(self) -> None:
        self.assertEqual(
            mobiles(["+447700900123", "+14155552671"]), "07700 900123, +1 415-555-2671"
        )


class SendTextTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        backends.outbox.clear()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        self.anna = f.ContactFactory(client=self.acme, first_name="Anna", mobile="07700 900123")
        self.url = f"/clients/{self.acme.pk}/contacts/{self.anna.pk}/text/"
        self.client.force_login(self.staff)

    def test_the_composer_counts_segments_under_the_body(self) -> None:
        r = self.client.get(self.url)
        self.assertContains(r, "data-sms-counter")
        self.assertContains(r, 'data-sms-counter-for="id_body"')
        self.assertContains(r, "0 characters · 0 segments (GSM-7)")
        self.assertContains(r, "js/sms-counter.js")

    def test_preview_renders_the_liquid_and_sends_nothing(self) -> None:
        r = self.client.post(
            self.url, {"body": "Hi {{ contact.first_name }} from {{ client.name }}", "nonce": "n1"}
        )
        self.assertContains(r, "Hi Anna from Acme Ltd")
        self.assertContains(r, "21 characters · 1 segment (GSM-7)")
        self.assertContains(r, 'name="send"')
        self.assertFalse(OutboundMessage.objects.exists())

    def test_send_queues_one_text_through_the_outbox_and_logs_it(self) -> None:
        data = {"body": "Hi {{ contact.first_name }}", "nonce": "n1", "send": "1"}
        with (
            mock.patch(DELAY, side_effect=outbox.deliver),
            self.captureOnCommitCallbacks(execute=True),
        ):
            r = self.client.post(self.url, data)
            self.client.post(self.url, data)  # a double click
        self.assertRedirects(r, f"/clients/{self.acme.pk}/", fetch_redirect_response=False)
        message = OutboundMessage.objects.get()
        self.assertEqual((message.channel, message.body_text), ("sms", "Hi Anna"))
        self.assertEqual([t.body for t in backends.outbox], ["Hi Anna"])
        self.assertEqual(
            ActivityEvent.objects.filter(verb="contact.texted", object_id=self.anna.pk).count(), 1
        )

    def test_an_opted_out_contact_is_refused_with_the_reason(self) -> None:
        Contact.objects.filter(pk=self.anna.pk).update(sms_opt_out=True)
        r = self.client.post(self.url, {"body": "Hi", "nonce": "n1", "send": "1"})
        self.assertContains(r, "asked not to receive text messages")
        self.assertFalse(OutboundMessage.objects.exists())

    def test_a_template_error_is_shown_on_the_field(self) -> None:
        r = self.client.post(self.url, {"body": "Hi {{ contact.first_name ", "nonce": "n1"})
        self.assertContains(r, 'class="field has-error"')
        self.assertFalse(OutboundMessage.objects.exists())

    def test_the_picker_shows_exactly_the_composers_variables(self) -> None:
        r = self.client.get(self.url)
        self.assertContains(r, "data-token-scope")
        self.assertContains(r, 'data-insert-token="{{ contact.last_name }}"')
        self.assertContains(r, 'data-insert-token="{{ client.reference }}"')
        self.assertNotContains(r, 'data-insert-token="{{ task.name }}"')
        self.assertNotContains(r, 'data-insert-token="{{ reason }}"')

    def test_another_uses_variable_is_a_field_error(self) -> None:
        r = self.client.post(self.url, {"body": "Your {{ task.name }} is late", "nonce": "n1"})
        self.assertContains(r, "Unknown variable “task.name”.")
        self.assertNotContains(r, 'name="send"')
        self.assertFalse(OutboundMessage.objects.exists())

    def test_its_variables_are_filled_for_the_contact(self) -> None:
        self.acme.reference = "ACME01"
        self.acme.save(update_fields=["reference"])
        r = self.client.post(
            self.url, {"body": "{{ contact.name }} / {{ client.reference }}", "nonce": "n1"}
        )
        self.assertContains(r, f"{self.anna.full_name} / ACME01")

    def test_the_context_fills_every_variable_of_its_use(self) -> None:
        ctx = sms_messages.contact_context(self.anna)
        for var in variables_of(sms_messages.CONTACT_SMS):
            with self.subTest(var.path):
                node = ctx
                for part in var.path.split("."):
                    self.assertIn(part, node)
                    node = node[part]

    def test_it_needs_the_send_sms_permission(self) -> None:
        without_staff = PERMISSIONS[Perm.SEND_SMS] - {Role.STAFF}
        with mock.patch.dict(PERMISSIONS, {Perm.SEND_SMS: without_staff}):
            self.assertEqual(self.client.get(self.url).status_code, 403)
            r = self.client.get(f"/clients/{self.acme.pk}/")
            self.assertNotContains(r, "Send a text")

    def test_a_member_of_another_practice_gets_404(self) -> None:
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(self.url).status_code, 404)

    def test_another_practices_contact_answers_404(self) -> None:
        rival = f.ContactFactory(client=self.other_client, mobile="07700 900555")
        r = self.client.get(f"/clients/{self.other_client.pk}/contacts/{rival.pk}/text/")
        self.assertEqual(r.status_code, 404)
