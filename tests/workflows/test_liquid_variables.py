from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from collections_ar.messages import EMAIL_USE, NOTE_USE, SMS_USE
from sodium.messaging.docs import variables_markdown
from sodium.messaging.variables import uses, variables_of
from sodium.recurring import TASK_NAME_USE
from sodium.sms.messages import CONTACT_SMS
from tests.base import BaseTestCase
from tests.workflows.wf_factories import chain_template
from workflows import attach
from workflows.context import KNOWN_PATHS, VARIABLES, build_context


def built_by_build_context():
    """Return the variables of every use whose context build_context builds: all but the
    contact composer's texts, recurring task names, the flows digest and AR messages, which
    have their own builders (sodium.sms.messages, sodium.recurring, checks.flows.digest,
    collections_ar.messages)."""
    own_builders = {CONTACT_SMS, TASK_NAME_USE, "checks.flow_digest", *AR_USES}
    paths = {v.path for u in uses() if u.key not in own_builders for v in variables_of(u)}
    return [v for v in VARIABLES if v.path in paths]


AR_USES = (EMAIL_USE, SMS_USE, NOTE_USE)


class LiquidVariablesTests(BaseTestCase):
    def test_the_doc_in_the_repository_is_generated_from_the_code(self) -> None:
        out = StringIO()
        call_command("liquid_variables", "--check", stdout=out)
        self.assertIn("up to date", out.getvalue())

    def test_every_documented_variable_is_filled_by_the_builder(self) -> None:
        from tests import factories as f

        client = f.ClientFactory(practice=self.practice)
        f.ContactFactory(
            client=client,
            is_main=True,
            is_billing=True,
            is_payroll=True,
            is_accounts=True,
            is_director=True,
        )
        task = f.TaskFactory(client=client, owner=self.staff)
        step = attach.attach_template(
            task, chain_template(self.practice, self.owner), actor=self.owner
        )[0]
        context = build_context(practice=self.practice, client=client, task=task, step=step)
        for var in built_by_build_context():
            node = context
            for part in var.path.split("."):
                self.assertIn(part, node, var.path)
                node = node[part]
        self.assertTrue(set(KNOWN_PATHS) >= {v.path for v in VARIABLES})

    def test_the_token_picker_data_lists_every_variable(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get("/workflows/liquid-variables.json")
        paths = [v["path"] for v in r.json()["variables"]]
        self.assertEqual(paths, [v.path for v in VARIABLES])
        self.assertEqual(r.json()["variables"][0]["token"], "{{ practice.name }}")
        self.assertIn("`{{ client.name }}`", variables_markdown())
