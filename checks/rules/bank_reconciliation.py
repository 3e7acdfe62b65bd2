"""Bank reconciliation: unreconciled statement lines per bank account, in age bands.

A line's age is the days from its date to the run's day. Bands: under 15 days, 15–30 days,
over 30 days. One finding per bank account with unreconciled lines ("bank:7"): red when any
line is over 30 days old, amber when any is 15–30 days old, info when all are newer.
The database counts the bands (one grouped query with conditional counts).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db.models import Count, Min, Q, Sum

from checks.models import BankStatementLine, Finding, LedgerAccount
from checks.rules.base import Check, FindingData, Rules, account_label, ledger, money


@dataclasses.dataclass(frozen=True)
class BankReconciliationRules(Rules):
    amber_days: int = 15  # a line this many days old or more is amber
    red_days: int = 30  # a line more than this many days old is red

    def errors(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if not isinstance(self.amber_days, int) or self.amber_days < 1:
            errors["amber_days"] = ["Give a number of days, at least 1."]
        elif not isinstance(self.red_days, int) or self.red_days < self.amber_days:
            errors["red_days"] = ["Give at least as many days as for amber."]
        return errors


def run(client, rules: BankReconciliationRules, today: dt.date) -> list[FindingData]:
    amber_from = today - dt.timedelta(days=rules.amber_days)  # dated on or before: amber
    red_before = today - dt.timedelta(days=rules.red_days)  # dated before: red
    bands = (
        ledger(BankStatementLine, client)
        .filter(reconciled=False, date__lte=today)
        .values("bank_account_id")
        .annotate(
            total=Count("id"),
            old=Count("id", filter=Q(date__lt=red_before)),
            middle=Count("id", filter=Q(date__gte=red_before, date__lte=amber_from)),
            amount=Sum("amount"),
            oldest=Min("date"),
        )
        .order_by("bank_account_id")
    )
    bands = list(bands)
    accounts = {
        a.pk: a
        for a in ledger(LedgerAccount, client).filter(pk__in=[b["bank_account_id"] for b in bands])
    }
    findings = []
    for b in bands:
        account = accounts[b["bank_account_id"]]
        recent = b["total"] - b["old"] - b["middle"]
        if b["old"]:
            severity = Finding.Severity.RED
        elif b["middle"]:
            severity = Finding.Severity.AMBER
        else:
            severity = Finding.Severity.INFO
        findings.append(
            FindingData(
                fingerprint=f"bank:{account.pk}",
                severity=severity,
                title=f"{b['total']} unreconciled statement line{'s' * (b['total'] != 1)} on "
                f"{account_label(account)}",
                detail=(
                    f"Under {rules.amber_days} days: {recent}; {rules.amber_days}–"
                    f"{rules.red_days} days: {b['middle']}; over {rules.red_days} days: "
                    f"{b['old']}. Net {money(b['amount'])}; oldest {b['oldest']:%-d %b %Y}."
                ),
                rows={"checks.ledgeraccount": [account.pk]},
            )
        )
    return findings


CHECK = Check(
    key="bank_reconciliation",
    name="Bank reconciliation",
    description=(
        "Unreconciled bank statement lines per bank account, by age: under 15 days, 15–30 "
        "days (amber) and over 30 days (red)."
    ),
    weight=20,
    rules_class=BankReconciliationRules,
    run=run,
)
