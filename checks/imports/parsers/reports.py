"""Ledger reports: Xero's Account Transactions and QuickBooks' General Ledger.

Both list postings account by account: under a heading row holding only the account (and
closed by a "Total …" row), or flat with an account column. Each posting becomes a
one-line transaction on its account, keyed by its own fields and its place among identical
postings; a document that touches several accounts appears once per account, as in the
report. Title rows before the header, balance rows and QuickBooks' timestamp footer are
skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from decimal import Decimal

from checks.imports.parsers.common import Context, Occurrences, cell, has
from checks.imports.reading import CellError, Row, date_orders, parse_amount, parse_date
from checks.imports.records import LineRecord, RowError, TransactionRecord
from checks.models import Transaction

K = Transaction.Kind
XERO_SOURCES = {
    "receivable invoice": K.SALES_INVOICE,
    "payable invoice": K.BILL,
    "receivable credit note": K.SALES_CREDIT_NOTE,
    "payable credit note": K.PURCHASE_CREDIT_NOTE,
    "spend money": K.BANK_SPEND,
    "receive money": K.BANK_RECEIVE,
    "receivable payment": K.PAYMENT,
    "payable payment": K.PAYMENT,
    "manual journal": K.JOURNAL,
    "bank transfer": K.BANK_TRANSFER,
}
QBO_TYPES = {
    "invoice": K.SALES_INVOICE,
    "bill": K.BILL,
    "credit memo": K.SALES_CREDIT_NOTE,
    "vendor credit": K.PURCHASE_CREDIT_NOTE,
    "supplier credit": K.PURCHASE_CREDIT_NOTE,
    "expense": K.BANK_SPEND,
    "check": K.BANK_SPEND,
    "cheque": K.BANK_SPEND,
    "cash expense": K.BANK_SPEND,
    "credit card expense": K.BANK_SPEND,
    "deposit": K.BANK_RECEIVE,
    "sales receipt": K.BANK_RECEIVE,
    "transfer": K.BANK_TRANSFER,
    "payment": K.PAYMENT,
    "receive payment": K.PAYMENT,
    "bill payment": K.PAYMENT,
    "bill payment (check)": K.PAYMENT,
    "bill payment (cheque)": K.PAYMENT,
    "journal entry": K.JOURNAL,
}
# "4000 Sales", "200 - Sales", "Sales (200)", or only a name.
_CODE_FIRST = re.compile(r"^(?P<code>[0-9][\w.-]{0,19})\s+(?:-\s+)?(?P<name>.+)$")
_CODE_LAST = re.compile(r"^(?P<name>.+?)\s*\((?P<code>[\w.-]{1,20})\)$")
_TIMESTAMP = re.compile(r"\d{1,2}:\d{2}|^(?:cash|accrual) basis", re.IGNORECASE)
_BALANCE_ROWS = ("opening balance", "closing balance", "beginning balance", "balance")


def _account(heading: str) -> tuple[str, str]:
    """Return (code, name) of an account heading; the code is "" when it names none."""
    text = heading.strip()
    found = _CODE_FIRST.match(text) or _CODE_LAST.match(text)
    if found:
        return found["code"], found["name"].strip()
    return "", text


def _only_first(row: Row, first: int) -> str:
    """Return the heading text of a row holding one cell only (at `first` or anywhere)."""
    filled = [c.strip() for c in row.cells if c.strip()]
    return filled[0] if len(filled) == 1 else ""


def xero_account_transactions(
    rows: Iterable[Row], context: Context
) -> Iterator[TransactionRecord | RowError]:
    return _postings(rows, context, XERO_SOURCES, "source", "xero_report")


def qbo_general_ledger(
    rows: Iterable[Row], context: Context
) -> Iterator[TransactionRecord | RowError]:
    return _postings(rows, context, QBO_TYPES, "transaction type", "qbo_report")


def _postings(
    rows: Iterable[Row], context: Context, kinds: dict[str, str], type_column: str, prefix: str
) -> Iterator[TransactionRecord | RowError]:
    occurrences = Occurrences()
    heading = ("", "")
    flat = has(context, "account code", "account")
    for row in rows:
        if row.blank:
            continue
        date_text = cell(row, context, "date")
        only = _only_first(row, 0)
        if only and not date_orders(only) and only == (row.cells[0].strip() or only):
            lowered = only.lower()
            if lowered.startswith("total"):
                heading = ("", "")
            elif _TIMESTAMP.search(only) or lowered.startswith(_BALANCE_ROWS):
                pass
            elif not flat:
                heading = _account(only)
            continue
        described = " ".join(c.strip().lower() for c in row.cells if c.strip())
        if not date_text or any(described.startswith(b) for b in _BALANCE_ROWS):
            continue  # an opening / closing balance or a total row
        if date_text.lower().startswith("total"):
            continue
        try:
            record = _posting(row, context, kinds, type_column, prefix, heading, occurrences)
        except CellError as exc:
            yield RowError(row.line, str(exc))
            continue
        except _Refused as exc:
            yield RowError(row.line, str(exc))
            continue
        yield record


class _Refused(Exception):
    pass


def _posting(
    row: Row,
    context: Context,
    kinds: dict[str, str],
    type_column: str,
    prefix: str,
    heading: tuple[str, str],
    occurrences: Occurrences,
) -> TransactionRecord:
    date = parse_date(cell(row, context, "date"), context.date_format)
    if has(context, "debit", "credit"):
        debit = cell(row, context, "debit")
        credit = cell(row, context, "credit")
        amount = (parse_amount(debit, what="debit") if debit else Decimal(0)) - (
            parse_amount(credit, what="credit") if credit else Decimal(0)
        )
    else:
        amount = parse_amount(cell(row, context, "amount"))
    code = cell(row, context, "account code")
    name = cell(row, context, "account")
    if not code and not name:
        code, name = heading
        if not code and not name:
            raise _Refused("the posting is under no account heading")
    elif not code:
        code, name = _account(name)
    shown_type = cell(row, context, type_column)
    kind = kinds.get(shown_type.lower(), K.JOURNAL)
    contact = cell(row, context, "contact", "name")
    # QuickBooks writes a job after its customer ("Customer:Job"); the customer is the contact.
    if prefix == "qbo_report" and ":" in contact:
        contact = contact.split(":", 1)[0].strip()
    description = cell(row, context, "description", "memo/description", "memo")
    reference = cell(row, context, "reference", "num")
    # Invoices and bills carry the document's amount as the report shows it on the account;
    # documents' lines are positive, so a sales document's credit reads positive.
    net = -amount if kind in Transaction.SALES_KINDS else amount
    vat = cell(row, context, "vat")
    tax = parse_amount(vat, what="VAT") if vat else Decimal(0)
    key = occurrences.key(
        prefix, code, name, date.isoformat(), shown_type, contact, description, reference, amount
    )
    return TransactionRecord(
        kind=kind,
        source_key=key,
        number=reference[:100] if kind in (*Transaction.SALES_KINDS, K.BILL) else "",
        reference=reference[:255],
        date=date,
        contact_name=contact[:255],
        total=net + tax,
        tax_total=tax,
        lines=(
            LineRecord(
                line_no=1,
                account_code=code[:20],
                account_name=name[:200],
                net=net,
                tax=tax,
                description=description,
                line=row.line,
            ),
        ),
        line=row.line,
        last_line=row.last_line,
    )
