"""BaseTestCase: a practice with one member of every role, and an outsider from another."""

from __future__ import annotations

from django.test import TestCase
from django_scopes import scopes_disabled

from sodium.roles import Role
from tests import factories as f


class BaseTestCase(TestCase):
    """Personas: owner, admin, manager, staff, ar_manager, ar_specialist in `practice`;
    `outsider` owns `other_practice`, which has its own client, contact and task."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.practice = f.PracticeFactory(name="Ledger & Co")
        cls.other_practice = f.PracticeFactory(name="Rival Accountants")
        members = {}
        for role in Role:
            members[role] = f.MembershipFactory(practice=cls.practice, role=role)
        cls.owner = members[Role.OWNER].user
        cls.admin = members[Role.ADMIN].user
        cls.manager = members[Role.MANAGER].user
        cls.staff = members[Role.STAFF].user
        cls.ar_manager = members[Role.AR_MANAGER].user
        cls.ar_specialist = members[Role.AR_SPECIALIST].user
        cls.memberships = members
        cls.outsider = f.MembershipFactory(practice=cls.other_practice, role=Role.OWNER).user
        cls.other_client = f.ClientFactory(practice=cls.other_practice, name="Rival Secret Client")

    def setUp(self) -> None:
        # Test bodies read rows directly; requests still run inside the middleware's scope.
        # A cleanup (not tearDown) so the scope is closed even when a subclass's setUp fails.
        scopes = scopes_disabled()
        scopes.__enter__()
        self.addCleanup(scopes.__exit__, None, None, None)
