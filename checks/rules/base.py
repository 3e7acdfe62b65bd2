"""What every built-in check shares: its declaration, typed rules, findings, and ledger helpers.

A check is one module of `checks.rules` declaring a `Check`: a key (stored in findings and
settings, never changed), a name and description for the page, a default weight in the
health score, a rules dataclass (defaults, `errors()` by field) and `run(client, rules,
today) -> list[FindingData]`. Checks read the ledger with set-based queries (aggregates,
subqueries, window functions): Python sees aggregated groups and the findings, never a loop
over ledger lines. `today` is the practice's day (`sodium.schedules.practice.today_for`).

Sign convention (shared with the importers): a line's `net` is positive on the side its kind
books it — a sales invoice or money received credits its accounts, a bill, money spent or a
journal line debits them (a journal's credits are negative). `debit_net()` turns that into
one debit-positive figure, so an account's balance is `Sum(debit_net())`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any, ClassVar

from dateutil.relativedelta import relativedelta
from django.db.models import Case, DecimalField, F, QuerySet, When

from checks.models import LedgerAccount, Transaction
from sodium.schedules.client_dates import months_after

# A check reports at most this many findings per run; when it finds more, the run keeps the
# first ones and leaves that check's other findings as they were (none is resolved on a
# truncated run), and the run's counts say "truncated".
MAX_FINDINGS = 500
# The ids a finding lists per model, for its links; `detail` gives the full count.
MAX_ROW_IDS = 200

K = Transaction.Kind
# Kinds whose lines credit their accounts (the rest debit them; see the module).
CREDIT_KINDS = (K.SALES_INVOICE, K.BANK_RECEIVE, K.PURCHASE_CREDIT_NOTE)


class RulesError(ValueError):
    """Rules that do not validate; `errors` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


@dataclasses.dataclass(frozen=True)
class Rules:
    """A check's rules: a dataclass with defaults. Subclasses add fields and `errors()`."""

    def errors(self) -> dict[str, list[str]]:
        """Return the field errors of these rules (empty when valid)."""
        return {}

    @classmethod
    def from_settings(cls, rules: dict[str, Any] | None, exclusions: dict[str, Any] | None):
        """Build the rules from a client's overrides and exclusions; raise RulesError."""
        data = {**(rules or {}), **(exclusions or {})}
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise RulesError({name: ["Not a rule of this check."] for name in unknown})
        values = {}
        for f in dataclasses.fields(cls):
            if f.name in data:
                value = data[f.name]
                # JSON has no tuples: lists become tuples (of tuples) so rules stay hashable.
                if isinstance(value, list):
                    value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
                values[f.name] = value
        try:
            rules_obj = cls(**values)
        except TypeError as exc:  # pragma: no cover - a field of the wrong shape
            raise RulesError({"rules": [str(exc)]}) from exc
        errors = rules_obj.errors()
        if errors:
            raise RulesError(errors)
        return rules_obj


@dataclasses.dataclass(frozen=True)
class FindingData:
    """One finding as a check reports it, before the run stores it."""

    fingerprint: str
    severity: str  # Finding.Severity value
    title: str
    detail: str = ""
    rows: dict[str, list[int]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Check:
    """A built-in check's declaration."""

    key: str
    name: str
    description: str
    weight: int
    rules_class: type[Rules]
    run: Callable[[Any, Any, dt.date], list[FindingData]]

    def default_rules(self) -> Rules:
        return self.rules_class()

    SEVERITIES: ClassVar[tuple[str, ...]] = ("red", "amber", "info")


# --- ledger helpers ----------------------------------------------------------------------


def ledger(model, client) -> QuerySet:
    """Return `model`'s rows of `client`, filtered by its practice too (tenant scoping)."""
    return model.objects.filter(practice_id=client.practice_id, client_id=client.pk)


def live_transactions(client) -> QuerySet:
    """Return the client's transactions that count: not voided, not drafts."""
    return ledger(Transaction, client).exclude(
        status__in=[Transaction.Status.VOIDED, Transaction.Status.DRAFT]
    )


def debit_net(prefix: str = "") -> Case:
    """Return a line's net as a debit-positive amount (see the module's sign convention)."""
    return Case(
        When(**{f"{prefix}kind__in": CREDIT_KINDS}, then=-F(f"{prefix}net")),
        default=F(f"{prefix}net"),
        output_field=DecimalField(max_digits=18, decimal_places=2),
    )


def last_month_end(today: dt.date) -> dt.date:
    """Return the last day of the last complete month before `today`'s month."""
    return today + relativedelta(day=1) - relativedelta(days=1)


def months_before(today: dt.date, months: int) -> dt.date:
    """Return the day `months` calendar months before `today` (a month end stays one)."""
    return months_after(today, -months)


def account_label(account: LedgerAccount) -> str:
    return f"{account.code} {account.name}".strip()


def ids(values) -> list[int]:
    """Return at most MAX_ROW_IDS ids, sorted, for a finding's links."""
    return sorted(values)[:MAX_ROW_IDS]


def money(amount) -> str:
    """Return an amount as the page shows it: £1,234.56 (a minus sign before the £)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"
