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


@override_settings(SODIUM_MAX_UPLOAD_BYTES=2048, SODIUM_LEDGER_IMPORT_MAX_BYTES=8192)
class LargerUploadPathTests(BaseTestCase):
    def test_the_ledger_import_path_takes_more_than_the_general_limit(self) -> None:
        from checks.limits import FORM_OVERHEAD
        from sodium.uploads import upload_limit_for

        self.assertEqual(upload_limit_for("/checks/clients/7/import/"), 8192 + FORM_OVERHEAD)
        self.assertEqual(upload_limit_for("/settings/practice/"), 2048)
        self.assertEqual(upload_limit_for("/checks/clients/7/run/"), 2048)

    def test_a_body_over_the_ledger_limit_gets_the_413_page_naming_that_limit(self) -> None:
        self.client.force_login(self.owner)
        body = "x" * (8192 + 70 * 1024)
        r = self.client.post("/checks/clients/7/import/", {"f": body})
        self.assertEqual(r.status_code, 413)
        self.assertContains(r, "That file is too large", status_code=413)
