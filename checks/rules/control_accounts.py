"""Control accounts: the directors' loan account overdrawn, and payroll control accounts
(PAYE, net wages, pension) not back to zero after the last complete month.

Accounts are recognised by name, case-insensitively, among the client's liability and
current-liability (and, for the loan, current-asset) accounts — the names Xero's and
QuickBooks' UK charts use:

- directors' loan: a name containing "director" and "loan" (Directors' Loan Account,
  Director's loan, Directors Current Account is *not* matched);
- PAYE: "PAYE" or "national insurance" / "NIC" / "HMRC PAYE";
- net wages: "net wages", "wages payable" or "wages control" / "salaries payable";
- pension: "pension" with "payable", "control" or "liability".

A balance is the sum of the account's lines, debit positive (`base.debit_net`). The loan
account is overdrawn when its balance is a debit (the director owes the company): red over
£10,000, amber at £10,000 or less. A payroll control account's balance at the end of the last
complete month should be nil (the month's payroll journal and payment clear it): amber when
it is not. One finding per account: "dla:12", "payroll:13".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from django.db.models import Q, Sum

from checks.models import Finding, LedgerAccount, TransactionLine
from checks.rules.base import (
    Check,
    FindingData,
    Rules,
    account_label,
    debit_net,
    last_month_end,
    ledger,
    money,
)

T = LedgerAccount.Type
LIABILITIES = (T.CURRENT_LIABILITY, T.LIABILITY, T.NON_CURRENT_LIABILITY)
PATTERNS: dict[str, Q] = {
    "dla": Q(name__icontains="director") & Q(name__icontains="loan"),
    "paye": Q(name__icontains="paye")
    | Q(name__icontains="national insurance")
    | Q(name__iregex=r"(^|[^a-z])nic([^a-z]|$)"),
    "net_wages": Q(name__icontains="net wages")
    | Q(name__icontains="wages payable")
    | Q(name__icontains="wages control")
    | Q(name__icontains="salaries payable"),
    "pension": Q(name__icontains="pension")
    & (Q(name__icontains="payable") | Q(name__icontains="control") | Q(name__icontains="liab")),
}
KIND_WORDS = {"paye": "PAYE", "net_wages": "Net wages", "pension": "Pension"}


@dataclasses.dataclass(frozen=True)
class ControlAccountRules(Rules):
    loan_red_over: Decimal = Decimal("10000")
    payroll: bool = True

    def errors(self) -> dict[str, list[str]]:
        try:
            limit = Decimal(str(self.loan_red_over))
        except ArithmeticError:
            return {"loan_red_over": ["Give an amount."]}
        if limit < 0:
            return {"loan_red_over": ["Give an amount of £0 or more."]}
        return {}


def control_accounts(client) -> dict[str, list[LedgerAccount]]:
    """Return the client's control accounts by kind ("dla", "paye", "net_wages", "pension")."""
    found: dict[str, list[LedgerAccount]] = {k: [] for k in PATTERNS}
    candidates = ledger(LedgerAccount, client).filter(
        Q(type__in=LIABILITIES) | Q(type=T.CURRENT_ASSET, name__icontains="loan")
    )
    match = Q()
    for q in PATTERNS.values():
        match |= q
    for account in candidates.filter(match).order_by("code"):
        low = account.name.lower()
        if "director" in low and "loan" in low:
            found["dla"].append(account)
        elif account.type in LIABILITIES:
            found[_payroll_kind(low)].append(account)
    return found


def _payroll_kind(low: str) -> str:
    if "pension" in low:
        return "pension"
    if "wages" in low or "salaries" in low:
        return "net_wages"
    return "paye"


def run(client, rules: ControlAccountRules, today: dt.date) -> list[FindingData]:
    found = control_accounts(client)
    month_end = last_month_end(today)
    payroll_ids = [a.pk for k in KIND_WORDS for a in found[k]] if rules.payroll else []
    dla_ids = [a.pk for a in found["dla"]]
    if not (payroll_ids or dla_ids):
        return []
    balances = {
        row["account_id"]: row
        for row in ledger(TransactionLine, client)
        .filter(account_id__in=dla_ids + payroll_ids)
        .values("account_id")
        .annotate(
            now=Sum(debit_net(), filter=Q(date__lte=today)),
            month_end=Sum(debit_net(), filter=Q(date__lte=month_end)),
        )
        .order_by()
    }
    findings = []
    limit = Decimal(str(rules.loan_red_over))
    for account in found["dla"]:
        balance = (balances.get(account.pk) or {}).get("now") or Decimal(0)
        if balance > 0:
            findings.append(
                FindingData(
                    fingerprint=f"dla:{account.pk}",
                    severity=Finding.Severity.RED if balance > limit else Finding.Severity.AMBER,
                    title=f"{account_label(account)} is overdrawn by {money(balance)}",
                    detail=(
                        "The director owes the company (a debit balance). Over "
                        f"{money(limit)} is red: a beneficial loan and section 455 tax to "
                        "consider."
                    ),
                    rows={"checks.ledgeraccount": [account.pk]},
                )
            )
    if payroll_ids:
        for kind, words in KIND_WORDS.items():
            for account in found[kind]:
                balance = (balances.get(account.pk) or {}).get("month_end") or Decimal(0)
                if balance != 0:
                    findings.append(
                        FindingData(
                            fingerprint=f"payroll:{account.pk}",
                            severity=Finding.Severity.AMBER,
                            title=f"{words} control {account_label(account)} is not back to "
                            f"zero at {month_end:%-d %b %Y}",
                            detail=f"Balance {money(balance)} (debit positive).",
                            rows={"checks.ledgeraccount": [account.pk]},
                        )
                    )
    return findings


CHECK = Check(
    key="control_accounts",
    name="Control accounts",
    description=(
        "The directors' loan account overdrawn (red over £10,000, amber under), and PAYE, net "
        "wages and pension control accounts not back to zero at the end of the last complete "
        "month."
    ),
    weight=15,
    rules_class=ControlAccountRules,
    run=run,
)
