from __future__ import annotations

from sodium import notifications
from sodium.models import Notification, OutboundMessage, User
from tests.base import BaseTestCase


class NotificationTests(BaseTestCase):
    def test_it_lists_my_notifications_and_counts_the_unread_in_the_bell(self) -> None:
        notifications.notify(
            practice=self.practice, user=self.staff, text="Ann approved X", url="/tasks/1/"
        )
        notifications.notify(practice=self.practice, user=self.manager, text="Not for staff")
        self.client.force_login(self.staff)
        r = self.client.get("/notifications/")
        self.assertContains(r, "Ann approved X")
        self.assertNotContains(r, "Not for staff")
        self.assertContains(r, "Notifications: 1 unread")
        self.assertFalse(OutboundMessage.objects.exists())  # email only when chosen

    def test_marking_read_is_post_only_and_clears_the_count(self) -> None:
        notifications.notify(practice=self.practice, user=self.staff, text="One")
        self.client.force_login(self.staff)
        self.assertEqual(self.client.get("/notifications/read/").status_code, 405)
        self.client.post("/notifications/read/")
        self.assertFalse(Notification.objects.filter(read_at__isnull=True).exists())
        self.assertNotContains(self.client.get("/"), "unread")

    def test_members_who_chose_email_also_get_an_email(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.post("/account/", {"full_name": "Sam Staff", "email_notifications": "on"})
        self.assertRedirects(r, "/account/")
        user = User.objects.get(pk=self.staff.pk)
        self.assertTrue(user.email_notifications)
        with self.captureOnCommitCallbacks(execute=False):
            notifications.notify(
                practice=self.practice, user=user, text="Ann confirmed", url="/tasks/9/"
            )
        message = OutboundMessage.objects.get()
        self.assertEqual(message.to, [user.email])
        self.assertIn("/tasks/9/", message.body_text)

    def test_a_missing_name_is_refused(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.post("/account/", {"full_name": ""})
        self.assertContains(r, "This field is required.")
