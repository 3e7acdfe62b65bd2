"""Shared setup for the customers tab and the assignment views: ON and OFF workflows, and
customers that the workflows' emails and texts can reach (or not)."""

from __future__ import annotations

from collections_ar import engine
from collections_ar.builder import editing
from tests import factories as f
from tests.collections_ar.ar_helpers import ARTestCase


class AssignTestCase(ARTestCase):
    def setUp(self) -> None:
        super().setUp()
        f.ContactFactory(
            client=self.acme,
            first_name="Ellie",
            last_name="Ali",
            email="ellie@acme.example",
            mobile="07700 900123",
            is_billing=True,
        )
        self.chase = self.workflow("Chase", sms=True)
        self.gentle = self.workflow("Gentle")
        self.dormant = self.workflow("Dormant", on=False)

    def workflow(self, name: str, *, sms: bool = False, on: bool = True):
        wf = editing.create_workflow(self.practice, actor=self.owner, name=name)
        editing.add_action(
            wf, actor=self.owner, kind="email", base="assigned", days=0, subject="Hi", body="Pay"
        )
        if sms:
            editing.add_action(
                wf, actor=self.owner, kind="sms", base="assigned", days=3, body="Please pay."
            )
        editing.add_action(wf, actor=self.owner, kind="call", base="assigned", days=7, body="")
        if on:
            engine.switch_workflow(wf, actor=self.owner, on=True)
        return wf

    def customer_named(self, name: str, *, mobile: str = "07700 900456", email: bool = True):
        client = f.ClientFactory(practice=self.practice, name=name)
        f.ContactFactory(
            client=client,
            first_name="Sam",
            last_name=name.split()[0],
            email=f"sam@{name.split()[0].lower()}.example" if email else "",
            mobile=mobile,
            is_billing=True,
        )
        return engine.get_or_create_customer(client, actor=self.owner)
