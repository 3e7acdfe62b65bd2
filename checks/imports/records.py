"""The typed records every ledger source yields, and the row error a bad row becomes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class RowError:
    """A row (or a group of rows) that cannot be imported, with the plain reason why."""

    line: int
    reason: str
    last_line: int | None = None

    @property
    def message(self) -> str:
        if self.last_line and self.last_line != self.line:
            return f"Lines {self.line}–{self.last_line}: {self.reason}"
        return f"Line {self.line}: {self.reason}"

    def as_json(self) -> dict:
        return {"line": self.line, "last_line": self.last_line or self.line, "reason": self.message}


@dataclass(frozen=True)
class AccountRecord:
    code: str
    name: str
    type: str
    tax_code: str = ""
    description: str = ""
    is_system: bool = False
    archived: bool = False
    line: int = 0


@dataclass(frozen=True)
class ContactRecord:
    name: str
    account_number: str = ""
    email: str = ""
    archived: bool = False
    line: int = 0


@dataclass(frozen=True)
class LineRecord:
    """A transaction line. `net` is the line's amount before tax as the document shows it
    (invoices, bills, credit notes, spend / receive money), or debit-positive for journals,
    payments and transfers read from a report."""

    line_no: int
    account_code: str
    net: Decimal
    tax: Decimal = Decimal("0")
    tax_rate: str = ""
    description: str = ""
    # When a report names the account rather than its code (QuickBooks' "Sales" heading).
    account_name: str = ""
    line: int = 0  # the file's line it came from


@dataclass(frozen=True)
class TransactionRecord:
    kind: str
    source_key: str
    date: dt.date
    total: Decimal
    lines: tuple[LineRecord, ...] = ()
    number: str = ""
    reference: str = ""
    due_date: dt.date | None = None
    contact_name: str = ""
    currency: str = "GBP"
    tax_total: Decimal = Decimal("0")
    amount_due: Decimal | None = None
    status: str = "authorised"
    bank_account_code: str = ""
    line: int = 0
    last_line: int = 0


@dataclass(frozen=True)
class StatementLineRecord:
    date: dt.date
    amount: Decimal
    payee: str = ""
    description: str = ""
    reference: str = ""
    cheque_number: str = ""
    source_key: str = ""
    line: int = 0


@dataclass(frozen=True)
class LockDateRecord:
    lock_date: dt.date
    source: str = "import"
    line: int = 0


Record = AccountRecord | ContactRecord | TransactionRecord | StatementLineRecord | LockDateRecord


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowError] = field(default_factory=list)
