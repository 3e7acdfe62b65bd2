"""Marking a step done while its checklist has unticked items asks first: hx-confirm on the
panel's button (and data-confirm on the task page's), and the server refuses without the
`confirm` field and asks itself."""

from __future__ import annotations

from django.urls import reverse

from sodium.models import ActivityEvent
from tests.base import BaseTestCase
from tests.workflows.test_engine_transitions import StepRowsMixin
from tests.workflows.test_focus_panel import HTMX
from workflows import engine
from workflows.models import ChecklistItem, Step

S = Step.Status
QUESTION = "“Prepare draft accounts” has 2 unticked checklist items. Mark it done anyway?"


class UntickedChecklistTestCase(StepRowsMixin, BaseTestCase):
    """A ready simple step with three checklist items, one of them ticked."""

    def setUp(self) -> None:
        super().setUp()
        self.step = self.make_step(S.READY, assignee=self.staff)
        self.task = self.step.task
        for i, (text, done) in enumerate(
            [("Bank rec", True), ("Accruals", False), ("Fixed assets", False)]
        ):
            ChecklistItem.objects.create(
                practice=self.practice, step=self.step, text=text, position=i, done=done
            )
        self.url = reverse("workflows:step-complete", args=[self.step.pk])
        self.panel_url = reverse("workflows:focus", args=[self.task.pk])
        self.client.force_login(self.staff)

    def status(self) -> str:
        return Step.objects.get(pk=self.step.pk).status

    def tick_all(self) -> None:
        ChecklistItem.objects.filter(step=self.step).update(done=True)


class CompleteStepChecklistEngineTests(UntickedChecklistTestCase):
    def test_asked_to_it_refuses_with_the_unticked_items(self) -> None:
        with self.assertRaises(engine.UntickedChecklist) as caught:
            engine.complete_step(self.step, actor=self.staff, require_checklist=True)
        self.assertEqual(caught.exception.items, ["Accruals", "Fixed assets"])
        self.assertEqual(self.status(), S.READY)

    def test_confirmed_or_all_ticked_it_completes(self) -> None:
        engine.complete_step(self.step, actor=self.staff)  # require_checklist=False: confirmed
        self.assertEqual(self.status(), S.DONE)

    def test_with_every_item_ticked_it_does_not_ask(self) -> None:
        self.tick_all()
        engine.complete_step(self.step, actor=self.staff, require_checklist=True)
        self.assertEqual(self.status(), S.DONE)

    def test_a_step_that_cannot_be_done_says_so_rather_than_asking(self) -> None:
        Step.objects.filter(pk=self.step.pk).update(status=S.BLOCKED)
        with self.assertRaises(engine.InvalidTransition):
            engine.complete_step(self.step, actor=self.staff, require_checklist=True)


class MarkDoneButtonTests(UntickedChecklistTestCase):
    def test_the_panels_button_asks_with_hx_confirm_and_sends_confirm(self) -> None:
        r = self.client.get(self.panel_url, headers=HTMX)
        self.assertContains(r, f'hx-confirm="{QUESTION}"')
        self.assertContains(r, """hx-vals='{"confirm": "1"}'""")

    def test_the_task_pages_button_asks_with_data_confirm(self) -> None:
        r = self.client.get(reverse("sodium:task-detail", args=[self.task.pk]))
        self.assertContains(r, f'data-confirm="{QUESTION}"')
        # Sent only once the person said yes (static/js/sodium.js enables it).
        self.assertContains(
            r, '<input type="hidden" name="confirm" value="1" disabled data-confirmed>'
        )

    def test_nothing_asks_when_every_item_is_ticked(self) -> None:
        self.tick_all()
        self.assertNotContains(self.client.get(self.panel_url, headers=HTMX), "hx-confirm=")
        r = self.client.get(reverse("sodium:task-detail", args=[self.task.pk]))
        self.assertNotContains(r, "data-confirm=")


class MarkDoneServerConfirmationTests(UntickedChecklistTestCase):
    def test_without_confirm_a_plain_post_changes_nothing_and_asks(self) -> None:
        before = ActivityEvent.objects.count()
        r = self.client.post(self.url, {"next": self.panel_url})
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "workflows/step_confirm_done.html")
        self.assertContains(r, "<li>Accruals</li>", html=True)
        self.assertContains(r, "<li>Fixed assets</li>", html=True)
        self.assertNotContains(r, "<li>Bank rec</li>", html=True)
        self.assertContains(r, '<input type="hidden" name="confirm" value="1">', html=True)
        self.assertContains(r, f'<input type="hidden" name="next" value="{self.panel_url}">')
        self.assertContains(r, "Mark done anyway")
        self.assertEqual(self.status(), S.READY)
        self.assertEqual(ActivityEvent.objects.count(), before)

    def test_the_confirmation_page_does_not_keep_a_foreign_next(self) -> None:
        r = self.client.post(self.url, {"next": "https://evil.example/"})
        self.assertNotContains(r, "evil.example")

    def test_without_confirm_htmx_gets_the_panel_asking_in_the_step(self) -> None:
        r = self.client.post(self.url, headers=HTMX)
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, f'id="focus-step-{self.step.pk}-confirm"')
        self.assertContains(r, "has 2 unticked checklist items: Accruals, Fixed assets")
        self.assertContains(r, "Mark done anyway")
        self.assertNotIn("HX-Trigger", r.headers)  # nothing changed
        self.assertEqual(self.status(), S.READY)

    def test_with_confirm_it_is_done(self) -> None:
        r = self.client.post(self.url, {"confirm": "1", "next": self.panel_url})
        self.assertRedirects(r, self.panel_url)
        self.assertEqual(self.status(), S.DONE)

    def test_with_every_item_ticked_no_confirm_is_needed(self) -> None:
        self.tick_all()
        r = self.client.post(self.url, headers=HTMX)
        self.assertContains(r, "Marked “Prepare draft accounts” done.")
        self.assertEqual(self.status(), S.DONE)
