"""The customers tab: its filters, the CSV export of the filtered list, and bulk assigning."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.db import connection
from django.test.utils import CaptureQueriesContext

from collections_ar import assigning, engine
from collections_ar.models import Assignment, CollectionStatus, Customer
from sodium.schedules.practice import today_for
from tests import factories as f
from tests.collections_ar.assign_helpers import AssignTestCase


def names(response) -> list[str]:
    return [row.customer.client.name for row in response.context["rows"]]


class CustomerFilterTests(AssignTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.today = today_for(self.practice)
        # Acme: 10 days overdue, on Chase, nobody's; the others one per age band.
        self.invoice("A-1", due_date=self.today - dt.timedelta(days=10))
        self.bands = {}
        for key, days in (("current", -5), ("31-60", 45), ("61-90", 75), ("90+", 120)):
            customer = self.customer_named(f"Band {key} Ltd")
            self.invoice(
                f"B-{key}",
                customer=customer,
                issue_date=self.today - dt.timedelta(days=200),
                due_date=self.today - dt.timedelta(days=days),
            )
            self.bands[key] = customer
        engine.assign_specialist(self.bands["31-60"], self.ar_specialist, actor=self.owner)
        assigning.assign_workflow([self.customer], self.chase, actor=self.owner)
        self.client.force_login(self.ar_manager)

    def test_without_filters_it_lists_every_customer_that_owes_most_overdue_first(self) -> None:
        r = self.client.get("/ar/")
        self.assertEqual(
            names(r),
            [
                "Band 90+ Ltd",
                "Band 61-90 Ltd",
                "Band 31-60 Ltd",
                "Acme Widgets",
                "Band current Ltd",
            ],
        )

    def test_it_filters_by_specialist_and_by_nobody(self) -> None:
        r = self.client.get("/ar/", {"specialist": self.ar_specialist.pk})
        self.assertEqual(names(r), ["Band 31-60 Ltd"])
        r = self.client.get("/ar/", {"specialist": "none"})
        self.assertNotIn("Band 31-60 Ltd", names(r))
        self.assertEqual(len(names(r)), 4)

    def test_it_filters_by_workflow_and_by_none(self) -> None:
        r = self.client.get("/ar/", {"workflow": self.chase.pk})
        self.assertEqual(names(r), ["Acme Widgets"])
        self.assertContains(r, "Chase")
        r = self.client.get("/ar/", {"workflow": "none"})
        self.assertNotIn("Acme Widgets", names(r))
        self.assertEqual(len(names(r)), 4)
        r = self.client.get("/ar/", {"workflow": self.gentle.pk})
        self.assertEqual(names(r), [])
        self.assertContains(r, "No customer matches")

    def test_it_filters_by_the_collection_status_of_an_open_invoice(self) -> None:
        escalated = CollectionStatus.objects.get(practice=self.practice, builtin_key="escalated")
        invoice = self.bands["61-90"].invoices.get()
        engine.set_collection_status(invoice, escalated, actor=self.owner)
        r = self.client.get("/ar/", {"status": escalated.pk})
        self.assertEqual(names(r), ["Band 61-90 Ltd"])
        # The balance is the customer's whole balance, not only the matching invoice's.
        self.assertEqual(r.context["rows"][0].open_invoices, 1)

    def test_it_filters_by_each_age_band(self) -> None:
        expected = {
            "current": ["Band current Ltd"],
            "1-30": ["Acme Widgets"],
            "31-60": ["Band 31-60 Ltd"],
            "61-90": ["Band 61-90 Ltd"],
            "90+": ["Band 90+ Ltd"],
        }
        for band, want in expected.items():
            with self.subTest(band=band):
                r = self.client.get("/ar/", {"band": band})
                self.assertEqual(names(r), want)

    def test_the_age_band_edges_are_inclusive(self) -> None:
        for days, band in ((1, "1-30"), (30, "1-30"), (31, "31-60"), (90, "61-90"), (91, "90+")):
            customer = self.customer_named(f"Edge {days} Ltd")
            self.invoice(
                f"E-{days}",
                customer=customer,
                issue_date=self.today - dt.timedelta(days=200),
                due_date=self.today - dt.timedelta(days=days),
            )
            with self.subTest(days=days):
                r = self.client.get("/ar/", {"band": band})
                self.assertIn(f"Edge {days} Ltd", names(r))

    def test_filters_combine(self) -> None:
        r = self.client.get("/ar/", {"band": "1-30", "workflow": "none"})
        self.assertEqual(names(r), [])
        r = self.client.get("/ar/", {"band": "1-30", "workflow": self.chase.pk})
        self.assertEqual(names(r), ["Acme Widgets"])

    def test_an_unknown_or_another_practices_value_is_ignored(self) -> None:
        rival = f.UserFactory()
        f.MembershipFactory(practice=self.other_practice, user=rival, role="ar_specialist")
        r = self.client.get("/ar/", {"specialist": rival.pk, "band": "nonsense"})
        self.assertEqual(r.status_code, 200)
        self.assertEqual(len(names(r)), 5)

    def test_rows_show_the_age_band_chip_the_workflow_and_paused(self) -> None:
        engine.pause_assignment(
            assigning.live_assignment(self.customer), actor=self.owner, reason="promised"
        )
        r = self.client.get("/ar/", {"workflow": self.chase.pk})
        self.assertContains(r, "10 days overdue")
        self.assertContains(
            r, '<span class="chip ar-band ar-band-1-30">1–30 days</span>', html=True
        )
        self.assertContains(r, 'Chase <span class="chip chip-tone-warn">Paused</span>')
        self.assertTrue(r.context["rows"][0].paused)
        r = self.client.get("/ar/", {"band": "current"})
        self.assertContains(r, "ar-band-current")
        self.assertNotContains(r, "chip-tone-warn")

    def test_the_query_count_is_fixed_whatever_the_rows(self) -> None:
        params = {"band": "", "workflow": "", "status": "", "specialist": ""}
        self.client.get("/ar/", params)  # warm the session
        with CaptureQueriesContext(connection) as first:
            self.client.get("/ar/", params)
        for n in range(6):
            customer = self.customer_named(f"More {n} Ltd")
            engine.assign_specialist(customer, self.ar_specialist, actor=self.owner)
            self.invoice(f"M-{n}", customer=customer)
        assigning.assign_workflow(
            list(Customer.objects.filter(client__name__startswith="More")),
            self.gentle,
            actor=self.owner,
        )
        engine.pause_assignment(
            Assignment.objects.filter(workflow=self.gentle).first(), actor=self.owner
        )
        with self.assertNumQueries(len(first)):
            r = self.client.get("/ar/", params)
        self.assertEqual(len(r.context["rows"]), 11)

    def test_a_specialist_sees_no_specialist_filter_nor_the_assign_bar(self) -> None:
        self.client.force_login(self.ar_specialist)
        r = self.client.get("/ar/")
        self.assertEqual(names(r), ["Band 31-60 Ltd"])
        self.assertNotContains(r, 'name="specialist"')
        self.assertNotContains(r, 'name="to_workflow"')
        self.assertNotContains(r, 'name="customer"')


class CustomerCsvTests(AssignTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.today = today_for(self.practice)
        self.invoice("A-1", total="1250.50", due_date=self.today - dt.timedelta(days=10))
        self.evil = self.customer_named('=HYPERLINK("http://evil.example","Click")')
        self.invoice(
            "E-1",
            customer=self.evil,
            issue_date=self.today - dt.timedelta(days=100),
            due_date=self.today - dt.timedelta(days=70),
        )
        self.client.force_login(self.ar_manager)

    def rows(self, response) -> list[list[str]]:
        text = response.content.decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text)))

    def test_it_downloads_the_list_as_csv(self) -> None:
        assigning.assign_workflow([self.customer], self.chase, actor=self.owner)
        r = self.client.get("/ar/customers.csv")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r["Content-Type"], "text/csv; charset=utf-8")
        self.assertIn("attachment", r["Content-Disposition"])
        rows = self.rows(r)
        self.assertEqual(rows[0][0], "Customer")
        acme = next(row for row in rows if row[0] == "Acme Widgets")
        self.assertEqual(acme[2], "Chase")
        self.assertEqual(acme[4:], ["1", "1250.50", "10", "1–30 days"])

    def test_it_neutralises_formulas_in_cells(self) -> None:
        rows = self.rows(self.client.get("/ar/customers.csv"))
        cells = [cell for row in rows for cell in row]
        self.assertIn('\'=HYPERLINK("http://evil.example","Click")', cells)
        self.assertFalse(any(cell.startswith("=") for cell in cells))

    def test_it_exports_only_what_the_filters_match(self) -> None:
        rows = self.rows(self.client.get("/ar/customers.csv", {"band": "61-90"}))
        self.assertEqual(
            [row[0] for row in rows[1:]], ['\'=HYPERLINK("http://evil.example","Click")']
        )
        rows = self.rows(self.client.get("/ar/customers.csv", {"band": "1-30"}))
        self.assertEqual([row[0] for row in rows[1:]], ["Acme Widgets"])

    def test_the_list_links_to_the_csv_with_its_filters(self) -> None:
        r = self.client.get("/ar/", {"band": "1-30"})
        self.assertContains(r, 'href="/ar/customers.csv?band=1-30"')

    def test_a_specialist_exports_only_their_customers(self) -> None:
        engine.assign_specialist(self.evil, self.ar_specialist, actor=self.owner)
        self.client.force_login(self.ar_specialist)
        rows = self.rows(self.client.get("/ar/customers.csv"))
        self.assertEqual(len(rows), 2)
        self.assertNotIn("Acme Widgets", [row[0] for row in rows])

    def test_staff_and_managers_may_not_export(self) -> None:
        for user in (self.staff, self.manager):
            self.client.force_login(user)
            with self.subTest(user=user):
                self.assertEqual(self.client.get("/ar/customers.csv").status_code, 403)


class BulkAssignTests(AssignTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.today = today_for(self.practice)
        self.invoice("A-1", due_date=self.today - dt.timedelta(days=10))
        self.fresh = []
        for n in range(3):
            customer = self.customer_named(f"Fresh {n} Ltd")
            self.invoice(f"F-{n}", customer=customer, due_date=self.today - dt.timedelta(days=40))
            self.fresh.append(customer)
        self.already = self.customer_named("Already Ltd")
        self.invoice("AL-1", customer=self.already)
        self.elsewhere = self.customer_named("Elsewhere Ltd")
        self.invoice("EL-1", customer=self.elsewhere)
        self.no_mobile = self.customer_named("Nomobile Ltd", mobile="")
        self.invoice("NM-1", customer=self.no_mobile)
        assigning.assign_workflow([self.already], self.chase, actor=self.owner)
        assigning.assign_workflow([self.elsewhere], self.gentle, actor=self.owner)
        self.client.force_login(self.ar_manager)

    def post(self, ids=(), **data):
        data.setdefault("to_workflow", self.chase.pk)
        data["customer"] = [c.pk for c in ids]
        return self.client.post("/ar/customers/assign/", data, follow=True)

    def live(self, customer) -> Assignment | None:
        return assigning.live_assignment(customer)

    def test_it_offers_only_on_workflows(self) -> None:
        r = self.client.get("/ar/")
        self.assertEqual(r.context["on_workflows"], [self.chase, self.gentle])
        assign = r.content.decode().split('name="to_workflow"')[1].split("</select>")[0]
        self.assertIn(f'<option value="{self.chase.pk}">Chase</option>', assign)
        self.assertIn(f'<option value="{self.gentle.pk}">Gentle</option>', assign)
        self.assertNotIn("Dormant", assign)
        self.assertContains(r, "All 7 that match")

    def test_it_assigns_the_chosen_customers_and_says_what_happened(self) -> None:
        r = self.post([*self.fresh, self.already, self.elsewhere, self.no_mobile])
        self.assertRedirects(r, "/ar/")
        self.assertContains(
            r,
            "Assigned 3; moved 1 from another workflow; 1 already on it; refused 1: "
            "Nomobile Ltd (Sam Nomobile has no mobile number).",
        )
        for customer in (*self.fresh, self.already, self.elsewhere):
            self.assertEqual(self.live(customer).workflow, self.chase)
        self.assertIsNone(self.live(self.no_mobile))
        self.assertEqual(self.live(self.customer), None)  # not chosen

    def test_it_assigns_all_that_match_the_filters(self) -> None:
        r = self.post(all_matching="1", band="31-60", to_workflow=self.gentle.pk)
        self.assertRedirects(r, "/ar/?band=31-60")
        self.assertContains(r, "Assigned 3.")
        for customer in self.fresh:
            self.assertEqual(self.live(customer).workflow, self.gentle)
        self.assertIsNone(self.live(self.customer))
        self.assertEqual(self.live(self.already).workflow, self.chase)

    def test_a_success_without_refusals_is_a_success_message(self) -> None:
        r = self.post(self.fresh[:1])
        (message,) = list(r.context["messages"])
        self.assertEqual(message.tags, "success")
        self.assertEqual(str(message), "Assigned 1.")

    def test_an_off_workflow_is_refused_readably(self) -> None:
        r = self.post(self.fresh, to_workflow=self.dormant.pk)
        self.assertContains(r, "“Dormant” is off: switch it on to assign it.")
        for customer in self.fresh:
            self.assertIsNone(self.live(customer))

    def test_another_practices_workflow_or_none_is_refused(self) -> None:
        from collections_ar.builder import editing

        rival = editing.create_workflow(self.other_practice, actor=self.outsider, name="Rival")
        for value in (rival.pk, "", "x"):
            with self.subTest(value=value):
                r = self.post(self.fresh, to_workflow=value)
                self.assertContains(r, "Choose the workflow to assign.")
        self.assertFalse(Assignment.objects.filter(customer__in=self.fresh).exists())

    def test_nobody_chosen_is_refused(self) -> None:
        r = self.post([])
        self.assertContains(r, "Choose the customers to assign, or all that match.")

    def test_another_practices_customers_are_left_out(self) -> None:
        rival = engine.get_or_create_customer(self.other_client, actor=self.outsider)
        r = self.post([rival])
        self.assertContains(r, "No customer matches: nothing was assigned.")
        self.assertFalse(Assignment.objects.filter(customer=rival).exists())

    def test_get_changes_nothing(self) -> None:
        r = self.client.get("/ar/customers/assign/", {"customer": self.fresh[0].pk})
        self.assertEqual(r.status_code, 405)
        self.assertIsNone(self.live(self.fresh[0]))

    def test_the_post_needs_the_csrf_token(self) -> None:
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        client.force_login(self.ar_manager)
        r = client.post(
            "/ar/customers/assign/",
            {"customer": self.fresh[0].pk, "to_workflow": self.chase.pk},
        )
        self.assertEqual(r.status_code, 403)
        self.assertIsNone(self.live(self.fresh[0]))

    def test_only_managers_may_assign(self) -> None:
        for user in (self.staff, self.manager, self.ar_specialist):
            self.client.force_login(user)
            with self.subTest(user=user):
                r = self.client.post(
                    "/ar/customers/assign/",
                    {"customer": self.fresh[0].pk, "to_workflow": self.chase.pk},
                )
                self.assertEqual(r.status_code, 403)
        self.assertIsNone(self.live(self.fresh[0]))

    def test_many_refusals_are_counted_after_the_first_five(self) -> None:
        quiet = [self.customer_named(f"Quiet {n} Ltd", mobile="") for n in range(7)]
        r = self.post(quiet)
        self.assertContains(r, "refused 7: Quiet 0 Ltd (")
        self.assertContains(r, " and 2 more.")
