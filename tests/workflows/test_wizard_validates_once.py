"""Saving a wizard stage builds and cleans that stage's form once, and no other stage's."""

from __future__ import annotations

from collections import Counter
from unittest import mock

from tests.workflows.test_wizard import WizardTestCase
from workflows.wizard.forms import StageForm

EMAIL_STAGES = {
    "name": {"name": "Ask for records"},
    "content": {"source": "inline", "subject": "Hello", "body": "Hi."},
    "recipients": {"to_recipients": ["contact:main"]},
}


class StageValidatesOnceTests(WizardTestCase):
    def count_forms(self, draft_id: str, stage: str, data: dict) -> tuple[Counter, Counter]:
        built: Counter = Counter()
        cleaned: Counter = Counter()
        init, full_clean = StageForm.__init__, StageForm.full_clean

        def counting_init(form, *args, **kwargs):
            built[type(form).__name__] += 1
            init(form, *args, **kwargs)

        def counting_clean(form):
            cleaned[type(form).__name__] += 1
            full_clean(form)

        with (
            mock.patch.object(StageForm, "__init__", counting_init),
            mock.patch.object(StageForm, "full_clean", counting_clean),
        ):
            r = self.next(draft_id, stage, data)
        self.assertEqual(r.status_code, 302, r.content.decode()[:1000])
        return built, cleaned

    def test_a_valid_stage_cleans_only_its_own_form_once(self) -> None:
        draft_id = self.walk("email", EMAIL_STAGES)
        built, cleaned = self.count_forms(draft_id, "behaviour", {"mode": "manual"})
        self.assertEqual(built, Counter({"BehaviourForm": 1}))
        self.assertEqual(cleaned, Counter({"BehaviourForm": 1}))

    def test_the_first_stage_cleans_only_its_own_form_once(self) -> None:
        draft_id = self.start("email")
        built, cleaned = self.count_forms(draft_id, "name", {"name": "Ask"})
        self.assertEqual(built, Counter({"NameForm": 1}))
        self.assertEqual(cleaned, Counter({"NameForm": 1}))
