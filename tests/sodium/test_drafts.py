"""The core draft store, driven by a throwaway two-stage creator that knows nothing of steps."""

from __future__ import annotations

from django import forms
from django.test import SimpleTestCase

from sodium import drafts


class CountingForm(forms.Form):
    """A stage form that counts how often it is built and cleaned."""

    built = 0
    cleaned = 0

    def __init__(self, *args, **kwargs) -> None:
        type(self).built += 1
        super().__init__(*args, **kwargs)

    def full_clean(self) -> None:
        type(self).cleaned += 1
        super().full_clean()


class WhoForm(CountingForm):
    who = forms.CharField()


class WhenForm(CountingForm):
    days = forms.IntegerField(min_value=1)


FORMS = {"who": WhoForm, "when": WhenForm}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class FlowCreator:
    """Just enough of a creator: two stages and a review, and Go makes a dict."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.creator = drafts.Creator(
            session_key="flows",
            labels={"who": "Who", "when": "When", "review": "Review"},
            stages=lambda draft: ["who", "when", "review"],
            ttl_seconds=60,
            max_drafts=2,
            clock=self.clock,
        )
        self.session: dict = {}

    def start(self) -> str:
        return self.creator.start(self.session, practice_id=1, values={}, stage="who")["id"]

    def post(self, draft_id: str, stage: str, data: dict, action: str = "next") -> dict:
        """What a creator's stage view does: one form, cleaned once, then the core moves."""
        draft = self.creator.get(self.session, draft_id, practice_id=1)
        valid = True
        if stage != "review" and action != "back":
            form = FORMS[stage](data)
            valid = form.is_valid()
            draft["values"][stage] = dict(data)
            self.creator.mark(draft, stage, valid)
        draft["stage"] = self.creator.target(draft, stage, action, valid=valid)
        self.creator.save(self.session, draft)
        return draft

    def go(self, draft_id: str) -> dict:
        draft = self.creator.get(self.session, draft_id, practice_id=1)
        made = {k: v for stage in ("who", "when") for k, v in draft["values"][stage].items()}
        self.creator.drop(self.session, draft_id)
        return made


class ThrowawayCreatorTests(SimpleTestCase):
    def setUp(self) -> None:
        self.flow = FlowCreator()
        WhoForm.built = WhoForm.cleaned = WhenForm.built = WhenForm.cleaned = 0

    def test_next_back_review_and_go(self) -> None:
        draft_id = self.flow.start()
        draft = self.flow.post(draft_id, "who", {"who": "Ann"})
        self.assertEqual((draft["stage"], draft["done"]), ("when", ["who"]))
        draft = self.flow.post(draft_id, "when", {}, action="back")
        self.assertEqual(draft["stage"], "who")
        draft = self.flow.post(draft_id, "who", {"who": "Ann"})
        draft = self.flow.post(draft_id, "when", {"days": "3"}, action="review")
        self.assertEqual(draft["stage"], "review")
        self.assertTrue(self.flow.creator.ready_for_review(draft))
        progress = self.flow.creator.progress(draft)
        self.assertEqual((progress.finished, progress.total, progress.percent), (2, 3, 67))
        self.assertEqual([s.state for s in progress.stages], ["done", "done", "current"])
        self.assertEqual([s.link for s in progress.stages], [True, True, False])
        self.assertEqual(self.flow.go(draft_id), {"who": "Ann", "days": "3"})
        with self.assertRaises(drafts.DraftNotFound):
            self.flow.creator.get(self.flow.session, draft_id, practice_id=1)

    def test_an_invalid_stage_stays_and_later_stages_cannot_be_visited(self) -> None:
        draft_id = self.flow.start()
        draft = self.flow.post(draft_id, "who", {"who": ""})
        self.assertEqual((draft["stage"], draft["done"]), ("who", []))
        self.assertTrue(self.flow.creator.can_visit(draft, "who"))
        self.assertFalse(self.flow.creator.can_visit(draft, "when"))
        self.assertFalse(self.flow.creator.can_visit(draft, "review"))
        # Review is refused until every stage before it is done: Next is taken instead.
        self.flow.post(draft_id, "who", {"who": "Ann"})
        draft = self.flow.post(draft_id, "who", {"who": "Ann"}, action="review")
        self.assertEqual(draft["stage"], "when")

    def test_a_stage_builds_and_cleans_only_its_own_form_once(self) -> None:
        draft_id = self.flow.start()
        self.flow.post(draft_id, "who", {"who": "Ann"})
        self.assertEqual((WhoForm.built, WhoForm.cleaned), (1, 1))
        self.assertEqual((WhenForm.built, WhenForm.cleaned), (0, 0))

    def test_drafts_expire_and_belong_to_one_practice(self) -> None:
        draft_id = self.flow.start()
        with self.assertRaises(drafts.DraftNotFound):
            self.flow.creator.get(self.flow.session, draft_id, practice_id=2)
        self.flow.clock.now += 61
        with self.assertRaises(drafts.DraftNotFound):
            self.flow.creator.get(self.flow.session, draft_id, practice_id=1)

    def test_starting_more_than_the_limit_drops_the_oldest(self) -> None:
        first = self.flow.start()
        self.flow.clock.now += 1
        second = self.flow.start()
        self.flow.clock.now += 1
        third = self.flow.start()
        self.assertEqual(set(self.flow.session["flows"]), {second, third})
        self.assertNotIn(first, self.flow.session["flows"])

    def test_a_got_draft_is_a_copy_until_saved(self) -> None:
        draft_id = self.flow.start()
        draft = self.flow.creator.get(self.flow.session, draft_id, practice_id=1)
        draft["values"]["who"] = {"who": "changed"}
        again = self.flow.creator.get(self.flow.session, draft_id, practice_id=1)
        self.assertEqual(again["values"], {})
