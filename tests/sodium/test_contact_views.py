from __future__ import annotations

from sodium.models import ActivityEvent, Contact
from tests import factories as f
from tests.base import BaseTestCase

HTMX = {"HX-Request": "true"}


class ContactInPlaceTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme")
        self.ann = f.ContactFactory(
            client=self.acme, first_name="Ann", last_name="Lee", email="ann@acme.example"
        )
        self.base = f"/clients/{self.acme.pk}/contacts/"
        self.client.force_login(self.staff)

    def test_the_add_button_returns_the_section_with_an_empty_form(self) -> None:
        r = self.client.get(self.base + "new/", headers=HTMX)
        self.assertContains(r, 'id="client-contacts"')
        self.assertContains(r, "New contact")
        self.assertNotContains(r, "<html")

    def test_it_adds_a_contact_and_returns_the_updated_section(self) -> None:
        r = self.client.post(
            self.base + "new/",
            {
                "new-first_name": "Bob",
                "new-last_name": "Marsh",
                "new-email": "bob@acme.example",
                "new-is_billing": "on",
            },
            headers=HTMX,
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Bob Marsh")
        self.assertContains(r, "Added Bob Marsh.")
        bob = Contact.objects.get(email="bob@acme.example")
        self.assertEqual(
            (bob.practice, bob.client, bob.roles), (self.practice, self.acme, ["billing"])
        )
        self.assertTrue(
            ActivityEvent.objects.filter(verb="contact.created", object_id=bob.pk).exists()
        )

    def test_bad_input_re_renders_the_form_with_errors_and_saves_nothing(self) -> None:
        r = self.client.post(
            self.base + "new/",
            {"new-first_name": "", "new-email": "not-an-email", "new-phone": "call me"},
            headers=HTMX,
        )
        self.assertEqual(r.status_code, 200)  # htmx 2 swaps only 2xx
        self.assertContains(r, "This field is required.")
        self.assertContains(r, "Enter a valid email address.")
        self.assertContains(r, "Enter a phone number")
        self.assertEqual(Contact.objects.filter(client=self.acme).count(), 1)

    def test_it_needs_an_email_or_a_phone(self) -> None:
        r = self.client.post(self.base + "new/", {"new-first_name": "Cy"}, headers=HTMX)
        self.assertContains(r, "Give an email address or a phone number.")

    def test_it_edits_a_contact_in_place(self) -> None:
        url = f"{self.base}{self.ann.pk}/edit/"
        form = self.client.get(url, headers=HTMX)
        self.assertContains(form, "Edit Ann Lee")
        r = self.client.post(
            url,
            {
                f"c{self.ann.pk}-first_name": "Anne",
                f"c{self.ann.pk}-last_name": "Lee",
                f"c{self.ann.pk}-email": "anne@acme.example",
                f"c{self.ann.pk}-is_director": "on",
            },
            headers=HTMX,
        )
        self.assertContains(r, "Saved Anne Lee.")
        self.ann.refresh_from_db()
        self.assertEqual((self.ann.first_name, self.ann.roles), ("Anne", ["director"]))

    def test_it_removes_a_contact_by_post_only(self) -> None:
        url = f"{self.base}{self.ann.pk}/delete/"
        self.assertEqual(self.client.get(url).status_code, 405)
        r = self.client.post(url, headers=HTMX)
        self.assertContains(r, "Removed Ann Lee.")
        self.assertFalse(Contact.objects.filter(pk=self.ann.pk).exists())

    def test_without_htmx_it_works_as_plain_pages(self) -> None:
        self.assertTemplateUsed(self.client.get(self.base + "new/"), "sodium/contact_form.html")
        r = self.client.post(
            self.base + "new/", {"new-first_name": "Dee", "new-phone": "020 7946 0000"}
        )
        self.assertRedirects(r, f"/clients/{self.acme.pk}/")
        self.assertTrue(Contact.objects.filter(first_name="Dee").exists())

    def test_a_contact_of_another_client_answers_404(self) -> None:
        other = f.ClientFactory(practice=self.practice)
        theirs = f.ContactFactory(client=other)
        r = self.client.post(f"{self.base}{theirs.pk}/delete/", headers=HTMX)
        self.assertEqual(r.status_code, 404)
        self.assertTrue(Contact.objects.filter(pk=theirs.pk).exists())

    def test_an_ar_specialist_can_see_but_not_change_contacts(self) -> None:
        self.client.force_login(self.ar_specialist)
        self.assertContains(self.client.get(f"/clients/{self.acme.pk}/"), "Ann Lee")
        self.assertEqual(self.client.post(f"{self.base}{self.ann.pk}/delete/").status_code, 403)
        self.assertTrue(Contact.objects.filter(pk=self.ann.pk).exists())
