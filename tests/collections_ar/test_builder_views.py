"""The AR workflow builder's pages: who may open them, the dashboard, create, the builder
with its timeline, general settings, adding an action with its preview, switching ON."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from collections_ar.builder import editing
from collections_ar.models import ARAction, ARWorkflow, Customer
from sodium.roles import Role
from tests import factories as f
from tests.collections_ar.ar_helpers import ARTestCase

K = ARAction.Kind
W = ARWorkflow.State

EMAIL = {
    "base": "assigned",
    "days": "0",
    "subject": "Hello {{ customer.name }}",
    "body": "{{ customer.name }} owes {{ customer.balance }}.",
}


class BuilderViewTestCase(ARTestCase):
    def workflow(self, name: str = "Chase", practice=None, actor=None) -> ARWorkflow:
        return editing.create_workflow(
            practice or self.practice, actor=actor or self.owner, name=name
        )

    def email(self, wf: ARWorkflow, actor=None) -> ARAction:
        return editing.add_action(
            wf,
            actor=actor or self.owner,
            kind=K.EMAIL,
            days=0,
            subject="Hi",
            body="Dear {{ customer.name }}",
        )


def urls(wf: ARWorkflow, action: ARAction) -> list[tuple[str, str, dict]]:
    """Every builder URL with its method and a POST body."""
    w, a = f"/ar/workflows/{wf.pk}", f"/ar/workflows/{wf.pk}/actions/{action.pk}"
    return [
        ("get", "/ar/workflows/", {}),
        ("get", "/ar/workflows/new/", {}),
        ("get", f"{w}/", {}),
        ("post", f"{w}/clone/", {}),
        ("post", f"{w}/switch/", {"on": "1"}),
        ("post", f"{w}/default/", {}),
        ("get", f"{w}/actions/new/?kind=email", {}),
        ("get", f"{a}/", {}),
        ("post", f"{a}/move/", {"direction": "down"}),
        ("post", f"{a}/delete/", {}),
        ("post", f"{w}/delete/", {}),  # last: it may delete the workflow
    ]


class GatingTests(BuilderViewTestCase):
    def test_staff_managers_and_ar_specialists_get_403_everywhere(self) -> None:
        wf = self.workflow()
        action = self.email(wf)
        for role in (Role.STAFF, Role.MANAGER, Role.AR_SPECIALIST):
            self.client.force_login(self.memberships[role].user)
            for method, url, data in urls(wf, action):
                with self.subTest(role=role, url=url):
                    r = getattr(self.client, method)(url, data)
                    self.assertEqual(r.status_code, 403)
        self.assertTrue(ARWorkflow.objects.filter(pk=wf.pk).exists())
        self.assertEqual(ARWorkflow.objects.filter(practice=self.practice).count(), 1)
        self.assertEqual(ARAction.objects.filter(workflow=wf).count(), 1)

    def test_owners_admins_and_ar_managers_get_in(self) -> None:
        for role in (Role.OWNER, Role.ADMIN, Role.AR_MANAGER):
            user = self.memberships[role].user
            self.client.force_login(user)
            # A fresh workflow and action per role: the POSTs delete and clone them.
            wf = self.workflow(f"Chase {role}", actor=user)
            action = self.email(wf, actor=user)
            self.email(wf, actor=user)
            for method, url, data in urls(wf, action):
                with self.subTest(role=role, url=url):
                    r = getattr(self.client, method)(url, data)
                    self.assertEqual(r.status_code, 200 if method == "get" else 302)

    def test_another_practices_workflow_is_404(self) -> None:
        outsider_wf = self.workflow("Theirs", practice=self.other_practice, actor=self.outsider)
        theirs = self.email(outsider_wf, actor=self.outsider)
        self.client.force_login(self.owner)
        for method, url, data in urls(outsider_wf, theirs)[2:]:
            with self.subTest(url=url):
                r = getattr(self.client, method)(url, data)
                self.assertEqual(r.status_code, 404)
        self.assertTrue(ARWorkflow.objects.filter(pk=outsider_wf.pk, state=W.OFF).exists())
        self.assertEqual(ARWorkflow.objects.filter(practice=self.other_practice).count(), 1)
        self.assertEqual(ARAction.objects.filter(workflow=outsider_wf).count(), 1)

    def test_an_action_of_another_workflow_is_404(self) -> None:
        mine, other = self.workflow("Mine"), self.workflow("Other")
        action = self.email(other)
        self.client.force_login(self.owner)
        r = self.client.get(f"/ar/workflows/{mine.pk}/actions/{action.pk}/")
        self.assertEqual(r.status_code, 404)

    def test_get_on_post_only_urls_is_405(self) -> None:
        wf = self.workflow()
        action = self.email(wf)
        self.client.force_login(self.owner)
        for method, url, _data in urls(wf, action):
            if method == "post":
                with self.subTest(url=url):
                    self.assertEqual(self.client.get(url).status_code, 405)
        self.assertEqual(ARWorkflow.objects.filter(practice=self.practice).count(), 1)


class DashboardTests(BuilderViewTestCase):
    def test_it_lists_workflows_with_action_and_customer_counts(self) -> None:
        busy = self.workflow("Busy")
        for _ in range(3):
            self.email(busy)
        self.workflow("Idle")
        other = f.ClientFactory(practice=self.practice, name="Bolt Ltd")
        Customer.objects.filter(pk=self.customer.pk).update(workflow=busy)
        Customer.objects.create(practice=self.practice, client=other, workflow=busy)
        self.client.force_login(self.ar_manager)
        r = self.client.get("/ar/workflows/")
        self.assertEqual(r.status_code, 200)
        rows = {w.name: w for w in r.context["workflows"]}
        self.assertEqual((rows["Busy"].n_actions, rows["Busy"].n_customers), (3, 2))
        self.assertEqual((rows["Idle"].n_actions, rows["Idle"].n_customers), (0, 0))
        self.assertContains(r, '<span class="only-narrow">Actions: </span>3</td>', html=False)
        self.assertContains(r, '<span class="only-narrow">Customers: </span>2</td>', html=False)
        self.assertNotContains(r, "Theirs")

    def queries_for(self, n: int) -> int:
        existing = ARWorkflow.objects.filter(practice=self.practice).count()
        previous = ARWorkflow.objects.filter(practice=self.practice).first()
        for i in range(existing, n):
            wf = self.workflow(f"Workflow {i:02d}")
            self.email(wf)
            if previous is not None:
                editing.update_workflow(
                    wf, actor=self.owner, name=wf.name, description="", continue_with=previous
                )
            Customer.objects.create(
                practice=self.practice,
                client=f.ClientFactory(practice=self.practice),
                workflow=wf,
            )
            previous = wf
        self.assertEqual(ARWorkflow.objects.filter(practice=self.practice).count(), n)
        with CaptureQueriesContext(connection) as ctx:
            r = self.client.get("/ar/workflows/")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(len(r.context["workflows"]), n)
        return len(ctx.captured_queries)

    def test_the_query_count_does_not_grow_with_the_workflows(self) -> None:
        self.client.force_login(self.owner)
        self.client.get("/ar/workflows/")  # warm the session and caches
        three = self.queries_for(3)
        ten = self.queries_for(10)
        self.assertEqual(three, ten)
        with self.assertNumQueries(three):
            self.client.get("/ar/workflows/")


class CreateTests(BuilderViewTestCase):
    def test_create_opens_the_builder(self) -> None:
        self.client.force_login(self.ar_manager)
        r = self.client.post("/ar/workflows/new/", {"name": "Quarterly", "description": "Q"})
        wf = ARWorkflow.objects.get(practice=self.practice, name="Quarterly")
        self.assertRedirects(r, f"/ar/workflows/{wf.pk}/")
        self.assertEqual((wf.state, wf.description), (W.OFF, "Q"))

    def test_an_empty_name_shows_the_form_again_and_makes_nothing(self) -> None:
        self.client.force_login(self.owner)
        r = self.client.post("/ar/workflows/new/", {"name": "  ", "description": "Q"})
        self.assertEqual(r.status_code, 200)
        self.assertTrue(r.context["form"].errors["name"])
        self.assertContains(r, "This field is required")
        self.assertEqual(ARWorkflow.objects.filter(practice=self.practice).count(), 0)

    def test_a_taken_name_is_refused(self) -> None:
        self.workflow("Quarterly")
        self.client.force_login(self.owner)
        r = self.client.post("/ar/workflows/new/", {"name": "quarterly"})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "There is already a workflow called")
        self.assertEqual(ARWorkflow.objects.filter(practice=self.practice).count(), 1)


class BuilderPageTests(BuilderViewTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.wf = self.workflow("Chase")
        self.email(self.wf)
        self.client.force_login(self.owner)

    def test_it_shows_the_timeline_for_the_chosen_customer(self) -> None:
        r = self.client.get(f"/ar/workflows/{self.wf.pk}/", {"customer": self.customer.pk})
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.context["timeline"].customer, self.customer)
        self.assertContains(r, "<strong>Acme Widgets</strong>, assigned", html=False)
        self.assertContains(r, "<html")

    def test_without_a_customer_no_timeline(self) -> None:
        r = self.client.get(f"/ar/workflows/{self.wf.pk}/")
        self.assertIsNone(r.context["timeline"])
        self.assertContains(r, "Choose a customer to see every email")

    def test_another_practices_customer_gives_no_timeline(self) -> None:
        from collections_ar import engine

        theirs = engine.get_or_create_customer(self.other_client, actor=self.outsider)
        r = self.client.get(f"/ar/workflows/{self.wf.pk}/", {"customer": theirs.pk})
        self.assertIsNone(r.context["timeline"])
        self.assertNotContains(r, "Rival Secret Client")

    def test_htmx_gets_only_the_timeline(self) -> None:
        r = self.client.get(
            f"/ar/workflows/{self.wf.pk}/",
            {"customer": self.customer.pk, "part": "timeline"},
            headers={"HX-Request": "true"},
        )
        self.assertEqual(r.status_code, 200)
        html = r.content.decode()
        self.assertTrue(html.lstrip().startswith('<section class="card" id="timeline"'), html[:200])
        self.assertNotIn("<html", html)
        self.assertNotIn("General settings", html)
        self.assertIn("Acme Widgets", html)
        self.assertIn("HX-Request", r.headers["Vary"])

    def test_a_looping_continue_with_shows_the_loop_and_saves_nothing(self) -> None:
        other = self.workflow("Other")
        editing.update_workflow(
            other, actor=self.owner, name="Other", description="", continue_with=self.wf
        )
        r = self.client.post(
            f"/ar/workflows/{self.wf.pk}/",
            {"name": "Chase renamed", "description": "changed", "continue_with": other.pk},
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "That would make a loop: Chase → Other → Chase.")
        wf = ARWorkflow.objects.get(pk=self.wf.pk)
        self.assertEqual((wf.name, wf.description, wf.continue_with_id), ("Chase", "", None))

    def test_general_settings_save(self) -> None:
        other = self.workflow("Other")
        r = self.client.post(
            f"/ar/workflows/{self.wf.pk}/",
            {"name": "Chase 2", "description": "d", "continue_with": other.pk},
        )
        self.assertRedirects(r, f"/ar/workflows/{self.wf.pk}/")
        wf = ARWorkflow.objects.get(pk=self.wf.pk)
        self.assertEqual((wf.name, wf.description, wf.continue_with_id), ("Chase 2", "d", other.pk))


class AddActionTests(BuilderViewTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.wf = self.workflow("Chase")
        self.invoice("INV-1", total="75.00")
        self.client.force_login(self.ar_manager)
        self.url = f"/ar/workflows/{self.wf.pk}/actions/new/?kind=email"

    def test_preview_renders_for_the_chosen_customer_and_saves_nothing(self) -> None:
        r = self.client.post(
            self.url, {**EMAIL, "preview": "1", "preview_customer": self.customer.pk}
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Preview for Acme Widgets")
        self.assertContains(r, "Acme Widgets owes £75.00.")
        self.assertContains(r, "Hello Acme Widgets")
        self.assertEqual(ARAction.objects.filter(workflow=self.wf).count(), 0)

    def test_save_adds_it_and_goes_back_to_the_builder(self) -> None:
        r = self.client.post(self.url, {**EMAIL, "save": "1"})
        self.assertRedirects(r, f"/ar/workflows/{self.wf.pk}/")
        (action,) = ARAction.objects.filter(workflow=self.wf)
        self.assertEqual((action.kind, action.subject), (K.EMAIL, EMAIL["subject"]))
        self.assertEqual(action.body, EMAIL["body"])

    def test_a_refused_action_shows_why_and_saves_nothing(self) -> None:
        r = self.client.post(self.url, {**EMAIL, "body": "{{ nope.x }}", "save": "1"})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "nope.x")
        self.assertEqual(ARAction.objects.filter(workflow=self.wf).count(), 0)


class SwitchViewTests(BuilderViewTestCase):
    def test_switching_on_with_no_actions_says_why_and_stays_off(self) -> None:
        wf = self.workflow("Empty")
        self.client.force_login(self.owner)
        r = self.client.post(
            f"/ar/workflows/{wf.pk}/switch/", {"on": "1", "next": "builder"}, follow=True
        )
        self.assertEqual(r.redirect_chain, [(f"/ar/workflows/{wf.pk}/", 302)])
        self.assertContains(r, "“Empty” stays off: Add at least one action")
        self.assertEqual(ARWorkflow.objects.get(pk=wf.pk).state, W.OFF)

    def test_switching_on_with_an_action_works(self) -> None:
        wf = self.workflow("Ready")
        self.email(wf)
        self.client.force_login(self.owner)
        r = self.client.post(f"/ar/workflows/{wf.pk}/switch/", {"on": "1"})
        self.assertRedirects(r, "/ar/workflows/")
        self.assertEqual(ARWorkflow.objects.get(pk=wf.pk).state, W.ON)
