"""Practice settings page: details, branding and the logo upload, and serving the logo."""

from __future__ import annotations

import io
import os

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from sodium.models import ActivityEvent, Practice
from sodium.uploads import LOGO_MAX_BYTES
from tests.base import BaseTestCase

URL = reverse("sodium:practice-settings")


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (8, 8), noisy: bool = False) -> bytes:
    """Return a real image file's bytes; a noisy one hardly compresses."""
    if noisy:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (31, 95, 191))
    buf = io.BytesIO()
    image.save(buf, fmt)
    return buf.getvalue()


class PracticeSettingsViewTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.owner)

    def _data(self, **overrides) -> dict:
        data = {
            "name": "Ledger & Co",
            "sender_name": "",
            "reply_to": "",
            "primary_colour": "#1f5fbf",
            "time_zone": "Europe/London",
            "bank_holiday_nation": "england_wales",
            "country": "GB",
            "send_from": "09:00",
            "send_until": "17:30",
        }
        data.update(overrides)
        return data

    def _practice(self) -> Practice:
        return Practice.objects.get(pk=self.practice.pk)

    def test_it_shows_the_form_to_owners_and_admins(self) -> None:
        for user in (self.owner, self.admin):
            with self.subTest(user=user.email):
                self.client.force_login(user)
                r = self.client.get(URL)
                self.assertEqual(r.status_code, 200)
                self.assertTemplateUsed(r, "sodium/practice_settings.html")

    def test_the_bank_holiday_nation_is_saved_and_an_unknown_one_refused(self) -> None:
        r = self.client.post(URL, self._data(bank_holiday_nation="scotland"), follow=True)
        self.assertRedirects(r, URL)
        self.assertEqual(self._practice().bank_holiday_nation, "scotland")
        r = self.client.post(URL, self._data(bank_holiday_nation="wales"))
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Select a valid choice")
        self.assertEqual(self._practice().bank_holiday_nation, "scotland")

    def test_owners_and_admins_can_save_the_settings(self) -> None:
        for n, user in enumerate((self.owner, self.admin)):
            with self.subTest(user=user.email):
                self.client.force_login(user)
                r = self.client.post(
                    URL,
                    self._data(
                        name=f"Ledger & Partners {n}",
                        sender_name=f"Ledger Accountants {n}",
                        reply_to=f"hello{n}@ledger.example",
                        primary_colour="#AA3300",
                    ),
                    follow=True,
                )
                self.assertRedirects(r, URL)
                self.assertContains(r, "Saved the practice settings.")
                practice = self._practice()
                self.assertEqual(practice.name, f"Ledger & Partners {n}")
                self.assertEqual(practice.sender_name, f"Ledger Accountants {n}")
                self.assertEqual(practice.reply_to, f"hello{n}@ledger.example")
                self.assertEqual(practice.primary_colour, "#AA3300")

    def test_it_logs_a_name_change(self) -> None:
        self.client.post(URL, self._data(name="Ledger & Partners"))
        event = ActivityEvent.objects.get(practice=self.practice, verb="practice.updated")
        self.assertEqual(event.actor, self.owner)
        self.assertIn("name", event.summary)

    def test_it_logs_nothing_when_nothing_changed(self) -> None:
        r = self.client.post(URL, self._data())
        self.assertRedirects(r, URL)
        self.assertFalse(ActivityEvent.objects.filter(verb="practice.updated").exists())

    def test_it_refuses_a_colour_that_is_not_a_hex_code(self) -> None:
        r = self.client.post(URL, self._data(name="Ledger & Partners", primary_colour="red"))
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/practice_settings.html")
        self.assertFormError(r.context["form"], "primary_colour", "Use a colour like #1f6feb.")
        practice = self._practice()
        self.assertEqual((practice.name, practice.primary_colour), ("Ledger & Co", "#1f5fbf"))
        self.assertFalse(ActivityEvent.objects.filter(verb="practice.updated").exists())

    def test_it_forbids_a_manager(self) -> None:
        self.client.force_login(self.manager)
        self.assertEqual(self.client.get(URL).status_code, 403)
        r = self.client.post(URL, self._data(name="Hijacked"))
        self.assertEqual(r.status_code, 403)
        self.assertEqual(self._practice().name, "Ledger & Co")


class PracticeLogoUploadTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.owner)
        self.logo_url = reverse("sodium:practice-logo", args=[self.practice.slug])

    def _post(self, content: bytes | None, filename: str = "our-logo.png", **data):
        """Post the settings form, with `content` as the logo file unless it is None."""
        fields = {
            "name": "Ledger & Co",
            "sender_name": "",
            "reply_to": "",
            "primary_colour": "#1f5fbf",
            "time_zone": "Europe/London",
            "bank_holiday_nation": "england_wales",
            "country": "GB",
            "send_from": "09:00",
            "send_until": "17:30",
        }
        if content is not None:
            fields["logo"] = SimpleUploadedFile(filename, content, content_type="image/png")
        fields.update(data)
        return self.client.post(URL, fields)

    def _logo_name(self) -> str:
        return Practice.objects.get(pk=self.practice.pk).logo.name

    def _stored_logos(self) -> set[str]:
        if not default_storage.exists("logos"):
            return set()
        return set(default_storage.listdir("logos")[1])

    def assertSamePixels(self, stored: bytes, uploaded: bytes, fmt: str) -> None:  # noqa: N802
        """The logo is re-encoded when stored, so compare what it shows, not its bytes."""
        with Image.open(io.BytesIO(stored)) as a, Image.open(io.BytesIO(uploaded)) as b:
            self.assertEqual((a.format, a.size), (fmt, b.size))
            self.assertEqual(a.convert("RGB").getpixel((0, 0)), b.convert("RGB").getpixel((0, 0)))

    def _fetch_logo(self):
        r = self.client.get(self.logo_url)
        body = b"".join(r.streaming_content) if r.status_code == 200 else b""
        return r, body

    def test_it_stores_a_png_under_a_random_name_and_serves_it(self) -> None:
        png = image_bytes("PNG")
        r = self._post(png)
        self.assertRedirects(r, URL)
        name = self._logo_name()
        self.assertRegex(name, r"^logos/[0-9a-f]{32}\.png$")
        self.assertNotIn("our-logo", name)

        self.client.logout()  # the logo is public: it appears in emails and on the portal
        r, body = self._fetch_logo()
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r["Content-Type"], "image/png")
        self.assertEqual(r["X-Content-Type-Options"], "nosniff")
        self.assertSamePixels(body, png, "PNG")

    def test_it_names_the_file_after_its_content_not_its_name(self) -> None:
        jpeg = image_bytes("JPEG")
        self._post(jpeg, filename="logo.png")
        self.assertRegex(self._logo_name(), r"^logos/[0-9a-f]{32}\.jpg$")
        r, body = self._fetch_logo()
        self.assertEqual(r["Content-Type"], "image/jpeg")
        self.assertSamePixels(body, jpeg, "JPEG")

    def test_it_refuses_a_text_file_named_like_a_png(self) -> None:
        before = self._stored_logos()
        r = self._post(b"just some text, honest\n", filename="logo.png", name="Ledger & Partners")
        self.assertEqual(r.status_code, 200)
        self.assertFormError(
            r.context["form"], "logo", "That file is not a PNG, JPEG or WebP image."
        )
        practice = Practice.objects.get(pk=self.practice.pk)
        self.assertEqual((practice.name, practice.logo.name), ("Ledger & Co", ""))
        self.assertEqual(self._stored_logos(), before)
        self.assertEqual(self._fetch_logo()[0].status_code, 404)

    def test_it_refuses_an_image_of_a_format_it_does_not_serve(self) -> None:
        r = self._post(image_bytes("GIF"), filename="logo.gif")
        self.assertEqual(r.status_code, 200)
        self.assertFormError(
            r.context["form"], "logo", "That file is not a PNG, JPEG or WebP image."
        )
        self.assertEqual(self._logo_name(), "")

    def test_it_refuses_a_png_over_the_size_limit(self) -> None:
        big = image_bytes("PNG", size=(700, 700), noisy=True)
        self.assertGreater(len(big), LOGO_MAX_BYTES)
        Image.open(io.BytesIO(big)).verify()  # a real PNG: only its size is wrong
        before = self._stored_logos()
        r = self._post(big)
        self.assertEqual(r.status_code, 200)
        self.assertFormError(
            r.context["form"], "logo", "The logo is larger than 1 MB. Use a smaller image."
        )
        self.assertEqual(self._logo_name(), "")
        self.assertEqual(self._stored_logos(), before)

    def test_it_keeps_the_logo_when_the_form_is_saved_without_a_file(self) -> None:
        self._post(image_bytes("PNG"))
        first = self._logo_name()
        r = self._post(None, name="Ledger & Partners")
        self.assertRedirects(r, URL)
        self.assertEqual(Practice.objects.get(pk=self.practice.pk).name, "Ledger & Partners")
        self.assertEqual(self._logo_name(), first)
        self.assertTrue(default_storage.exists(first))

    def test_it_removes_the_logo_when_clear_is_ticked(self) -> None:
        self._post(image_bytes("PNG"))
        first = self._logo_name()
        with self.captureOnCommitCallbacks(execute=True):
            r = self._post(None, **{"logo-clear": "on"})
        self.assertRedirects(r, URL)
        self.assertEqual(self._logo_name(), "")
        self.assertFalse(default_storage.exists(first))
        self.assertEqual(self._fetch_logo()[0].status_code, 404)

    def test_it_deletes_the_old_file_when_the_logo_is_replaced(self) -> None:
        self._post(image_bytes("PNG"))
        first = self._logo_name()
        with self.captureOnCommitCallbacks(execute=True):
            self._post(image_bytes("PNG", size=(16, 16)))
        second = self._logo_name()
        self.assertNotEqual(first, second)
        self.assertTrue(default_storage.exists(second))
        self.assertFalse(default_storage.exists(first))

    def test_it_answers_404_for_a_practice_without_a_logo(self) -> None:
        r = self.client.get(self.logo_url)
        self.assertEqual(r.status_code, 404)

    def test_a_manager_cannot_upload_a_logo(self) -> None:
        self.client.force_login(self.manager)
        r = self._post(image_bytes("PNG"))
        self.assertEqual(r.status_code, 403)
        self.assertEqual(self._logo_name(), "")
