"""The check library: built-in checks with their defaults, and custom checks kept by managers."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from checks.models import CustomCheck
from sodium.models import ActivityEvent
from tests.base import BaseTestCase


class LibraryPageTests(BaseTestCase):
    def test_it_lists_every_built_in_check_with_its_default_rules(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(reverse("checks:library"))
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Multi-coded contacts")
        self.assertContains(r, "Window days")  # a rule of the duplicate transactions check
        self.assertEqual(len(r.context["builtin"]), 9)

    def test_staff_see_custom_checks_but_no_form_to_add_one(self) -> None:
        CustomCheck.objects.create(practice=self.practice, name="Fixed assets agree")
        self.client.force_login(self.staff)
        r = self.client.get(reverse("checks:library"))
        self.assertContains(r, "Fixed assets agree")
        self.assertNotContains(r, "Add a custom check")

    def test_a_description_shows_its_web_addresses_as_links_and_escapes_markup(self) -> None:
        CustomCheck.objects.create(
            practice=self.practice,
            name="Read the guidance",
            description="See https://www.gov.uk/vat-registration <b>now</b>",
        )
        self.client.force_login(self.manager)
        r = self.client.get(reverse("checks:library"))
        self.assertContains(r, 'href="https://www.gov.uk/vat-registration"')
        self.assertContains(r, "&lt;b&gt;now&lt;/b&gt;")

    def test_its_query_count_does_not_grow_with_custom_checks(self) -> None:
        self.client.force_login(self.manager)
        url = reverse("checks:library")
        CustomCheck.objects.create(practice=self.practice, name="One")
        self.client.get(url)
        with CaptureQueriesContext(connection) as before:
            self.client.get(url)
        for i in range(5):
            CustomCheck.objects.create(practice=self.practice, name=f"More {i}")
        with CaptureQueriesContext(connection) as after:
            self.client.get(url)
        self.assertEqual(len(after), len(before))

    def test_it_hides_other_practices_custom_checks(self) -> None:
        CustomCheck.objects.create(practice=self.other_practice, name="Rival secret check")
        self.client.force_login(self.manager)
        r = self.client.get(reverse("checks:library"))
        self.assertNotContains(r, "Rival secret check")


class CustomCheckWriteTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.manager)

    def test_a_manager_adds_one_and_it_is_recorded(self) -> None:
        r = self.client.post(
            reverse("checks:custom-add"),
            {"name": "  Fixed asset   register agrees ", "description": "Compare to the TB."},
        )
        self.assertRedirects(r, reverse("checks:library"))
        check = CustomCheck.objects.get(practice=self.practice)
        self.assertEqual(check.name, "Fixed asset register agrees")
        self.assertEqual(check.created_by, self.manager)
        self.assertTrue(
            ActivityEvent.objects.filter(verb="custom_check.created", object_id=check.pk).exists()
        )

    def test_a_missing_or_taken_name_is_a_form_error_and_adds_nothing(self) -> None:
        CustomCheck.objects.create(practice=self.practice, name="Payroll journals posted")
        for name in ("", "payroll journals posted"):
            r = self.client.post(reverse("checks:custom-add"), {"name": name})
            self.assertEqual(r.status_code, 200)
            self.assertTrue(r.context["form"].errors["name"])
        self.assertEqual(CustomCheck.objects.filter(practice=self.practice).count(), 1)

    def test_the_same_name_in_another_practice_is_fine(self) -> None:
        CustomCheck.objects.create(practice=self.other_practice, name="Payroll journals posted")
        r = self.client.post(reverse("checks:custom-add"), {"name": "Payroll journals posted"})
        self.assertRedirects(r, reverse("checks:library"))

    def test_edit_changes_name_and_description(self) -> None:
        check = CustomCheck.objects.create(practice=self.practice, name="Old")
        url = reverse("checks:custom-edit", args=[check.pk])
        self.assertContains(self.client.get(url), 'value="Old"')
        r = self.client.post(url, {"name": "New", "description": "Why"})
        self.assertRedirects(r, reverse("checks:library"))
        check.refresh_from_db()
        self.assertEqual((check.name, check.description), ("New", "Why"))

    def test_archive_then_restore(self) -> None:
        check = CustomCheck.objects.create(practice=self.practice, name="Old")
        url = reverse("checks:custom-archive", args=[check.pk])
        self.client.post(url, {"archived": "true"})
        check.refresh_from_db()
        self.assertTrue(check.archived)
        self.client.post(url, {"archived": "false"})
        check.refresh_from_db()
        self.assertFalse(check.archived)

    def test_archive_refuses_get(self) -> None:
        check = CustomCheck.objects.create(practice=self.practice, name="Old")
        r = self.client.get(reverse("checks:custom-archive", args=[check.pk]))
        self.assertEqual(r.status_code, 405)
        check.refresh_from_db()
        self.assertFalse(check.archived)

    def test_staff_may_not_add_or_edit(self) -> None:
        check = CustomCheck.objects.create(practice=self.practice, name="Old")
        self.client.force_login(self.staff)
        self.assertEqual(
            self.client.post(reverse("checks:custom-add"), {"name": "X"}).status_code, 403
        )
        r = self.client.post(reverse("checks:custom-edit", args=[check.pk]), {"name": "X"})
        self.assertEqual(r.status_code, 403)
        check.refresh_from_db()
        self.assertEqual(check.name, "Old")

    def test_another_practices_check_is_not_found(self) -> None:
        theirs = CustomCheck.objects.create(practice=self.other_practice, name="Theirs")
        r = self.client.post(reverse("checks:custom-edit", args=[theirs.pk]), {"name": "Mine"})
        self.assertEqual(r.status_code, 404)
        r = self.client.post(reverse("checks:custom-archive", args=[theirs.pk]))
        self.assertEqual(r.status_code, 404)
        theirs.refresh_from_db()
        self.assertEqual((theirs.name, theirs.archived), ("Theirs", False))
