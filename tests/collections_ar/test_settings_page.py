"""The AR settings page: the sending window, the resume rule and the grace days; bad input
changes nothing; managers only."""

from __future__ import annotations

import datetime as dt

from collections_ar.models import ARSettings
from tests.collections_ar.ar_helpers import ARTestCase


class ARSettingsPageTests(ARTestCase):
    def post(self, **data):
        self.client.force_login(self.owner)
        values = {
            "send_from": "08:30",
            "send_until": "18:00",
            "resume": "skip",
            "promise_grace_days": "5",
        }
        values.update(data)
        return self.client.post("/ar/settings/", values, follow=True)

    def test_it_shows_the_defaults_and_saves(self) -> None:
        self.client.force_login(self.owner)
        r = self.client.get("/ar/settings/")
        self.assertContains(r, 'value="09:00"')
        r = self.post()
        self.assertContains(r, "Saved the AR settings.")
        row = ARSettings.objects.get(practice=self.practice)
        self.assertEqual((row.send_from, row.send_until), (dt.time(8, 30), dt.time(18)))
        self.assertEqual((row.resume, row.promise_grace_days), ("skip", 5))

    def test_a_window_ending_before_it_starts_is_refused(self) -> None:
        r = self.post(send_from="17:00", send_until="09:00")
        self.assertContains(r, "The window must end after it starts.")
        self.assertFalse(ARSettings.objects.exists())

    def test_grace_days_out_of_range_are_refused(self) -> None:
        r = self.post(promise_grace_days="31")
        self.assertContains(r, "less than or equal to 30")
        self.assertFalse(ARSettings.objects.exists())

    def test_specialists_and_staff_are_refused(self) -> None:
        for user in (self.ar_specialist, self.staff):
            self.client.force_login(user)
            self.assertEqual(self.client.get("/ar/settings/").status_code, 403)
