"""Placing template steps and groups (drag and drop, Move to group) through the test client."""

from __future__ import annotations

from sodium.models import ActivityEvent
from tests.base import BaseTestCase
from tests.workflows.wf_factories import chain_template, simple_step
from workflows import building
from workflows.models import TemplateDependency, TemplateGroup, TemplateStep

HTMX = {"HX-Request": "true"}


class PlaceStepTests(BaseTestCase):
    """The chain template (draft, then an email waiting for it), a free step, a Review group."""

    def setUp(self) -> None:
        super().setUp()
        self.template = chain_template(self.practice, self.manager)
        self.group = self.template.groups.get()
        self.draft, self.email = list(self.group.steps.order_by("position"))
        self.free = building.add_step(
            self.group, actor=self.manager, **simple_step(name="Book the meeting")
        )
        self.review = building.add_group(self.template, actor=self.manager, name="Review")
        self.partner = building.add_step(
            self.review, actor=self.manager, **simple_step(name="Partner review")
        )
        self.client.force_login(self.manager)

    def url(self, step: TemplateStep) -> str:
        return f"/workflows/templates/steps/{step.pk}/place/"

    def order(self, group: TemplateGroup) -> list[str]:
        return list(
            TemplateStep.objects.filter(group=group)
            .order_by("position", "id")
            .values_list("name", flat=True)
        )

    def test_it_saves_a_new_place_in_the_same_group(self) -> None:
        r = self.client.post(
            self.url(self.free), {"group": self.group.pk, "index": 0}, headers=HTMX
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, 'id="template-groups"')
        self.assertNotContains(r, "<html")
        self.assertContains(r, "Moved Book the meeting.")
        self.assertEqual(
            self.order(self.group),
            ["Book the meeting", "Prepare draft accounts", "Send welcome email"],
        )
        self.assertEqual(
            list(self.group.steps.order_by("position").values_list("position", flat=True)),
            [1, 2, 3],
        )

    def test_it_moves_a_free_step_into_another_group_at_the_place_dropped(self) -> None:
        r = self.client.post(
            self.url(self.free), {"group": self.review.pk, "index": 0}, headers=HTMX
        )
        self.assertContains(r, "Moved Book the meeting to Review.")
        self.assertEqual(self.order(self.review), ["Book the meeting", "Partner review"])
        self.assertEqual(self.order(self.group), ["Prepare draft accounts", "Send welcome email"])
        self.assertEqual(
            list(self.group.steps.order_by("position").values_list("position", flat=True)),
            [1, 2],
        )
        event = ActivityEvent.objects.filter(verb="template.step_moved").latest("id")
        self.assertEqual(event.actor, self.manager)
        self.assertIn("to Review", event.summary)

    def test_move_to_group_without_an_index_puts_the_step_last(self) -> None:
        r = self.client.post(self.url(self.free), {"group": self.review.pk})
        self.assertRedirects(
            r,
            f"/workflows/templates/{self.template.pk}/#group-{self.review.pk}",
            fetch_redirect_response=False,
        )
        self.assertEqual(self.order(self.review), ["Partner review", "Book the meeting"])

    def test_it_refuses_to_move_a_step_away_from_a_step_it_waits_for(self) -> None:
        r = self.client.post(
            self.url(self.email), {"group": self.review.pk, "index": 0}, headers=HTMX
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, 'role="alert"')
        self.assertContains(r, "“Send welcome email” cannot move to Review")
        self.assertContains(r, "it waits for “Prepare draft accounts”")
        self.assertEqual(TemplateStep.objects.get(pk=self.email.pk).group_id, self.group.pk)
        self.assertEqual(self.order(self.review), ["Partner review"])
        self.assertEqual(TemplateDependency.objects.filter(step=self.email).count(), 1)

    def test_it_refuses_to_move_a_step_others_wait_for(self) -> None:
        r = self.client.post(self.url(self.draft), {"group": self.review.pk})
        self.assertEqual(TemplateStep.objects.get(pk=self.draft.pk).group_id, self.group.pk)
        page = self.client.get(r["Location"])
        self.assertContains(page, "“Send welcome email” waits for it")

    def test_it_allows_any_place_within_the_group_as_the_buttons_do(self) -> None:
        self.client.post(self.url(self.email), {"group": self.group.pk, "index": 0}, headers=HTMX)
        self.assertEqual(self.order(self.group)[0], "Send welcome email")

    def test_it_answers_404_for_another_practices_step_or_group(self) -> None:
        rival = chain_template(self.other_practice, self.outsider)
        rival_group = rival.groups.get()
        rival_step = rival_group.steps.first()
        self.assertEqual(
            self.client.post(self.url(rival_step), {"group": rival_group.pk}).status_code, 404
        )
        self.assertEqual(
            self.client.post(self.url(self.free), {"group": rival_group.pk}).status_code, 404
        )
        r = self.client.post(f"/workflows/templates/groups/{rival_group.pk}/place/", {"index": 0})
        self.assertEqual(r.status_code, 404)
        self.assertEqual(TemplateStep.objects.get(pk=self.free.pk).group_id, self.group.pk)

    def test_a_group_id_that_is_not_a_group_is_404(self) -> None:
        for bad in ("9" * 30, "abc", "-1"):
            with self.subTest(group=bad):
                r = self.client.post(self.url(self.free), {"group": bad})
                self.assertEqual(r.status_code, 404)
        self.assertEqual(TemplateStep.objects.get(pk=self.free.pk).group_id, self.group.pk)

    def test_it_answers_404_for_a_group_of_another_template(self) -> None:
        other = building.create_template(practice=self.practice, actor=self.manager, name="VAT")
        r = self.client.post(self.url(self.free), {"group": other.groups.get().pk})
        self.assertEqual(r.status_code, 404)

    def test_get_changes_nothing(self) -> None:
        before = list(TemplateStep.objects.values_list("pk", "group_id", "position"))
        for url in (self.url(self.free), f"/workflows/templates/groups/{self.review.pk}/place/"):
            self.assertEqual(self.client.get(url, {"group": self.review.pk}).status_code, 405)
        self.assertEqual(
            list(TemplateStep.objects.values_list("pk", "group_id", "position")), before
        )

    def test_staff_cannot_place_steps(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.post(self.url(self.free), {"group": self.review.pk})
        self.assertIn(r.status_code, (302, 403))
        self.assertEqual(TemplateStep.objects.get(pk=self.free.pk).group_id, self.group.pk)

    def test_it_places_a_group(self) -> None:
        r = self.client.post(
            f"/workflows/templates/groups/{self.review.pk}/place/", {"index": 0}, headers=HTMX
        )
        self.assertContains(r, "Moved the group Review.")
        self.assertEqual(
            list(self.template.groups.order_by("position").values_list("name", flat=True)),
            ["Review", "Steps"],
        )

    def test_the_page_offers_the_handles_and_the_move_to_group_select(self) -> None:
        r = self.client.get(f"/workflows/templates/{self.template.pk}/")
        self.assertContains(r, f'data-place-url="{self.url(self.free)}"')
        self.assertContains(r, f'id="step-{self.free.pk}-group"')
        self.assertContains(r, "To Review</option>")
        self.assertContains(r, "vendor/sortablejs/Sortable.min.js")
        self.assertContains(r, "js/template_sort.js")
