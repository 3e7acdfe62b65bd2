"""Recipients by contact role resolve in the core; other kinds plug in by registration."""

from __future__ import annotations

from sodium.messaging import recipients
from tests import factories as f
from tests.base import BaseTestCase


class CoreRecipientsTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        client = f.ClientFactory(practice=self.practice)
        self.main = f.ContactFactory(client=client, is_main=True, email="Main@acorn.example")
        self.billing = f.ContactFactory(
            client=client, is_main=False, is_billing=True, email="bills@acorn.example"
        )
        self.contacts = [self.main, self.billing]

    def test_contact_roles_resolve_to_the_contacts_holding_them(self) -> None:
        out = recipients.resolve(["contact:main"], ["contact:billing"], contacts=self.contacts)
        self.assertEqual(
            (out.to, out.cc, out.missing), (["Main@acorn.example"], ["bills@acorn.example"], [])
        )

    def test_an_address_in_to_is_dropped_from_cc_whatever_its_case(self) -> None:
        out = recipients.resolve(
            ["contact:main"], ["email:main@ACORN.example"], contacts=self.contacts
        )
        self.assertEqual((out.to, out.cc), (["Main@acorn.example"], []))

    def test_a_role_nobody_holds_and_an_unknown_kind_are_missing(self) -> None:
        out = recipients.resolve(["contact:payroll", "nobody:x"], [], contacts=self.contacts)
        self.assertEqual((out.to, out.missing), ([], ["contact:payroll", "nobody:x"]))

    def test_a_registered_kind_resolves_with_what_the_caller_knows(self) -> None:
        recipients.register_resolver(
            "desk", lambda value, *, desk_of=None, **_: [f"{value}@{desk_of}"] if desk_of else []
        )
        self.addCleanup(recipients._RESOLVERS.pop, "desk")
        out = recipients.resolve(["desk:ar"], [], contacts=[], desk_of="hf.example")
        self.assertEqual(out.to, ["ar@hf.example"])
