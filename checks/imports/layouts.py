"""Recognising a ledger file by its header: which vendor layout it is, or "unknown".

A file's header may follow title rows (reports), so detection reads the first rows until
one matches a layout. A file none matches goes to the column-mapping step (bank
statements); one whose first row is already data has no header at all and is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from checks.imports.reading import Row, date_orders, normalise_header, parse_amount

XERO_ACCOUNTS = "xero_accounts"
XERO_CONTACTS = "xero_contacts"
XERO_SALES_INVOICES = "xero_sales_invoices"
XERO_BILLS = "xero_bills"
XERO_BANK_STATEMENT = "xero_bank_statement"
XERO_ACCOUNT_TRANSACTIONS = "xero_account_transactions"
QBO_GENERAL_LEDGER = "qbo_general_ledger"
MAPPED_BANK = "mapped_bank"
UNKNOWN = "unknown"

LABELS = {
    XERO_ACCOUNTS: "Xero chart of accounts",
    XERO_CONTACTS: "Xero contacts",
    XERO_SALES_INVOICES: "Xero sales invoices",
    XERO_BILLS: "Xero bills",
    XERO_BANK_STATEMENT: "Bank statement (Xero layout)",
    XERO_ACCOUNT_TRANSACTIONS: "Xero Account Transactions report",
    QBO_GENERAL_LEDGER: "QuickBooks General Ledger",
    MAPPED_BANK: "Bank statement (mapped columns)",
    UNKNOWN: "Unrecognised columns",
}
SOURCES = {
    XERO_ACCOUNTS: "xero",
    XERO_CONTACTS: "xero",
    XERO_SALES_INVOICES: "xero",
    XERO_BILLS: "xero",
    XERO_BANK_STATEMENT: "bank",
    XERO_ACCOUNT_TRANSACTIONS: "xero",
    QBO_GENERAL_LEDGER: "quickbooks",
    MAPPED_BANK: "bank",
    UNKNOWN: "bank",
}
BANK_LAYOUTS = {XERO_BANK_STATEMENT, MAPPED_BANK}
# The columns whose cells are dates, per layout (checked for their day / month order).
DATE_COLUMNS = {
    XERO_SALES_INVOICES: ("invoicedate", "duedate"),
    XERO_BILLS: ("invoicedate", "duedate"),
    XERO_BANK_STATEMENT: ("date",),
    XERO_ACCOUNT_TRANSACTIONS: ("date",),
    QBO_GENERAL_LEDGER: ("date",),
}
# What a person maps for a bank file with its own headings.
MAPPING_FIELDS = ("date", "amount", "debit", "credit", "payee", "description", "reference")
HEADER_SCAN_ROWS = 30
# Layouts a person may say a file is instead of what its header suggests: Xero's sales-invoice
# and bill import templates share their columns, and a bills file with no Type or PaidDate
# column reads as sales invoices.
OVERRIDES = {
    XERO_SALES_INVOICES: frozenset({XERO_BILLS}),
    XERO_BILLS: frozenset({XERO_SALES_INVOICES}),
}


class NoHeader(ValueError):
    """The file has no header row a person could map; the message says so."""


@dataclass(frozen=True)
class Spec:
    key: str
    required: frozenset[str]
    forbidden: frozenset[str] = frozenset()
    any_of: frozenset[str] = frozenset()  # at least one of these too
    first_cell_empty: bool = False


_SPECS = (
    Spec(
        QBO_GENERAL_LEDGER,
        frozenset({"date", "transaction type", "num", "name"}),
        any_of=frozenset({"amount", "debit", "credit"}),
        first_cell_empty=True,
    ),
    Spec(XERO_ACCOUNT_TRANSACTIONS, frozenset({"date", "source", "debit", "credit"})),
    Spec(
        XERO_SALES_INVOICES,
        frozenset({"contactname", "invoicenumber", "invoicedate", "accountcode"}),
        any_of=frozenset({"unitamount", "lineamount"}),
    ),
    Spec(XERO_CONTACTS, frozenset({"contactname"}), forbidden=frozenset({"invoicenumber"})),
    Spec(XERO_ACCOUNTS, frozenset({"code", "name", "type"})),
    Spec(
        XERO_BANK_STATEMENT,
        frozenset({"date", "amount"}),
        forbidden=frozenset({"source", "transaction type", "debit", "credit"}),
        any_of=frozenset({"payee", "description", "reference"}),
    ),
)
_BILL_TYPES = ("bill", "purchase", "accpay")


@dataclass(frozen=True)
class Detection:
    layout: str
    header: Row
    columns: dict[str, int]  # normalised header → index

    @property
    def headers(self) -> list[str]:
        return [c.strip() for c in self.header.cells]


def columns_of(cells: list[str]) -> dict[str, int]:
    """Return normalised header → index (the first of a repeated header wins)."""
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = normalise_header(cell)
        if name and name not in found:
            found[name] = index
    return found


def _matches(spec: Spec, row: Row, names: dict[str, int]) -> bool:
    if spec.first_cell_empty and (not row.cells or row.cells[0].strip()):
        return False
    if not spec.required <= names.keys() or spec.forbidden & names.keys():
        return False
    return not spec.any_of or bool(spec.any_of & names.keys())


def _looks_like_data(cell: str) -> bool:
    cell = cell.strip()
    if not cell:
        return False
    if date_orders(cell) is not None:
        return True
    try:
        parse_amount(cell)
    except ValueError:
        return False
    return True


def detect(rows: Iterator[Row]) -> Detection:
    """Return the layout of a file from its first rows (`rows` is consumed a little way).

    Raises NoHeader for an empty file or one whose first row is already data.
    """
    first: Row | None = None
    for _ in range(HEADER_SCAN_ROWS):
        row = next(rows, None)
        if row is None:
            break
        if row.blank:
            continue
        first = first or row
        names = columns_of(row.cells)
        for spec in _SPECS:
            if _matches(spec, row, names):
                layout = spec.key
                if layout == XERO_SALES_INVOICES and _is_bills(names, rows):
                    layout = XERO_BILLS
                return Detection(layout, row, names)
    if first is None:
        raise NoHeader("The file is empty: it has no header row and no data.")
    if any(_looks_like_data(c) for c in first.cells):
        raise NoHeader(
            f"Line {first.line} is already data (it holds dates or amounts), so the file has "
            "no header row naming its columns. Export it again with its headings."
        )
    return Detection(UNKNOWN, first, columns_of(first.cells))


def _is_bills(names: dict[str, int], rows: Iterator[Row]) -> bool:
    """Xero's bills export carries PaidDate; otherwise its Type column says "Bill"."""
    if "paiddate" in names:
        return True
    if "type" not in names:
        return False
    for _ in range(HEADER_SCAN_ROWS):
        row = next(rows, None)
        if row is None:
            return False
        if row.blank:
            continue
        index = names["type"]
        value = row.cells[index].strip().lower() if index < len(row.cells) else ""
        return value.startswith(_BILL_TYPES)
    return False
