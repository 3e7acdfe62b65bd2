"""A small hand-made ledger for the checks' tests: `Ledger(client).account(...)`, `.tx(...)`."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django_scopes import scopes_disabled

from checks.models import (
    BankStatementLine,
    LedgerAccount,
    LedgerContact,
    LockDate,
    Transaction,
    TransactionLine,
)

_seq = itertools.count(1)


def D(value) -> Decimal:  # noqa: N802 - reads like the Decimal it builds
    return Decimal(str(value))


class Ledger:
    """Build one client's ledger row by row, outside any practice scope."""

    def __init__(self, client) -> None:
        self.client = client
        self.practice_id = client.practice_id

    def _own(self) -> dict:
        return {"practice_id": self.practice_id, "client": self.client}

    def account(
        self, code: str, name: str = "", type: str = "expense", *, is_system: bool = False, **kw
    ) -> LedgerAccount:
        with scopes_disabled():
            return LedgerAccount.objects.create(
                **self._own(), code=code, name=name or f"Account {code}", type=type,
                is_system=is_system, **kw,
            )  # fmt: skip

    def contact(self, name: str, *, customer: bool = False, supplier: bool = False, **kw):
        with scopes_disabled():
            return LedgerContact.objects.create(
                **self._own(), name=name, is_customer=customer, is_supplier=supplier, **kw
            )

    def tx(
        self,
        kind: str,
        date: dt.date,
        *,
        contact: LedgerContact | None = None,
        lines: list[tuple] = (),
        total=None,
        bank_account: LedgerAccount | None = None,
        **kw,
    ) -> Transaction:
        """Add a transaction; `lines` are (account, net[, tax[, tax_rate]])."""
        n = next(_seq)
        parts = [(line + (0, "")[len(line) - 2 :])[:4] for line in lines]
        net = sum((D(p[1]) for p in parts), D(0))
        tax = sum((D(p[2]) for p in parts), D(0))
        with scopes_disabled():
            t = Transaction.objects.create(
                **self._own(), kind=kind, source_key=f"{kind}:T{n}", number=f"T{n}", date=date,
                contact=contact, bank_account=bank_account,
                total=D(total) if total is not None else net + tax, tax_total=tax, **kw,
            )  # fmt: skip
            TransactionLine.objects.bulk_create(
                TransactionLine(
                    **self._own(),
                    transaction=t,
                    line_no=i,
                    account=account,
                    account_code=account.code if account else "",
                    tax_rate=rate,
                    net=D(line_net),
                    tax=D(line_tax),
                    date=date,
                    kind=kind,
                    contact=contact,
                )  # fmt: skip
                for i, (account, line_net, line_tax, rate) in enumerate(parts, start=1)
            )
        return t

    def statement_line(self, bank: LedgerAccount, date: dt.date, amount, *, reconciled=False):
        with scopes_disabled():
            return BankStatementLine.objects.create(
                **self._own(), bank_account=bank, source_key=f"S{next(_seq)}", date=date,
                amount=D(amount), reconciled=reconciled,
            )  # fmt: skip

    def lock(self, date: dt.date, **kw) -> LockDate:
        with scopes_disabled():
            return LockDate.objects.create(**self._own(), lock_date=date, **kw)


# The run's day in the checks' tests: a Friday, in a month whose last complete month is May.
TODAY = dt.date(2025, 6, 20)


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def run_check(check, client, today: dt.date = TODAY, **rules):
    """Run one check with its default rules changed by `rules`; return its findings."""
    import dataclasses

    rules_obj = dataclasses.replace(check.default_rules(), **rules)
    assert rules_obj.errors() == {}, rules_obj.errors()
    return check.run(client, rules_obj, today)


def summary(findings) -> list[tuple[str, str]]:
    """Return (fingerprint, severity) of each finding, sorted."""
    return sorted((f.fingerprint, f.severity) for f in findings)
