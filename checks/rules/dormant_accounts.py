"""Dormant accounts: accounts with no activity since a date (default six months before the run).

Activity is a ledger line coded to the account; for a bank account also a transaction
through it or a statement line on it. System accounts and archived ones are left out. One
finding per account: "account:12"; an account never used says so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db.models import DateField, OuterRef, Q, Subquery

from checks.models import BankStatementLine, Finding, LedgerAccount, Transaction, TransactionLine
from checks.rules.base import (
    MAX_FINDINGS,
    Check,
    FindingData,
    Rules,
    account_label,
    ledger,
    months_before,
)


@dataclasses.dataclass(frozen=True)
class DormantAccountRules(Rules):
    months: int = 6  # no activity in this many months before the run
    since: str = ""  # or from this date (ISO), when given

    def errors(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if not isinstance(self.months, int) or not 1 <= self.months <= 120:
            errors["months"] = ["Give a number of months from 1 to 120."]
        if self.since:
            try:
                dt.date.fromisoformat(self.since)
            except (TypeError, ValueError):
                errors["since"] = ["Give a date (YYYY-MM-DD)."]
        return errors

    def since_date(self, today: dt.date) -> dt.date:
        return (
            dt.date.fromisoformat(self.since) if self.since else months_before(today, self.months)
        )


def _latest(queryset, field: str = "date") -> Subquery:
    # ORDER BY date DESC LIMIT 1 per account reads one entry of the (client, account, date)
    # index instead of aggregating the account's lines.
    return Subquery(queryset.order_by(f"-{field}").values(field)[:1], output_field=DateField())


def run(client, rules: DormantAccountRules, today: dt.date) -> list[FindingData]:
    since = rules.since_date(today)
    lines = ledger(TransactionLine, client).filter(account=OuterRef("pk"))
    accounts = (
        ledger(LedgerAccount, client)
        .filter(is_system=False, archived=False)
        .annotate(last_line=_latest(lines))
    )
    bank = Q(type=LedgerAccount.Type.BANK)
    through = ledger(Transaction, client).filter(bank_account=OuterRef("pk"))
    statements = ledger(BankStatementLine, client).filter(bank_account=OuterRef("pk"))
    accounts = accounts.annotate(
        last_bank=_latest(through), last_statement=_latest(statements)
    ).filter(
        (Q(last_line__isnull=True) | Q(last_line__lt=since))
        & (~bank | ((Q(last_bank__isnull=True) | Q(last_bank__lt=since))
                    & (Q(last_statement__isnull=True) | Q(last_statement__lt=since))))
    )  # fmt: skip
    findings = []
    for account in accounts.order_by("code")[: MAX_FINDINGS + 1]:
        dates = [d for d in (account.last_line, account.last_bank, account.last_statement) if d]
        last = max(dates) if dates else None
        findings.append(
            FindingData(
                fingerprint=f"account:{account.pk}",
                severity=Finding.Severity.INFO,
                title=f"{account_label(account)} has had no activity since {since:%-d %b %Y}",
                detail=f"Last used {last:%-d %b %Y}." if last else "Never used.",
                rows={"checks.ledgeraccount": [account.pk]},
            )
        )
    return findings


CHECK = Check(
    key="dormant_accounts",
    name="Dormant accounts",
    description=(
        "Accounts with no activity in the six months before the run (system accounts left "
        "out): candidates for archiving."
    ),
    weight=6,
    rules_class=DormantAccountRules,
    run=run,
)
