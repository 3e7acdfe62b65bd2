"""Duplicate transactions: the same contact and amount, of the same kind, within ±N days.

Invoices and bills by default; bank spend / receive when asked. One finding per group of
duplicates (transactions of one contact, kind and total whose dates chain within the
window), fingerprinted by the group's transaction ids: "duplicate:tx:17,tx:29".

A transaction has a twin when its neighbour in date order among the transactions of its
contact, kind and total is within the window: one pass of `lag` / `lead` window functions
over the (practice, client, contact, kind, total, date, id, status) index, read in its order
(an index-only scan, no sort), rather than a probe for a twin per transaction. Only the
flagged ids reach the second query, which reads their numbers and contacts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from itertools import groupby

from django.db.models import DateField, ExpressionWrapper, F, Q, Window
from django.db.models.functions import Lag, Lead

from checks.models import Finding, Transaction
from checks.rules.base import MAX_FINDINGS, Check, FindingData, Rules, live_transactions, money

K = Transaction.Kind
WINDOWS = (3, 5, 7, 13, 31)
INVOICE_KINDS = (K.SALES_INVOICE, K.BILL)
BANK_KINDS = (K.BANK_SPEND, K.BANK_RECEIVE)


@dataclasses.dataclass(frozen=True)
class DuplicateTransactionRules(Rules):
    window_days: int = 5
    invoices_and_bills: bool = True
    bank_transactions: bool = False

    def errors(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if self.window_days not in WINDOWS:
            errors["window_days"] = [f"Choose one of {', '.join(map(str, WINDOWS))} days."]
        if not (self.invoices_and_bills or self.bank_transactions):
            errors["invoices_and_bills"] = ["Check invoices and bills, bank transactions or both."]
        return errors

    @property
    def kinds(self) -> tuple[str, ...]:
        return (INVOICE_KINDS if self.invoices_and_bills else ()) + (
            BANK_KINDS if self.bank_transactions else ()
        )


def run(client, rules: DuplicateTransactionRules, today: dt.date) -> list[FindingData]:
    window = dt.timedelta(days=rules.window_days)
    base = live_transactions(client).filter(kind__in=rules.kinds, contact__isnull=False)
    order = {
        "partition_by": [F("contact_id"), F("kind"), F("total")],
        "order_by": [F("date").asc(), F("id").asc()],
    }
    day = DateField()
    with_twin = (
        base.annotate(
            previous=Window(Lag("date"), **order),
            following=Window(Lead("date"), **order),
        )
        .filter(
            Q(previous__gte=ExpressionWrapper(F("date") - window, output_field=day))
            | Q(following__lte=ExpressionWrapper(F("date") + window, output_field=day))
        )
        .order_by()  # the window's order is the index's; another would sort them all again
        .values_list("id", flat=True)
    )
    flagged_ids = list(with_twin[: MAX_FINDINGS * 4])
    # Only the transactions that have a twin reach Python; they are chained into groups here.
    flagged = list(
        base.filter(pk__in=flagged_ids)
        .order_by("contact_id", "kind", "total", "date", "id")
        .values_list("id", "contact_id", "contact__name", "kind", "total", "date", "number")
    )
    findings = []
    labels = dict(K.choices)
    for (_, name, kind, total), rows in groupby(flagged, key=lambda r: r[1:5]):
        group: list[tuple] = []
        for row in list(rows) + [None]:
            if row is not None and group and row[5] - group[-1][5] <= window:
                group.append(row)
                continue
            if len(group) > 1:
                findings.append(_finding(group, name, labels[kind], total))
            group = [row] if row is not None else []
    return findings


def _finding(group: list[tuple], contact: str, kind: str, total) -> FindingData:
    tx_ids = sorted(r[0] for r in group)
    numbers = ", ".join(r[6] or f"#{r[0]}" for r in group)
    days = ", ".join(r[5].strftime("%-d %b %Y") for r in group)
    return FindingData(
        fingerprint="duplicate:" + ",".join(f"tx:{i}" for i in tx_ids),
        severity=Finding.Severity.AMBER,
        title=f"Possible duplicate {kind.lower()}s: {contact}, {money(total)} ({len(group)})",
        detail=f"{numbers} dated {days}.",
        rows={"checks.transaction": tx_ids},
    )


CHECK = Check(
    key="duplicate_transactions",
    name="Duplicate transactions",
    description=(
        "Transactions of the same kind with the same contact and amount dated within a few "
        "days of each other (±5 days unless changed; invoices and bills, bank transactions "
        "when asked)."
    ),
    weight=12,
    rules_class=DuplicateTransactionRules,
    run=run,
)
