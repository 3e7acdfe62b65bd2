from __future__ import annotations

from django.test import override_settings

from sodium.models import Practice
from tests.base import BaseTestCase


@override_settings(SODIUM_MAX_UPLOAD_BYTES=2048)
class UploadLimitTests(BaseTestCase):
    def test_an_oversized_body_gets_a_readable_413_page_and_changes_nothing(self) -> None:
        self.client.force_login(self.owner)
        r = self.client.post(
            "/settings/practice/",
            {"name": "Renamed", "logo": ("x" * 5000)},
        )
        self.assertEqual(r.status_code, 413)
        self.assertContains(r, "That file is too large", status_code=413)
        self.assertNotEqual(Practice.objects.get(pk=self.practice.pk).name, "Renamed")

    def test_a_body_under_the_limit_passes(self) -> None:
        self.client.force_login(self.owner)
        r = self.client.get("/settings/practice/")
        self.assertEqual(r.status_code, 200)
