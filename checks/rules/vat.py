"""VAT: purchases with VAT and no attachment, and taxable turnover near or over the
registration threshold.

- Purchases (bills and money spent) of the last 12 months with VAT on them and no
  attachment: amber, one finding per transaction ("no-receipt:tx:17"), because HMRC asks for
  the VAT invoice behind every claim.
- Taxable turnover of the last 12 months (the net of sales invoices and money received, less
  sales credit notes, on every tax rate but exempt and outside-the-scope ones) for a
  client that is not VAT registered (`Client.vat_periods` "none"): red when it is over the
  registration threshold in force on the run's day, amber when it is within 10 % below it
  (at or above 90 % of it). One finding: "turnover". The threshold is a dated setting,
  `REGISTRATION_THRESHOLDS`: £90,000 from 1 April 2024, £85,000 before.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, Sum

from checks.models import Finding, Transaction, TransactionLine
from checks.rules.base import (
    MAX_FINDINGS,
    Check,
    FindingData,
    Rules,
    debit_net,
    ledger,
    live_transactions,
    money,
    months_before,
)

K = Transaction.Kind
# (in force from, threshold), latest last.
REGISTRATION_THRESHOLDS: tuple[tuple[dt.date, Decimal], ...] = (
    (dt.date(2017, 4, 1), Decimal("85000")),
    (dt.date(2024, 4, 1), Decimal("90000")),
)
# Exempt and outside-the-scope sales are not taxable turnover. "No VAT" is: a business that
# is not registered charges no VAT on sales that would be taxable once it is, so its sales
# carry that rate (and turnover only matters for a client that is not registered).
NOT_TAXABLE = ("exempt", "outside", "not reportable")
PURCHASE_KINDS = (K.BILL, K.BANK_SPEND)


def registration_threshold(day: dt.date) -> Decimal:
    """Return the VAT registration threshold in force on `day`."""
    threshold = REGISTRATION_THRESHOLDS[0][1]
    for since, amount in REGISTRATION_THRESHOLDS:
        if day >= since:
            threshold = amount
    return threshold


@dataclasses.dataclass(frozen=True)
class VatRules(Rules):
    history_months: int = 12
    missing_attachments: bool = True
    threshold: bool = True
    warn_within_percent: int = 10

    def errors(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if not isinstance(self.history_months, int) or not 1 <= self.history_months <= 120:
            errors["history_months"] = ["Give a number of months from 1 to 120."]
        if not isinstance(self.warn_within_percent, int) or not 0 <= self.warn_within_percent < 100:
            errors["warn_within_percent"] = ["Give a percentage from 0 to 99."]
        return errors


def taxable_turnover(client, since: dt.date, today: dt.date) -> Decimal:
    """Return the client's taxable turnover of sales lines dated from `since` to `today`."""
    not_taxable = Q()
    for word in NOT_TAXABLE:
        not_taxable |= Q(tax_rate__icontains=word)
    total = (
        ledger(TransactionLine, client)
        .filter(
            kind__in=[K.SALES_INVOICE, K.BANK_RECEIVE, K.SALES_CREDIT_NOTE],
            date__gte=since,
            date__lte=today,
        )
        .exclude(not_taxable)
        # NOT EXISTS over the few voided and draft transactions, not a join of every line to
        # its transaction: on a million-line ledger this halves the query.
        .exclude(
            Exists(
                Transaction.objects.filter(
                    pk=OuterRef("transaction_id"),
                    status__in=[Transaction.Status.VOIDED, Transaction.Status.DRAFT],
                )
            )
        )
        .aggregate(credit=Sum(debit_net()))["credit"]
    )
    return -(total or Decimal(0))


def run(client, rules: VatRules, today: dt.date) -> list[FindingData]:
    since = months_before(today, rules.history_months)
    findings: list[FindingData] = []
    if rules.missing_attachments:
        missing = (
            live_transactions(client)
            .filter(
                kind__in=PURCHASE_KINDS,
                attachment_count=0,
                date__gte=since,
                date__lte=today,
            )
            .exclude(tax_total=0)
            .order_by("date", "id")
            .values_list("id", "number", "date", "tax_total", "contact__name")[: MAX_FINDINGS + 1]
        )
        for pk, number, date, tax, contact in missing:
            who = f" from {contact}" if contact else ""
            findings.append(
                FindingData(
                    fingerprint=f"no-receipt:tx:{pk}",
                    severity=Finding.Severity.AMBER,
                    title=f"Purchase {number or f'#{pk}'}{who} of {date:%-d %b %Y} claims "
                    f"{money(tax)} VAT with no attachment",
                    rows={"checks.transaction": [pk]},
                )
            )
    if rules.threshold and client.vat_periods == "none":
        turnover = taxable_turnover(client, months_before(today, 12), today)
        threshold = registration_threshold(today)
        warn_from = threshold * (100 - rules.warn_within_percent) / 100
        if turnover >= warn_from:
            over = turnover > threshold
            findings.append(
                FindingData(
                    fingerprint="turnover",
                    severity=Finding.Severity.RED if over else Finding.Severity.AMBER,
                    title=(
                        f"Taxable turnover {money(turnover)} is over the VAT registration "
                        f"threshold of {money(threshold)}"
                        if over
                        else f"Taxable turnover {money(turnover)} is within "
                        f"{rules.warn_within_percent} % of the VAT registration threshold "
                        f"of {money(threshold)}"
                    ),
                    detail=f"The 12 months to {today:%-d %b %Y}; the client is not VAT registered.",
                )
            )
    return findings


CHECK = Check(
    key="vat",
    name="VAT",
    description=(
        "Purchases claiming VAT with no receipt attached, and for a client not VAT registered, "
        "taxable turnover over the last 12 months within 10 % of the registration threshold "
        "(£90,000 from 1 April 2024) or over it."
    ),
    weight=15,
    rules_class=VatRules,
    run=run,
)
