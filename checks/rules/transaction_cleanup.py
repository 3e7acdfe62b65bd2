"""Transaction clean-up: lines left on the uncategorised / suspense account, and transactions
without a contact.

The suspense accounts are recognised by name or code (documented in `is_suspense`): a name
containing "suspense", "uncategorised" / "uncategorized" or "unallocated", or Xero's and
QuickBooks' usual codes 9999 / "Ask My Accountant". One finding per transaction on such an
account ("suspense:tx:17") and per invoice, bill, credit note or bank payment with no
contact ("no-contact:tx:18"); journals and transfers have no contact and are left out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db.models import Count, Q, Sum

from checks.models import Finding, LedgerAccount, Transaction, TransactionLine
from checks.rules.base import (
    MAX_FINDINGS,
    Check,
    FindingData,
    Rules,
    account_label,
    ledger,
    live_transactions,
    money,
    months_before,
)

K = Transaction.Kind
CONTACT_KINDS = (*Transaction.SALES_KINDS, *Transaction.PURCHASE_KINDS)
SUSPENSE_NAMES = ("suspense", "uncategorised", "uncategorized", "unallocated", "ask my accountant")
SUSPENSE_CODES = ("9999",)


def suspense_accounts(client):
    """Return the client's suspense / uncategorised accounts (by name or code)."""
    by_name = Q()
    for word in SUSPENSE_NAMES:
        by_name |= Q(name__icontains=word)
    return ledger(LedgerAccount, client).filter(by_name | Q(code__in=SUSPENSE_CODES))


@dataclasses.dataclass(frozen=True)
class TransactionCleanupRules(Rules):
    history_months: int = 12  # transactions of the last N months
    suspense: bool = True
    missing_contact: bool = True

    def errors(self) -> dict[str, list[str]]:
        if not isinstance(self.history_months, int) or not 1 <= self.history_months <= 120:
            return {"history_months": ["Give a number of months from 1 to 120."]}
        return {}


def run(client, rules: TransactionCleanupRules, today: dt.date) -> list[FindingData]:
    since = months_before(today, rules.history_months)
    findings: list[FindingData] = []
    labels = dict(K.choices)
    if rules.suspense:
        accounts = {a.pk: a for a in suspense_accounts(client)}
        on_suspense = (
            ledger(TransactionLine, client)
            .filter(account_id__in=list(accounts), date__gte=since, date__lte=today)
            .exclude(transaction__status__in=[Transaction.Status.VOIDED, Transaction.Status.DRAFT])
            .values("transaction_id", "account_id", "date", "kind")
            .annotate(n=Count("id"), amount=Sum("net"))
            .order_by("date", "transaction_id")[: MAX_FINDINGS + 1]
        )
        for row in on_suspense if accounts else ():
            account = accounts[row["account_id"]]
            findings.append(
                FindingData(
                    fingerprint=f"suspense:tx:{row['transaction_id']}",
                    severity=Finding.Severity.AMBER,
                    title=f"{labels[row['kind']]} of {row['date']:%-d %b %Y} is on "
                    f"{account_label(account)}",
                    detail=f"{row['n']} line{'s' * (row['n'] != 1)}, {money(row['amount'])}.",
                    rows={"checks.transaction": [row["transaction_id"]]},
                )
            )
    if rules.missing_contact:
        missing = (
            live_transactions(client)
            .filter(kind__in=CONTACT_KINDS, contact__isnull=True, date__gte=since, date__lte=today)
            .order_by("date", "id")
            .values_list("id", "kind", "date", "number", "total")[: MAX_FINDINGS + 1]
        )
        for pk, kind, date, number, total in missing:
            findings.append(
                FindingData(
                    fingerprint=f"no-contact:tx:{pk}",
                    severity=Finding.Severity.AMBER,
                    title=f"{labels[kind]} {number or f'#{pk}'} of {date:%-d %b %Y} has no contact",
                    detail=f"{money(total)}.",
                    rows={"checks.transaction": [pk]},
                )
            )
    return findings


CHECK = Check(
    key="transaction_cleanup",
    name="Transaction clean-up",
    description=(
        "Transactions of the last 12 months left on the suspense / uncategorised account, and "
        "invoices, bills and bank payments without a contact."
    ),
    weight=10,
    rules_class=TransactionCleanupRules,
    run=run,
)
