"""Logos stored before uploads were re-encoded are re-encoded by a migration (sodium 0006)."""

from __future__ import annotations

import importlib
import io

from django.apps import apps as django_apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from sodium.models import Practice
from tests import factories as f
from tests.base import BaseTestCase

migration = importlib.import_module("sodium.migrations.0006_reencode_stored_logos")
HTML = b"<html><script>alert(document.cookie)</script></html>"


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 4), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


class ReencodeStoredLogosTests(BaseTestCase):
    def stored(self, practice: Practice, data: bytes) -> str:
        # As an upload before re-encoding would have stored it: the bytes as sent.
        practice.logo.save("old.png", ContentFile(data), save=True)
        return practice.logo.name

    def test_a_polyglot_logo_keeps_its_pixels_and_loses_the_page(self) -> None:
        practice = f.PracticeFactory(name="Polyglot & Co")
        old = self.stored(practice, png() + HTML)
        migration.reencode_logos(django_apps, None)
        practice.refresh_from_db()
        self.assertNotEqual(practice.logo.name, old)
        self.assertFalse(default_storage.exists(old))
        with practice.logo.open("rb") as handle:
            data = handle.read()
        self.assertNotIn(b"<html", data)
        with Image.open(io.BytesIO(data)) as image:
            self.assertEqual((image.format, image.size), ("PNG", (8, 4)))

    def test_a_logo_that_is_not_an_image_is_removed(self) -> None:
        practice = f.PracticeFactory(name="Broken & Co")
        old = self.stored(practice, HTML)
        migration.reencode_logos(django_apps, None)
        practice.refresh_from_db()
        self.assertEqual(practice.logo.name, "")
        self.assertFalse(default_storage.exists(old))

    def test_practices_without_a_logo_are_left_alone(self) -> None:
        migration.reencode_logos(django_apps, None)
        self.practice.refresh_from_db()
        self.assertEqual(self.practice.logo.name, "")
