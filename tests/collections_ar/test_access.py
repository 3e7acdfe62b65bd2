from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from collections_ar import engine, queries
from collections_ar.models import CollectionStatus
from sodium.roles import Role
from tests import factories as f
from tests.collections_ar.ar_helpers import ARTestCase


class ARAccessTests(ARTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        from django_scopes import scopes_disabled

        with scopes_disabled():
            cls.mine = engine.get_or_create_customer(
                f.ClientFactory(practice=cls.practice, name="Mine Ltd"), actor=cls.owner
            )
            engine.assign_specialist(cls.mine, cls.ar_specialist, actor=cls.owner)

    def setUp(self) -> None:
        super().setUp()
        self.mine_invoice = self.invoice(number="MINE-1", customer=self.mine)
        self.other_invoice = self.invoice(number="ACME-1")

    def m(self, role: str):
        return self.memberships[role]

    def test_owner_admin_and_ar_manager_see_every_customer(self) -> None:
        for role in (Role.OWNER, Role.ADMIN, Role.AR_MANAGER):
            with self.subTest(role=role):
                seen = set(queries.customers_for_user(self.m(role)))
                self.assertEqual(seen, {self.customer, self.mine})
                queries.get_invoice_for_user(self.m(role), self.other_invoice.pk)

    def test_an_ar_specialist_sees_only_their_customers_and_invoices(self) -> None:
        member = self.m(Role.AR_SPECIALIST)
        self.assertEqual(list(queries.customers_for_user(member)), [self.mine])
        self.assertEqual(queries.get_customer_for_user(member, self.mine.pk), self.mine)
        self.assertEqual(
            queries.get_invoice_for_user(member, self.mine_invoice.pk), self.mine_invoice
        )
        with self.assertRaises(Http404):
            queries.get_customer_for_user(member, self.customer.pk)
        with self.assertRaises(Http404):
            queries.get_invoice_for_user(member, self.other_invoice.pk)

    def test_staff_and_managers_are_refused(self) -> None:
        for role in (Role.STAFF, Role.MANAGER):
            with self.subTest(role=role):
                with self.assertRaises(PermissionDenied):
                    queries.customers_for_user(self.m(role))
                with self.assertRaises(PermissionDenied):
                    queries.get_invoice_for_user(self.m(role), self.other_invoice.pk)

    def test_only_managers_of_ar_may_change_statuses(self) -> None:
        status = CollectionStatus.objects.filter(practice=self.practice).first()
        for role in (Role.OWNER, Role.ADMIN, Role.AR_MANAGER):
            with self.subTest(role=role):
                self.assertEqual(queries.get_status_for_user(self.m(role), status.pk), status)
        for role in (Role.AR_SPECIALIST, Role.STAFF, Role.MANAGER):
            with self.subTest(role=role), self.assertRaises(PermissionDenied):
                queries.get_status_for_user(self.m(role), status.pk)

    def test_another_practices_ids_are_not_found(self) -> None:
        rival = CollectionStatus.objects.filter(practice=self.other_practice).first()
        with self.assertRaises(Http404):
            queries.get_status_for_user(self.m(Role.OWNER), rival.pk)
