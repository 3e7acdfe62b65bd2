from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from collections_ar import engine, statuses
from collections_ar.models import CollectionStatus, Invoice, Payment
from sodium.models import ActivityEvent
from sodium.schedules.practice import today_for
from tests import factories as f
from tests.collections_ar.ar_helpers import ARTestCase

S = Invoice.Status


class ARPagesGatingTests(ARTestCase):
    def test_staff_and_managers_get_the_readable_403_and_no_nav_entry(self) -> None:
        for user in (self.staff, self.manager):
            self.client.force_login(user)
            for url in ("/ar/", f"/ar/customers/{self.customer.pk}/", "/ar/statuses/"):
                with self.subTest(user=user, url=url):
                    r = self.client.get(url)
                    self.assertEqual(r.status_code, 403)
                    self.assertContains(r, "role", status_code=403)
            r = self.client.get("/")
            self.assertNotContains(r, 'href="/ar/"')

    def test_ar_roles_see_the_nav_entry(self) -> None:
        for user in (self.owner, self.admin, self.ar_manager, self.ar_specialist):
            self.client.force_login(user)
            with self.subTest(user=user):
                r = self.client.get("/ar/")
                self.assertEqual(r.status_code, 200)
                self.assertContains(r, 'href="/ar/"')
                self.assertContains(r, "Receivables")

    def test_an_ar_specialist_may_not_open_the_statuses(self) -> None:
        self.client.force_login(self.ar_specialist)
        self.assertEqual(self.client.get("/ar/statuses/").status_code, 403)

    def test_an_ar_specialist_gets_404_for_someone_elses_customer(self) -> None:
        self.client.force_login(self.ar_specialist)
        self.assertEqual(self.client.get(f"/ar/customers/{self.customer.pk}/").status_code, 404)
        engine.assign_specialist(self.customer, self.ar_specialist, actor=self.owner)
        self.assertEqual(self.client.get(f"/ar/customers/{self.customer.pk}/").status_code, 200)


class CustomerListViewTests(ARTestCase):
    def test_it_shows_an_empty_state(self) -> None:
        self.client.force_login(self.owner)
        r = self.client.get("/ar/")
        self.assertContains(r, "Nothing owed")
        self.assertNotContains(r, "Acme Widgets")

    def test_it_lists_customers_with_their_balance_and_oldest_overdue(self) -> None:
        today = today_for(self.practice)
        inv = self.invoice(
            number="L-1",
            total="300.00",
            issue_date=today - dt.timedelta(days=60),
            due_date=today - dt.timedelta(days=45),
        )
        engine.record_payment(inv, actor=self.owner, amount=Decimal("100.00"), date=today)
        self.invoice(number="L-2", total="50.00", issue_date=today, due_date=today)
        paid = self.invoice(number="L-3", total="10.00")
        engine.record_payment(paid, actor=self.owner, amount=Decimal("10.00"), date=today)
        self.client.force_login(self.owner)
        r = self.client.get("/ar/")
        self.assertContains(r, "Acme Widgets")
        rows = r.context["rows"]
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0].open_invoices, 2)
        self.assertEqual(rows[0].balance, Decimal("250.00"))
        self.assertEqual(rows[0].oldest_overdue_days, 45)
        self.assertContains(r, "45 days overdue")
        self.assertContains(r, "250.00")

    def test_a_specialist_sees_only_their_customers(self) -> None:
        mine = engine.get_or_create_customer(
            f.ClientFactory(practice=self.practice, name="Mine Ltd"), actor=self.owner
        )
        engine.assign_specialist(mine, self.ar_specialist, actor=self.owner)
        self.invoice(number="M-1", customer=mine)
        self.invoice(number="A-1")
        self.client.force_login(self.ar_specialist)
        r = self.client.get("/ar/")
        self.assertContains(r, "Mine Ltd")
        self.assertNotContains(r, "Acme Widgets")

    def test_the_query_count_does_not_grow_with_customers(self) -> None:
        self.client.force_login(self.owner)
        self.invoice(number="Q-0")
        self.client.get("/ar/")  # warm the session and caches
        with CaptureQueriesContext(connection) as one:
            self.client.get("/ar/")
        for n in range(1, 6):
            customer = engine.get_or_create_customer(
                f.ClientFactory(practice=self.practice), actor=self.owner
            )
            engine.assign_specialist(customer, self.ar_specialist, actor=self.owner)
            self.invoice(number=f"Q-{n}", customer=customer)
        with self.assertNumQueries(len(one)):
            r = self.client.get("/ar/")
        self.assertEqual(len(r.context["rows"]), 6)

    def test_it_shows_fifty_customers_a_page_most_overdue_first(self) -> None:
        today = today_for(self.practice)
        for n in range(51):  # customer n is n + 1 days overdue
            customer = engine.get_or_create_customer(
                f.ClientFactory(practice=self.practice, name=f"Owes {n:02d}"), actor=self.owner
            )
            self.invoice(
                number=f"P-{n}",
                customer=customer,
                issue_date=today - dt.timedelta(days=90),
                due_date=today - dt.timedelta(days=n + 1),
            )
        self.client.force_login(self.owner)
        first = self.client.get("/ar/")
        names = [row.customer.client.name for row in first.context["rows"]]
        self.assertEqual(names, [f"Owes {n:02d}" for n in range(50, 0, -1)])
        self.assertContains(first, "Page 1 of 2 · 51 in all")
        self.assertContains(first, 'href="?page=2"')
        second = self.client.get("/ar/?page=2")
        self.assertEqual([row.customer.client.name for row in second.context["rows"]], ["Owes 00"])
        self.assertEqual(second.context["rows"][0].oldest_overdue_days, 1)
        self.assertContains(second, "Page 2 of 2 · 51 in all")


class CustomerDetailViewTests(ARTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.inv = self.invoice(number="D-1", total="120.00")
        self.client.force_login(self.ar_manager)
        self.url = f"/ar/customers/{self.customer.pk}/"

    def test_it_shows_invoices_with_status_chips_and_the_payment_form(self) -> None:
        engine.record_payment(
            self.inv,
            actor=self.owner,
            amount=Decimal("20.00"),
            date=dt.date(2026, 11, 1),
            reference="REF-77",
        )
        r = self.client.get(self.url)
        self.assertContains(r, "D-1")
        self.assertContains(r, '<span class="chip chip-tone-warn">Part paid</span>', html=True)
        self.assertContains(r, "REF-77")
        self.assertContains(r, "Record payment")
        self.assertContains(r, "Current")
        self.assertTemplateUsed(r, "collections_ar/customer_detail.html")

    def test_the_query_count_does_not_grow_with_invoices(self) -> None:
        self.client.get(self.url)
        with CaptureQueriesContext(connection) as one:
            self.client.get(self.url)
        for n in range(2, 8):
            inv = self.invoice(number=f"D-{n}")
            engine.record_payment(
                inv, actor=self.owner, amount=Decimal("1.00"), date=dt.date(2026, 11, 1)
            )
        with self.assertNumQueries(len(one)):
            self.client.get(self.url)

    def test_recording_a_payment_redirects_and_reduces_the_balance(self) -> None:
        r = self.client.post(
            f"{self.url}payments/",
            {"invoice": self.inv.pk, "amount": "120.00", "date": "2026-12-01", "reference": "BACS"},
        )
        self.assertRedirects(r, self.url)
        self.inv.refresh_from_db()
        self.assertEqual(self.inv.status, S.PAID)
        self.assertEqual(Payment.objects.get().reference, "BACS")

    def test_an_overpayment_re_renders_the_form_with_the_message(self) -> None:
        r = self.client.post(
            f"{self.url}payments/",
            {"invoice": self.inv.pk, "amount": "500.00", "date": "2026-12-01"},
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "more than the balance")
        self.assertFalse(Payment.objects.exists())

    def test_a_negative_amount_re_renders_the_form_with_the_message(self) -> None:
        r = self.client.post(
            f"{self.url}payments/",
            {"invoice": self.inv.pk, "amount": "-5", "date": "2026-12-01"},
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "cannot be negative")
        self.assertFalse(Payment.objects.exists())

    def test_bad_input_re_renders_the_form(self) -> None:
        r = self.client.post(
            f"{self.url}payments/", {"invoice": "nope", "amount": "lots", "date": "yesterday"}
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "pounds and pence")
        self.assertFalse(Payment.objects.exists())

    def test_a_void_invoice_cannot_be_chosen_for_a_payment(self) -> None:
        engine.void_invoice(self.inv, actor=self.owner)
        r = self.client.post(
            f"{self.url}payments/",
            {"invoice": self.inv.pk, "amount": "1.00", "date": "2026-12-01"},
        )
        self.assertEqual(r.status_code, 200)
        self.assertFalse(Payment.objects.exists())

    def test_get_changes_nothing_on_post_urls(self) -> None:
        before = ActivityEvent.objects.count()
        for url in (
            f"{self.url}payments/",
            f"{self.url}specialist/",
            f"/ar/invoices/{self.inv.pk}/status/",
            f"/ar/invoices/{self.inv.pk}/collection-status/",
        ):
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 405)
        self.assertEqual(ActivityEvent.objects.count(), before)

    def test_it_changes_the_collection_status(self) -> None:
        reminded = CollectionStatus.objects.get(practice=self.practice, name="Reminded")
        r = self.client.post(
            f"/ar/invoices/{self.inv.pk}/collection-status/", {"collection_status": reminded.pk}
        )
        self.assertRedirects(r, self.url)
        self.inv.refresh_from_db()
        self.assertEqual(self.inv.collection_status, reminded)

    def test_another_practices_status_is_refused(self) -> None:
        rival = CollectionStatus.objects.filter(practice=self.other_practice).first()
        self.client.post(
            f"/ar/invoices/{self.inv.pk}/collection-status/", {"collection_status": rival.pk}
        )
        self.inv.refresh_from_db()
        self.assertEqual(self.inv.collection_status.name, "Current")

    def test_it_disputes_resolves_and_voids(self) -> None:
        url = f"/ar/invoices/{self.inv.pk}/status/"
        self.client.post(url, {"action": "dispute"})
        self.inv.refresh_from_db()
        self.assertEqual(self.inv.status, S.DISPUTED)
        self.client.post(url, {"action": "resolve"})
        self.inv.refresh_from_db()
        self.assertEqual(self.inv.status, S.OPEN)
        self.client.post(url, {"action": "void"})
        self.inv.refresh_from_db()
        self.assertEqual(self.inv.status, S.VOID)
        r = self.client.post(url, {"action": "dispute"}, follow=True)
        self.assertContains(r, "cannot become disputed")

    def test_a_manager_assigns_the_specialist(self) -> None:
        r = self.client.post(f"{self.url}specialist/", {"specialist": self.ar_specialist.pk})
        self.assertRedirects(r, self.url)
        self.customer.refresh_from_db()
        self.assertEqual(self.customer.specialist, self.ar_specialist)

    def test_a_staff_member_cannot_be_the_specialist(self) -> None:
        self.client.post(f"{self.url}specialist/", {"specialist": self.staff.pk})
        self.customer.refresh_from_db()
        self.assertIsNone(self.customer.specialist_id)

    def test_an_ar_specialist_cannot_reassign(self) -> None:
        engine.assign_specialist(self.customer, self.ar_specialist, actor=self.owner)
        self.client.force_login(self.ar_specialist)
        r = self.client.post(f"{self.url}specialist/", {"specialist": ""})
        self.assertEqual(r.status_code, 403)
        self.customer.refresh_from_db()
        self.assertEqual(self.customer.specialist, self.ar_specialist)


class StatusPageTests(ARTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.ar_manager)

    def status(self, name: str) -> CollectionStatus:
        return CollectionStatus.objects.get(practice=self.practice, name=name)

    def test_it_lists_the_statuses_in_order(self) -> None:
        r = self.client.get("/ar/statuses/")
        content = r.content.decode()
        positions = [
            content.index(n) for n in ("Current", "Reminded", "Promised to pay", "Escalated")
        ]
        self.assertEqual(positions, sorted(positions))

    def test_the_query_count_does_not_grow_with_statuses(self) -> None:
        self.client.get("/ar/statuses/")
        with CaptureQueriesContext(connection) as one:
            self.client.get("/ar/statuses/")
        for n in range(4):
            statuses.create_status(self.practice, actor=self.owner, name=f"Extra {n}")
        with self.assertNumQueries(len(one)):
            self.client.get("/ar/statuses/")

    def test_it_adds_a_status(self) -> None:
        r = self.client.post("/ar/statuses/", {"name": "Payment plan"})
        self.assertRedirects(r, "/ar/statuses/")
        self.assertTrue(
            CollectionStatus.objects.filter(practice=self.practice, name="Payment plan").exists()
        )

    def test_a_taken_name_re_renders_with_200(self) -> None:
        r = self.client.post("/ar/statuses/", {"name": "Reminded"})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "already a status")

    def test_it_renames_moves_defaults_and_alerts(self) -> None:
        reminded = self.status("Reminded")
        self.client.post(f"/ar/statuses/{reminded.pk}/rename/", {"name": "Nudged"})
        reminded.refresh_from_db()
        self.assertEqual(reminded.name, "Nudged")
        self.client.post(f"/ar/statuses/{reminded.pk}/move/", {"direction": "up"})
        self.assertEqual(CollectionStatus.objects.filter(practice=self.practice).first(), reminded)
        self.client.post(f"/ar/statuses/{reminded.pk}/default/")
        reminded.refresh_from_db()
        self.assertTrue(reminded.is_default)
        self.client.post(f"/ar/statuses/{reminded.pk}/alert/", {"alert_user": self.ar_manager.pk})
        reminded.refresh_from_db()
        self.assertEqual(reminded.alert_user, self.ar_manager)

    def test_a_staff_member_cannot_be_alerted(self) -> None:
        reminded = self.status("Reminded")
        self.client.post(f"/ar/statuses/{reminded.pk}/alert/", {"alert_user": self.staff.pk})
        reminded.refresh_from_db()
        self.assertIsNone(reminded.alert_user_id)

    def test_deleting_a_status_in_use_shows_the_refusal(self) -> None:
        escalated = self.status("Escalated")
        engine.set_collection_status(self.invoice(number="X-1"), escalated, actor=self.owner)
        r = self.client.post(f"/ar/statuses/{escalated.pk}/delete/", follow=True)
        self.assertContains(r, "used by 1 invoice (X-1)")
        self.assertTrue(CollectionStatus.objects.filter(pk=escalated.pk).exists())

    def test_deleting_the_default_shows_the_refusal(self) -> None:
        current = self.status("Current")
        r = self.client.post(f"/ar/statuses/{current.pk}/delete/", follow=True)
        self.assertContains(r, "default status")
        self.assertTrue(CollectionStatus.objects.filter(pk=current.pk).exists())

    def test_deleting_an_unused_status(self) -> None:
        escalated = self.status("Escalated")
        r = self.client.post(f"/ar/statuses/{escalated.pk}/delete/")
        self.assertRedirects(r, "/ar/statuses/")
        self.assertFalse(CollectionStatus.objects.filter(pk=escalated.pk).exists())

    def test_another_practices_status_is_404(self) -> None:
        rival = CollectionStatus.objects.filter(practice=self.other_practice).first()
        for action in ("rename", "move", "default", "alert", "delete"):
            with self.subTest(action=action):
                r = self.client.post(f"/ar/statuses/{rival.pk}/{action}/", {"name": "x"})
                self.assertEqual(r.status_code, 404)
        self.assertTrue(CollectionStatus.objects.filter(pk=rival.pk).exists())

    def test_posts_need_csrf(self) -> None:
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        strict.force_login(self.ar_manager)
        r = strict.post("/ar/statuses/", {"name": "Sneaky"})
        self.assertEqual(r.status_code, 403)
        self.assertFalse(CollectionStatus.objects.filter(name="Sneaky").exists())


class ARPostGatingTests(ARTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.inv = self.invoice(number="G-1", total="50.00")
        self.status = CollectionStatus.objects.get(practice=self.practice, name="Reminded")

    def posts(self) -> list[tuple[str, dict]]:
        c = self.customer.pk
        return [
            (
                f"/ar/customers/{c}/payments/",
                {"invoice": self.inv.pk, "amount": "5", "date": "2026-12-01"},
            ),
            (f"/ar/customers/{c}/specialist/", {"specialist": self.ar_specialist.pk}),
            (f"/ar/invoices/{self.inv.pk}/status/", {"action": "void"}),
            (
                f"/ar/invoices/{self.inv.pk}/collection-status/",
                {"collection_status": self.status.pk},
            ),
            ("/ar/statuses/", {"name": "Sneaky"}),
            (f"/ar/statuses/{self.status.pk}/delete/", {}),
        ]

    def test_staff_and_managers_are_refused_every_post_and_nothing_changes(self) -> None:
        before = ActivityEvent.objects.count()
        for user in (self.staff, self.manager):
            self.client.force_login(user)
            for url, data in self.posts():
                with self.subTest(user=user, url=url):
                    self.assertEqual(self.client.post(url, data).status_code, 403)
        self.assertEqual(ActivityEvent.objects.count(), before)
        self.inv.refresh_from_db()
        self.assertEqual(self.inv.status, S.OPEN)
        self.assertTrue(CollectionStatus.objects.filter(pk=self.status.pk).exists())

    def test_an_ar_specialist_gets_404_on_someone_elses_invoices(self) -> None:
        self.client.force_login(self.ar_specialist)
        for url, data in self.posts()[:4]:
            if "specialist" in url:
                continue  # managers only: 403 (next test)
            with self.subTest(url=url):
                self.assertEqual(self.client.post(url, data).status_code, 404)
        self.inv.refresh_from_db()
        self.assertEqual(self.inv.status, S.OPEN)
        self.assertFalse(Payment.objects.exists())

    def test_an_ar_specialist_works_their_own_invoices(self) -> None:
        engine.assign_specialist(self.customer, self.ar_specialist, actor=self.owner)
        self.client.force_login(self.ar_specialist)
        url, data = self.posts()[0]
        self.assertRedirects(self.client.post(url, data), f"/ar/customers/{self.customer.pk}/")
        self.inv.refresh_from_db()
        self.assertEqual(self.inv.status, S.PART_PAID)
