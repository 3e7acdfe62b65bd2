"""Multi-coded contacts: a contact whose lines use more than one account (or tax rate).

Rules: "active during" (the contact has a line in the last N days, default 90), "starting
from" (lines counted from N months back, default 12), which side (sales, purchases or both,
each side judged on its own), account or tax rate, and the client's excluded code pairs (a
pair the client accepts, e.g. ["200", "260"]): a contact is flagged when two of the codes it
uses form a pair that is not excluded. One finding per contact and side: "contact:42:sales".

The database groups the lines by (contact, side, code); Python sees those groups only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from itertools import combinations

from django.db.models import Case, CharField, Count, Max, Value, When

from checks.models import Finding, LedgerAccount, LedgerContact, Transaction, TransactionLine
from checks.rules.base import Check, FindingData, Rules, ledger, months_before

SIDES = ("sales", "purchases")
BY = ("account", "tax")


@dataclasses.dataclass(frozen=True)
class MultiCodedContactRules(Rules):
    active_days: int = 90
    history_months: int = 12
    sides: tuple[str, ...] = SIDES
    by: str = "account"
    code_pairs: tuple[tuple[str, str], ...] = ()  # exclusions: pairs the client accepts

    def errors(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if not isinstance(self.active_days, int) or not 1 <= self.active_days <= 3660:
            errors["active_days"] = ["Give a number of days from 1 to 3660."]
        if not isinstance(self.history_months, int) or not 1 <= self.history_months <= 120:
            errors["history_months"] = ["Give a number of months from 1 to 120."]
        if not self.sides or set(self.sides) - set(SIDES):
            errors["sides"] = ["Choose sales, purchases or both."]
        if self.by not in BY:
            errors["by"] = ["Choose account or tax."]
        if any(
            len(p) != 2 or not all(isinstance(c, str) and c for c in p) for p in self.code_pairs
        ):
            errors["code_pairs"] = ["Each excluded pair is two codes."]
        return errors


def run(client, rules: MultiCodedContactRules, today: dt.date) -> list[FindingData]:
    since = months_before(today, rules.history_months)
    active_from = today - dt.timedelta(days=rules.active_days)
    kinds = {"sales": Transaction.SALES_KINDS, "purchases": Transaction.PURCHASE_KINDS}
    side = Case(
        *(When(kind__in=kinds[s], then=Value(s)) for s in rules.sides),
        output_field=CharField(),
    )
    code_field = ("account_id", "account_code") if rules.by == "account" else ("tax_rate",)
    groups = (
        ledger(TransactionLine, client)
        .filter(
            contact__isnull=False,
            date__gte=since,
            date__lte=today,
            kind__in=[k for s in rules.sides for k in kinds[s]],
        )
        .annotate(side=side)
        .values("contact_id", "side", *code_field)
        .annotate(lines=Count("id"), last=Max("date"))
        .order_by()
    )
    groups = list(groups)
    account_ids = {g["account_id"] for g in groups if g.get("account_id")}
    codes = (
        dict(ledger(LedgerAccount, client).filter(pk__in=account_ids).values_list("pk", "code"))
        if account_ids
        else {}
    )
    used: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    last: dict[tuple[int, str], dt.date] = {}
    for g in groups:
        if rules.by == "account":
            code = codes.get(g["account_id"]) or g["account_code"] or "(no account)"
        else:
            code = g["tax_rate"] or "(no tax rate)"
        key = (g["contact_id"], g["side"])
        used[key][code] += g["lines"]
        last[key] = max(last.get(key, g["last"]), g["last"])
    excluded = {frozenset(p) for p in rules.code_pairs}
    flagged = {
        key: codes_used
        for key, codes_used in used.items()
        if last[key] >= active_from
        and any(frozenset(p) not in excluded for p in combinations(sorted(codes_used), 2))
    }
    if not flagged:
        return []
    names = dict(
        ledger(LedgerContact, client)
        .filter(pk__in={c for c, _ in flagged})
        .values_list("pk", "name")
    )
    what = "accounts" if rules.by == "account" else "tax rates"
    findings = []
    for (contact_id, side_name), codes_used in sorted(flagged.items()):
        listed = ", ".join(f"{c} ({n} line{'s' * (n != 1)})" for c, n in sorted(codes_used.items()))
        findings.append(
            FindingData(
                fingerprint=f"contact:{contact_id}:{side_name}:{rules.by}",
                severity=Finding.Severity.AMBER,
                title=f"{names.get(contact_id, contact_id)} is coded to {len(codes_used)} "
                f"{what} ({side_name})",
                detail=f"Since {since:%-d %b %Y}: {listed}.",
                rows={"checks.ledgercontact": [contact_id]},
            )
        )
    return findings


CHECK = Check(
    key="multi_coded_contacts",
    name="Multi-coded contacts",
    description=(
        "Contacts active in the last 90 days whose sales or purchase lines of the last 12 "
        "months use more than one account (or tax rate), less the code pairs the client accepts."
    ),
    weight=8,
    rules_class=MultiCodedContactRules,
    run=run,
)
