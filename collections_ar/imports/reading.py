"""Reading invoice files: Xero's sales-invoice export and the plain AR CSV, into one record per
invoice with every refused row's line number and reason.

**Xero's sales-invoice export** has one row per invoice *line*: the invoice's own fields
(`ContactName`, `InvoiceNumber`, `InvoiceDate`, `DueDate`, `Total`, `InvoiceAmountPaid`,
`InvoiceAmountDue`, `Currency`, `Type`, `Status`) repeat on each of its lines, so they are
read once per invoice and must agree across its lines. Drafts and invoices awaiting approval
are not sent yet and are left out (counted); "Voided" and "Deleted" make the invoice void;
credit notes and bills are not sales invoices and are refused.

**The plain AR CSV** (documented in `docs/ar-imports.md`): `customer, invoice_number,
issue_date, due_date, total, amount_paid, currency, status` — one row per invoice; the last
three may be left out (0, GBP, open; status `void` voids it).

Headers match case-insensitively, without surrounding spaces or Xero's leading `*`. Dates are
UK (`31/12/2026`, `02 Sep 2026`) or ISO; amounts are decimals with optional thousands
separators, a currency sign, and `(250.00)` for a negative. Money is `Decimal` throughout.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
from decimal import Decimal, InvalidOperation

XERO = "xero_invoices"
PLAIN = "plain"
LAYOUT_NAMES = {XERO: "Xero sales invoices", PLAIN: "AR invoices (plain CSV)"}

XERO_REQUIRED = ("contactname", "invoicenumber", "invoicedate", "duedate", "total")
PLAIN_REQUIRED = ("customer", "invoice_number", "issue_date", "due_date", "total")
NOT_SENT = {"draft", "awaiting approval", "submitted"}
VOID = {"voided", "deleted", "void"}
SALES_TYPES = {"", "sales invoice", "accrec"}
MAX_ROWS = 100_000


class FileRefused(Exception):
    """The whole file cannot be read; the message says why."""


@dataclasses.dataclass
class InvoiceRecord:
    """One invoice as the file gives it (first line it appears on)."""

    line: int
    customer: str
    number: str
    issue_date: dt.date
    due_date: dt.date
    total: Decimal
    paid: Decimal
    currency: str
    void: bool = False


@dataclasses.dataclass
class ReadResult:
    layout: str
    records: list[InvoiceRecord]
    errors: list[tuple[int, str]]  # (line, reason), in line order
    skipped: int = 0  # drafts and invoices awaiting approval

    @property
    def layout_name(self) -> str:
        return LAYOUT_NAMES[self.layout]


def _header(name: str) -> str:
    return name.strip().lstrip("*").strip().lower()


def parse_date(text: str) -> dt.date:
    """Return a UK or ISO date; raise ValueError with a readable reason."""
    text = (text or "").strip()
    for fmt in ("%d/%m/%Y", "%d %b %Y", "%d %B %Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"“{text}” is not a date (use 31/12/2026)")


_MONEY = re.compile(r"^\(?-?[£$€]?\(?-?[\d,]*\.?\d*\)?$")


def parse_money(text: str, *, blank_is_zero: bool = False) -> Decimal:
    """Return a Decimal amount from "1,250.00", "£(250.00)" or "-12.5"; raise ValueError."""
    raw = (text or "").strip().replace(" ", "")
    if not raw:
        if blank_is_zero:
            return Decimal("0.00")
        raise ValueError("the amount is missing")
    if not _MONEY.match(raw) or not re.search(r"\d", raw):
        raise ValueError(f"“{text.strip()}” is not an amount")
    negative = "-" in raw or "(" in raw
    digits = re.sub(r"[^\d.]", "", raw)
    try:
        value = Decimal(digits)
    except InvalidOperation:
        raise ValueError(f"“{text.strip()}” is not an amount") from None
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"“{text.strip()}” has more than two decimal places")
    return -value if negative else value


def read_invoices(data: bytes) -> ReadResult:
    """Read an invoice file into records and line-numbered errors.

    Raises FileRefused when the file is not text, is empty or matches neither layout.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused("The file is not a CSV text file (it is not UTF-8).") from None
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, None)
    if not header or not any(h.strip() for h in header):
        raise FileRefused("The file is empty: it needs a header row and invoices.")
    names = [_header(h) for h in header]
    if all(n in names for n in XERO_REQUIRED):
        layout, required = XERO, XERO_REQUIRED
    elif all(n in names for n in PLAIN_REQUIRED):
        layout, required = PLAIN, PLAIN_REQUIRED
    else:
        raise FileRefused(
            "The columns are neither Xero's sales-invoice export (ContactName, InvoiceNumber, "
            "InvoiceDate, DueDate, Total, …) nor the plain AR CSV (customer, invoice_number, "
            "issue_date, due_date, total, …)."
        )
    index = {n: i for i, n in reversed(list(enumerate(names)))}
    result = ReadResult(layout=layout, records=[], errors=[])
    by_number: dict[str, InvoiceRecord] = {}
    for line, row in enumerate(rows, start=2):
        if line - 1 > MAX_ROWS:
            raise FileRefused(f"The file has more than {MAX_ROWS:,} rows; split it.")
        if not any(cell.strip() for cell in row):
            continue

        def cell(name: str, row=row) -> str:
            i = index.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        try:
            record, skip = _record(layout, line, cell, required)
        except ValueError as exc:
            result.errors.append((line, str(exc)))
            continue
        if skip:
            result.skipped += 1
            continue
        seen = by_number.get(record.number)
        if seen is None:
            by_number[record.number] = record
            result.records.append(record)
        elif layout == PLAIN:
            result.errors.append(
                (line, f"Invoice {record.number} is also on line {seen.line}: one row each.")
            )
        elif _differs(seen, record):
            result.errors.append(
                (line, f"Invoice {record.number}'s customer, dates or totals differ from line "
                 f"{seen.line}.")
            )  # fmt: skip
    return result


def _differs(a: InvoiceRecord, b: InvoiceRecord) -> bool:
    fields = ("customer", "issue_date", "due_date", "total", "paid", "currency", "void")
    return any(getattr(a, f) != getattr(b, f) for f in fields)


def _record(layout: str, line: int, cell, required) -> tuple[InvoiceRecord | None, bool]:
    """Return (the row's invoice, whether it is left out); raise ValueError saying why not."""
    for name in required:
        if not cell(name):
            raise ValueError(f"{name} is empty")
    if layout == XERO:
        if cell("type").lower() not in SALES_TYPES:
            raise ValueError(f"a {cell('type')} is not a sales invoice")
        status = cell("status").lower()
        if status in NOT_SENT:
            return None, True
        customer, number = cell("contactname"), cell("invoicenumber")
        issue, due = parse_date(cell("invoicedate")), parse_date(cell("duedate"))
        total = parse_money(cell("total"))
        paid = parse_money(cell("invoiceamountpaid"), blank_is_zero=True)
        if cell("invoiceamountdue") and not cell("invoiceamountpaid"):
            paid = total - parse_money(cell("invoiceamountdue"))
        void = status in VOID
        if status == "paid" and paid < total:
            paid = total
    else:
        customer, number = cell("customer"), cell("invoice_number")
        issue, due = parse_date(cell("issue_date")), parse_date(cell("due_date"))
        total = parse_money(cell("total"))
        paid = parse_money(cell("amount_paid"), blank_is_zero=True)
        void = cell("status").lower() in VOID
    currency = (cell("currency") or "GBP").upper()
    if due < issue:
        raise ValueError("the due date is before the issue date")
    if total < 0 or paid < 0:
        raise ValueError("an amount is negative (credit notes are not imported)")
    if paid > total:
        raise ValueError("the amount paid is more than the total")
    if len(currency) != 3 or not currency.isalpha():
        raise ValueError(f"“{currency}” is not a currency code")
    record = InvoiceRecord(line, customer, number[:50], issue, due, total, paid, currency, void)
    return record, False
