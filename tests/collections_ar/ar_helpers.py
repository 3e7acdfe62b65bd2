"""Shared setup for the AR tests: a practice with its default statuses and one customer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django_scopes import scopes_disabled

from collections_ar import engine, statuses
from collections_ar.models import Invoice
from tests import factories as f
from tests.base import BaseTestCase

TODAY = dt.date(2026, 12, 3)


class ARTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            statuses.ensure_default_statuses(cls.practice)
            statuses.ensure_default_statuses(cls.other_practice)
            cls.acme = f.ClientFactory(practice=cls.practice, name="Acme Widgets")
            cls.customer = engine.get_or_create_customer(cls.acme, actor=cls.owner)

    def invoice(self, number: str = "INV-1", total: str = "100.00", customer=None, **kw) -> Invoice:
        kw.setdefault("issue_date", TODAY - dt.timedelta(days=40))
        kw.setdefault("due_date", TODAY - dt.timedelta(days=10))
        return engine.create_invoice(
            customer or self.customer,
            actor=self.owner,
            number=number,
            total=Decimal(total),
            **kw,
        )
