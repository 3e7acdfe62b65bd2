"""Choice fields given an id no database column can hold answer a field error, never a 500."""

from __future__ import annotations

import importlib
import pkgutil
from unittest import mock

from django import forms

import portal
import sodium
import workflows
from sodium import formfields
from sodium.models import Client, Team
from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.wf_factories import chain_template
from workflows import attach
from workflows.models import Step

HUGE = "12345678901234567890123"  # 23 digits: past a 64-bit signed integer


class ChoiceIdOverflowViewTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.tag = f.TagFactory(practice=self.practice)
        self.acme = f.ClientFactory(practice=self.practice, name="Acme", reference="ACME")
        self.client.force_login(self.owner)
        self.new_client = {
            "name": "Copperleaf Consulting Ltd",
            "reference": "COPP01",
            "type": "limited_company",
            "vat_periods": "none",
        }

    def test_a_huge_tag_id_on_a_new_client_is_a_field_error(self) -> None:
        for value in (HUGE, f"-{HUGE}"):
            r = self.client.post("/clients/new/", {**self.new_client, "tags": [value]})
            self.assertEqual(r.status_code, 200)
            self.assertIn("tags", r.context["form"].errors)
        self.assertFalse(Client.objects.filter(reference="COPP01").exists())

    def test_a_huge_tag_id_beside_a_real_one_on_an_edit_changes_nothing(self) -> None:
        r = self.client.post(
            f"/clients/{self.acme.pk}/edit/",
            {
                "name": "Acme Holdings",
                "reference": "ACME",
                "type": "llp",
                "vat_periods": "none",
                "tags": [self.tag.pk, HUGE],
            },
        )
        self.assertEqual(r.status_code, 200)
        self.assertIn("tags", r.context["form"].errors)
        self.acme.refresh_from_db()
        self.assertEqual(self.acme.name, "Acme")
        self.assertFalse(self.acme.tags.exists())

    def test_a_huge_member_id_on_a_client_manager_is_a_field_error(self) -> None:
        r = self.client.post("/clients/new/", {**self.new_client, "client_manager": HUGE})
        self.assertEqual(r.status_code, 200)
        self.assertIn("client_manager", r.context["form"].errors)
        self.assertFalse(Client.objects.filter(reference="COPP01").exists())

    def test_a_huge_member_id_on_a_new_team_is_a_field_error(self) -> None:
        for value in (HUGE, f"-{HUGE}"):
            r = self.client.post(
                "/settings/teams/new/", {"name": "Payroll", "members": [self.staff.pk, value]}
            )
            self.assertEqual(r.status_code, 200)
            self.assertIn("members", r.context["form"].errors)
        self.assertFalse(Team.objects.filter(practice=self.practice, name="Payroll").exists())

    def test_real_ids_still_save(self) -> None:
        r = self.client.post(
            "/settings/teams/new/", {"name": "Payroll", "members": [self.staff.pk]}
        )
        self.assertEqual(r.status_code, 302)
        team = Team.objects.get(practice=self.practice, name="Payroll")
        self.assertEqual(list(team.members.all()), [self.staff])


class OneOffStepOverflowTests(BaseTestCase):
    def test_a_huge_dependency_id_on_a_one_off_step_is_a_field_error(self) -> None:
        acme = f.ClientFactory(practice=self.practice)
        task = f.TaskFactory(client=acme, owner=self.staff, status="in_progress")
        with mock.patch("workflows.tasks.run_step_task.delay"):
            prepare, _email = attach.attach_template(
                task, chain_template(self.practice, self.manager), actor=self.manager
            )
        self.client.force_login(self.staff)
        before = Step.objects.filter(task=task).count()
        r = self.client.post(
            f"/workflows/tasks/{task.pk}/add-step/",
            {
                "group": prepare.group_id,
                "name": "Call the bank",
                "type": "simple",
                "mode": "manual",
                "depends_on": [prepare.pk, HUGE],
            },
        )
        self.assertEqual(r.status_code, 200)
        self.assertIn("depends_on", r.context["form"].errors)
        self.assertEqual(Step.objects.filter(task=task).count(), before)


def _project_forms() -> list[type[forms.BaseForm]]:
    for package in (sodium, portal, workflows):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if ".migrations" not in module.name and not module.name.endswith("settings"):
                importlib.import_module(module.name)
    found, todo = [], [forms.BaseForm]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in {"sodium", "portal", "workflows"}:
            found.append(cls)
    return found


class ModelChoiceFieldsUseTheGuardedClassesTests(BaseTestCase):
    def test_every_model_choice_field_in_the_project_refuses_out_of_range_ids(self) -> None:
        plain = []
        checked = 0
        for form in _project_forms():
            for name, field in form.base_fields.items():
                if isinstance(field, forms.ModelChoiceField):
                    checked += 1
                    if not isinstance(
                        field, (formfields.ModelChoiceField, formfields.ModelMultipleChoiceField)
                    ):
                        plain.append(f"{form.__module__}.{form.__name__}.{name}")
        self.assertGreater(checked, 10)
        self.assertEqual(plain, [])

    def test_it_tells_ids_out_of_range_apart_from_others(self) -> None:
        teams = Team.objects.filter(practice=self.practice)
        self.assertTrue(formfields.id_out_of_range(teams, "pk", HUGE))
        self.assertTrue(formfields.id_out_of_range(teams, "pk", f"-{HUGE}"))
        self.assertFalse(formfields.id_out_of_range(teams, "pk", str(2**63 - 1)))
        self.assertFalse(formfields.id_out_of_range(teams, "pk", "12"))
        self.assertFalse(formfields.id_out_of_range(teams, "pk", "twelve"))
        self.assertFalse(formfields.id_out_of_range(teams, "name", HUGE))
