from __future__ import annotations

from collections_ar import engine, statuses
from collections_ar.models import CollectionStatus, Customer
from sodium.models import ActivityEvent, Notification
from sodium.services.practices import create_practice
from tests import factories as f
from tests.collections_ar.ar_helpers import ARTestCase

DEFAULT_NAMES = [
    "Current",
    "Reminded",
    "Promised to pay",
    "Disputed",
    "Escalated",
    "With collections agency",
]


def names(practice) -> list[str]:
    return list(CollectionStatus.objects.filter(practice=practice).values_list("name", flat=True))


class DefaultStatusTests(ARTestCase):
    def test_a_new_practice_starts_with_the_default_statuses(self) -> None:
        practice = create_practice(name="Fresh & Co", owner=f.UserFactory())
        self.assertEqual(names(practice), DEFAULT_NAMES)
        default = CollectionStatus.objects.get(practice=practice, is_default=True)
        self.assertEqual(default.name, "Current")

    def test_copying_them_again_adds_nothing(self) -> None:
        statuses.ensure_default_statuses(self.practice)
        self.assertEqual(names(self.practice), DEFAULT_NAMES)

    def test_the_data_migration_gives_existing_practices_the_statuses(self) -> None:
        import importlib

        from django.apps import apps

        migration = importlib.import_module("collections_ar.migrations.0002_default_statuses")
        practice = f.PracticeFactory()
        self.assertEqual(names(practice), [])
        migration.add_default_statuses(apps, None)
        self.assertEqual(names(practice), DEFAULT_NAMES)
        self.assertEqual(names(self.practice), DEFAULT_NAMES)  # nothing twice


class StatusEditTests(ARTestCase):
    def status(self, name: str) -> CollectionStatus:
        return CollectionStatus.objects.get(practice=self.practice, name=name)

    def test_it_adds_a_status_at_the_end(self) -> None:
        statuses.create_status(self.practice, actor=self.owner, name="Payment plan")
        self.assertEqual(names(self.practice)[-1], "Payment plan")

    def test_it_refuses_a_taken_or_empty_name(self) -> None:
        with self.assertRaises(engine.ARError) as ctx:
            statuses.create_status(self.practice, actor=self.owner, name="reminded")
        self.assertIn("already a status", ctx.exception.errors["name"])
        with self.assertRaises(engine.ARError):
            statuses.create_status(self.practice, actor=self.owner, name="  ")
        self.assertEqual(names(self.practice), DEFAULT_NAMES)

    def test_it_renames(self) -> None:
        statuses.rename_status(self.status("Reminded"), actor=self.owner, name="Reminder sent")
        self.assertIn("Reminder sent", names(self.practice))
        self.assertTrue(ActivityEvent.objects.filter(verb="ar.status.renamed").exists())

    def test_it_reorders(self) -> None:
        ids = list(
            CollectionStatus.objects.filter(practice=self.practice).values_list("pk", flat=True)
        )
        statuses.reorder_statuses(self.practice, list(reversed(ids)), actor=self.owner)
        self.assertEqual(names(self.practice), list(reversed(DEFAULT_NAMES)))

    def test_reorder_refuses_a_list_that_is_not_the_statuses(self) -> None:
        ids = list(
            CollectionStatus.objects.filter(practice=self.practice).values_list("pk", flat=True)
        )
        with self.assertRaises(engine.ARError):
            statuses.reorder_statuses(self.practice, ids[:-1], actor=self.owner)
        self.assertEqual(names(self.practice), DEFAULT_NAMES)

    def test_it_moves_one_up_and_down(self) -> None:
        statuses.move_status(self.status("Reminded"), actor=self.owner, up=True)
        self.assertEqual(names(self.practice)[:2], ["Reminded", "Current"])
        statuses.move_status(self.status("Reminded"), actor=self.owner, up=False)
        self.assertEqual(names(self.practice), DEFAULT_NAMES)

    def test_it_changes_the_default(self) -> None:
        statuses.set_default_status(self.status("Reminded"), actor=self.owner)
        self.assertEqual(
            list(
                CollectionStatus.objects.filter(
                    practice=self.practice, is_default=True
                ).values_list("name", flat=True)
            ),
            ["Reminded"],
        )
        self.assertEqual(self.invoice().collection_status.name, "Reminded")

    def test_the_default_cannot_be_deleted(self) -> None:
        with self.assertRaises(engine.ARError) as ctx:
            statuses.delete_status(self.status("Current"), actor=self.owner)
        self.assertIn("default", ctx.exception.errors["__all__"])
        self.assertIn("Current", names(self.practice))

    def test_a_status_in_use_cannot_be_deleted_and_says_where(self) -> None:
        escalated = self.status("Escalated")
        for n in range(1, 5):
            engine.set_collection_status(self.invoice(number=f"E-{n}"), escalated, actor=self.owner)
        with self.assertRaises(engine.ARError) as ctx:
            statuses.delete_status(escalated, actor=self.owner)
        message = ctx.exception.errors["__all__"]
        self.assertIn("4 invoices", message)
        self.assertIn("E-1, E-2, E-3", message)
        self.assertNotIn("E-4", message)
        self.assertIn("Escalated", names(self.practice))

    def test_an_unused_status_is_deleted(self) -> None:
        statuses.delete_status(self.status("Escalated"), actor=self.owner)
        self.assertNotIn("Escalated", names(self.practice))
        self.assertTrue(ActivityEvent.objects.filter(verb="ar.status.deleted").exists())


class CollectionStatusAlertTests(ARTestCase):
    def test_applying_a_status_alerts_its_manager(self) -> None:
        escalated = CollectionStatus.objects.get(practice=self.practice, name="Escalated")
        statuses.set_status_alert(escalated, self.ar_manager, actor=self.owner)
        invoice = self.invoice(number="A-1")
        engine.set_collection_status(invoice, escalated, actor=self.ar_specialist)
        note = Notification.objects.get(user=self.ar_manager)
        self.assertIn("A-1", note.text)
        self.assertIn("Escalated", note.text)
        self.assertEqual(note.url, f"/ar/customers/{self.customer.pk}/")
        invoice.refresh_from_db()
        self.assertEqual(invoice.collection_status, escalated)

    def test_a_status_without_alert_notifies_nobody(self) -> None:
        reminded = CollectionStatus.objects.get(practice=self.practice, name="Reminded")
        engine.set_collection_status(self.invoice(), reminded, actor=self.owner)
        self.assertFalse(Notification.objects.exists())
        self.assertTrue(ActivityEvent.objects.filter(verb="ar.invoice.collection_status").exists())

    def test_only_an_ar_manager_may_be_alerted(self) -> None:
        escalated = CollectionStatus.objects.get(practice=self.practice, name="Escalated")
        for user in (self.staff, self.ar_specialist, self.outsider):
            with self.subTest(user=user), self.assertRaises(engine.ARError):
                statuses.set_status_alert(escalated, user, actor=self.owner)
        escalated.refresh_from_db()
        self.assertIsNone(escalated.alert_user_id)

    def test_another_practices_status_is_refused(self) -> None:
        rival = CollectionStatus.objects.filter(practice=self.other_practice).first()
        invoice = self.invoice()
        with self.assertRaises(engine.ARError):
            engine.set_collection_status(invoice, rival, actor=self.owner)


class AssignSpecialistTests(ARTestCase):
    def test_it_assigns_an_ar_specialist(self) -> None:
        engine.assign_specialist(self.customer, self.ar_specialist, actor=self.owner)
        self.assertEqual(Customer.objects.get(pk=self.customer.pk).specialist, self.ar_specialist)
        self.assertTrue(ActivityEvent.objects.filter(verb="ar.customer.specialist").exists())

    def test_it_refuses_members_without_an_ar_role_and_outsiders(self) -> None:
        for user in (self.staff, self.manager, self.outsider):
            with self.subTest(user=user), self.assertRaises(engine.ARError):
                engine.assign_specialist(self.customer, user, actor=self.owner)
        self.assertIsNone(Customer.objects.get(pk=self.customer.pk).specialist_id)


class CollectionsContactTests(ARTestCase):
    def test_the_billing_contact_is_the_default_then_main(self) -> None:
        main = f.ContactFactory(client=self.acme, is_main=True)
        self.assertEqual(self.customer.contact_for_collections(), main)
        billing = f.ContactFactory(client=self.acme, is_billing=True)
        self.assertEqual(self.customer.contact_for_collections(), billing)
        chosen = f.ContactFactory(client=self.acme)
        engine.set_collections_contact(self.customer, chosen, actor=self.owner)
        self.assertEqual(
            Customer.objects.get(pk=self.customer.pk).contact_for_collections(), chosen
        )

    def test_another_clients_contact_is_refused(self) -> None:
        other = f.ContactFactory(client=f.ClientFactory(practice=self.practice))
        with self.assertRaises(engine.ARError):
            engine.set_collections_contact(self.customer, other, actor=self.owner)
