"""Flow templates: the list with the built-in copies, add, edit (ordered checks), archive."""

from __future__ import annotations

from checks.flows import editing
from checks.flows.making import FlowError
from checks.flows.templates import ensure_builtin_templates
from checks.models import CustomCheck, FlowTemplate
from sodium.models import ActivityEvent
from tests.base import BaseTestCase

LIST = "/checks/flows/templates/"


class FlowTemplateEngineTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.custom = CustomCheck.objects.create(practice=self.practice, name="Fixed assets")

    def test_it_creates_a_template_with_its_checks_in_order(self) -> None:
        refs = [f"custom:{self.custom.pk}", "builtin:vat"]
        t = editing.create_template(
            self.practice, actor=self.manager, name=" Payroll ", checks=refs, category="other"
        )
        self.assertEqual(t.name, "Payroll")
        self.assertEqual([c.ref for c in t.checks.all()], refs)
        self.assertTrue(ActivityEvent.objects.filter(verb="flow_template.created").exists())

    def test_it_refuses_no_name_a_taken_name_and_no_checks(self) -> None:
        editing.create_template(
            self.practice, actor=self.manager, name="Payroll", checks=["builtin:vat"]
        )
        with self.assertRaises(FlowError) as caught:
            editing.create_template(self.practice, actor=self.manager, name="payroll", checks=[])
        self.assertEqual(
            caught.exception.errors,
            {"name": "The practice has a template of that name already.",
             "checks": "Choose at least one check."},
        )  # fmt: skip
        with self.assertRaises(FlowError):
            editing.create_template(
                self.practice, actor=self.manager, name="", checks=["builtin:vat"]
            )
        self.assertEqual(FlowTemplate.objects.filter(practice=self.practice).count(), 1)

    def test_it_updates_and_archives(self) -> None:
        t = editing.create_template(
            self.practice, actor=self.manager, name="A", checks=["builtin:vat", "builtin:lock_date"]
        )
        editing.update_template(
            t, actor=self.manager, name="B", description="d", category="vat",
            checks=["builtin:lock_date", "builtin:vat"],
        )  # fmt: skip
        t.refresh_from_db()
        self.assertEqual((t.name, t.category), ("B", "vat"))
        self.assertEqual([c.check_key for c in t.checks.all()], ["lock_date", "vat"])
        editing.archive_template(t, actor=self.manager)
        t.refresh_from_db()
        self.assertTrue(t.archived)


class FlowTemplateViewTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        ensure_builtin_templates(self.practice)  # as create_practice gives a practice
        self.client.force_login(self.manager)
        self.custom = CustomCheck.objects.create(practice=self.practice, name="Fixed assets")

    def test_the_list_shows_the_built_in_copies_with_category_and_count(self) -> None:
        r = self.client.get(LIST)
        self.assertContains(r, "Month-end review")
        self.assertContains(r, "Onboarding health check")
        self.assertContains(r, "<td>Year end</td>", html=True)
        self.assertContains(r, '<td class="num">9</td>', html=True)

    def test_the_list_runs_a_fixed_number_of_queries(self) -> None:
        self.client.get(LIST)
        with self.assertNumQueries(6):
            self.client.get(LIST)
        more = editing.create_template(
            self.practice, actor=self.manager, name="More", checks=[f"custom:{self.custom.pk}"]
        )
        editing.archive_template(more, actor=self.manager)
        editing.create_template(
            self.practice, actor=self.manager, name="Also", checks=["builtin:vat"]
        )
        with self.assertNumQueries(6):
            r = self.client.get(LIST)
        self.assertContains(r, "Archived")

    def test_a_manager_adds_a_template_with_a_custom_check_reordered(self) -> None:
        refs = ["builtin:vat", f"custom:{self.custom.pk}"]
        data = {"name": "Assets", "category": "year_end", "description": "", "checks": refs}
        r = self.client.post(
            "/checks/flows/templates/new/", {**data, "move": f"up:custom:{self.custom.pk}"}
        )
        self.assertEqual(r.status_code, 200)
        self.assertFalse(FlowTemplate.objects.filter(name="Assets").exists())
        order = [row["option"].ref for row in r.context["picker"] if row["chosen"]]
        self.assertEqual(order, [f"custom:{self.custom.pk}", "builtin:vat"])
        r = self.client.post("/checks/flows/templates/new/", {**data, "checks": order})
        self.assertRedirects(r, LIST)
        t = FlowTemplate.objects.get(practice=self.practice, name="Assets")
        self.assertEqual([c.ref for c in t.checks.all()], order)

    def test_bad_input_is_shown_on_the_form(self) -> None:
        self.client.get(LIST)
        r = self.client.post(
            "/checks/flows/templates/new/", {"name": "Month-end review", "category": "other"}
        )
        self.assertContains(r, "Choose at least one check.")
        r = self.client.post(
            "/checks/flows/templates/new/",
            {"name": "Month-end review", "category": "other", "checks": ["builtin:vat"]},
        )
        self.assertContains(r, "The practice has a template of that name already.")

    def test_edit_and_archive(self) -> None:
        self.client.get(LIST)
        t = FlowTemplate.objects.get(practice=self.practice, builtin_key="vat_return_review")
        r = self.client.get(f"/checks/flows/templates/{t.pk}/")
        self.assertContains(r, 'value="VAT return review"')
        r = self.client.post(
            f"/checks/flows/templates/{t.pk}/",
            {
                "name": "VAT review",
                "category": "vat",
                "description": "x",
                "checks": ["builtin:vat"],
            },
        )
        self.assertRedirects(r, LIST)
        t.refresh_from_db()
        self.assertEqual(t.name, "VAT review")
        self.assertEqual(
            self.client.post(f"/checks/flows/templates/{t.pk}/archive/").status_code, 302
        )
        t.refresh_from_db()
        self.assertTrue(t.archived)
        self.assertNotContains(self.client.get("/checks/flows/creator/"), "VAT review<")

    def test_staff_are_refused(self) -> None:
        self.client.force_login(self.staff)
        self.assertEqual(self.client.get("/checks/flows/templates/new/").status_code, 403)
        self.assertEqual(self.client.post("/checks/flows/templates/new/", {}).status_code, 403)
