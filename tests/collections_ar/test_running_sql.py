"""The hand-written statement of `collections_ar.running` (settling a batch's runs) is scoped
to one practice and names no table by hand."""

from __future__ import annotations

import datetime as dt
import inspect
import re
from decimal import Decimal

from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled

from collections_ar import assigning, engine, running, statuses
from collections_ar.builder import editing
from collections_ar.models import ActionRun
from tests import factories as f
from tests.base import BaseTestCase
from tests.sodium.test_sql_scoping import ScopedSqlMixin

RS = ActionRun.State


class SettleInTwoPractices(ScopedSqlMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        scopes = scopes_disabled()
        scopes.__enter__()
        self.addCleanup(scopes.__exit__, None, None, None)
        self.mine = self.runs(self.practice, self.owner)
        self.theirs = self.runs(self.other_practice, self.outsider)

    def runs(self, practice, actor) -> list[ActionRun]:
        statuses.ensure_default_statuses(practice)
        client = f.ClientFactory(practice=practice)
        f.ContactFactory(client=client, first_name="Ann", email="ann@x.example", is_billing=True)
        customer = engine.get_or_create_customer(client, actor=actor)
        engine.create_invoice(
            customer,
            actor=actor,
            number="INV-1",
            total=Decimal("100.00"),
            issue_date=dt.date(2026, 11, 1),
            due_date=dt.date(2026, 11, 20),
        )
        workflow = editing.create_workflow(practice, actor=actor, name="Chase")
        for n in range(2):
            editing.add_action(
                workflow, actor=actor, kind="email", base="assigned", days=n, subject="S", body="B"
            )
        engine.switch_workflow(workflow, actor=actor, on=True)
        assigning.assign_workflow([customer], workflow, actor=actor, on=dt.date(2026, 12, 7))
        return list(ActionRun.objects.filter(practice=practice).order_by("pk"))

    def test_it_settles_only_its_practices_pending_runs(self) -> None:
        now = timezone.now()
        first, second = self.mine
        ActionRun.objects.filter(pk=second.pk).update(state=RS.CANCELLED)
        outcome = {
            first.pk: (RS.DONE, "Emailed ann@x.example"),
            second.pk: (RS.DONE, "not pending: left as it is"),
            self.theirs[0].pk: (RS.SKIPPED, "another practice's run"),
        }
        with CaptureQueriesContext(connection) as context:
            running._settle(self.practice, outcome, now)
        first.refresh_from_db()
        self.assertEqual(
            (first.state, first.detail, first.done_at), (RS.DONE, outcome[first.pk][1], now)
        )
        second.refresh_from_db()
        self.assertEqual((second.state, second.detail), (RS.CANCELLED, ""))
        for run in self.theirs:
            run.refresh_from_db()
            self.assertEqual((run.state, run.detail, run.done_at), (RS.PENDING, "", None))
        statements = self.captured(context, "UPDATE")
        self.assertEqual(len(statements), 2)  # one per state
        for statement in statements:
            self.assert_scoped(statement, "", self.practice.pk)

    def test_it_names_no_table_by_hand(self) -> None:
        source = inspect.getsource(running)
        tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
        self.assertEqual({t for t in tables if re.search(rf"\b{re.escape(t)}\b", source)}, set())
