"""The step wizard gives every stage, the first one too, its initial focus on the heading."""

from __future__ import annotations

from django_scopes import scopes_disabled

from tests.base import BaseTestCase
from workflows import building

HEADING = 'id="wz-stage-heading" class="wz-heading" tabindex="-1" autofocus'


class WizardInitialFocusTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            template = building.create_template(
                practice=cls.practice, actor=cls.manager, name="Year end"
            )
            cls.group = template.groups.get()

    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.manager)

    def test_the_first_stage_focuses_its_heading(self) -> None:
        r = self.client.get(f"/workflows/groups/{self.group.pk}/wizard/")
        self.assertContains(r, HEADING)

    def test_a_later_stage_focuses_its_heading(self) -> None:
        r = self.client.post(f"/workflows/groups/{self.group.pk}/wizard/", {"type": "simple"})
        self.assertEqual(r.status_code, 302)
        self.assertContains(self.client.get(r["Location"]), HEADING)
