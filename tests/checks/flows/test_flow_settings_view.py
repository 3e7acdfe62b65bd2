"""The flow settings page: when the digest stops reminding of overdue runs."""

from __future__ import annotations

from checks.flows import digest
from checks.models import FlowSettings
from sodium.models import ActivityEvent
from tests.base import BaseTestCase

URL = "/checks/flows/settings/"


class FlowSettingsPageTests(BaseTestCase):
    def test_a_manager_sees_the_default_and_the_digest_explained(self) -> None:
        self.client.force_login(self.manager)
        r = self.client.get(URL)
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, 'name="overdue_reminder_days" value="3"')
        self.assertContains(r, "08:00")
        self.assertContains(r, "/content-blocks/built-in/checks.flow_digest/")
        self.assertFalse(FlowSettings.objects.exists())  # a GET writes nothing

    def test_saving_changes_the_days_and_records_who(self) -> None:
        self.client.force_login(self.manager)
        r = self.client.post(URL, {"overdue_reminder_days": "10"})
        self.assertRedirects(r, URL)
        self.assertEqual(digest.settings_for(self.practice).overdue_reminder_days, 10)
        event = ActivityEvent.objects.get(verb="flows.overdue_reminder_days")
        self.assertEqual(event.actor, self.manager)
        self.assertContains(self.client.get(URL), 'value="10"')

    def test_bad_days_are_refused_with_a_message_and_change_nothing(self) -> None:
        self.client.force_login(self.manager)
        for bad in ("-1", "91", "soon", ""):
            with self.subTest(bad=bad):
                r = self.client.post(URL, {"overdue_reminder_days": bad})
                self.assertEqual(r.status_code, 200)
                self.assertContains(r, 'role="alert"')
        self.assertEqual(digest.settings_for(self.practice).overdue_reminder_days, 3)
        self.assertFalse(ActivityEvent.objects.filter(verb="flows.overdue_reminder_days").exists())

    def test_staff_get_a_readable_refusal(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(URL)
        self.assertEqual(r.status_code, 403)
        self.assertContains(r, "Your role in this practice does not allow it", status_code=403)
        r = self.client.post(URL, {"overdue_reminder_days": "9"})
        self.assertEqual(r.status_code, 403)
        self.assertEqual(digest.settings_for(self.practice).overdue_reminder_days, 3)
