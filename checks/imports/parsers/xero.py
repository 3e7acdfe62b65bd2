"""Xero's chart of accounts, contacts, and sales-invoice / bill exports (and their templates)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal

from checks.imports.parsers.common import Context, cell, has
from checks.imports.reading import CellError, Row, parse_amount, parse_date, parse_optional_amount
from checks.imports.records import (
    AccountRecord,
    ContactRecord,
    LineRecord,
    RowError,
    TransactionRecord,
)
from checks.models import LedgerAccount, Transaction

CENT = Decimal("0.01")
# Xero's account types as its export writes them → ours.
ACCOUNT_TYPES = {label.lower(): value for value, label in LedgerAccount.Type.choices} | {
    "current assets": LedgerAccount.Type.CURRENT_ASSET,
    "fixed assets": LedgerAccount.Type.FIXED_ASSET,
    "non-current assets": LedgerAccount.Type.NON_CURRENT_ASSET,
    "current liabilities": LedgerAccount.Type.CURRENT_LIABILITY,
    "non-current liabilities": LedgerAccount.Type.NON_CURRENT_LIABILITY,
    "direct cost": LedgerAccount.Type.DIRECT_COSTS,
    "expenses": LedgerAccount.Type.EXPENSE,
    "overheads": LedgerAccount.Type.OVERHEAD,
    "revenue": LedgerAccount.Type.REVENUE,
}
# The accounts Xero keeps itself, recognised by name (see the formats reference).
SYSTEM_ACCOUNT_NAMES = {
    "accounts receivable",
    "accounts payable",
    "sales tax",
    "vat",
    "gst",
    "retained earnings",
    "historical adjustment",
    "rounding",
    "tracking transfers",
    "unpaid expense claims",
}
STATUSES = {
    "draft": Transaction.Status.DRAFT,
    "awaiting approval": Transaction.Status.SUBMITTED,
    "submitted": Transaction.Status.SUBMITTED,
    "awaiting payment": Transaction.Status.AUTHORISED,
    "authorised": Transaction.Status.AUTHORISED,
    "paid": Transaction.Status.PAID,
    "voided": Transaction.Status.VOIDED,
    "void": Transaction.Status.VOIDED,
}
KINDS = {
    "sales invoice": Transaction.Kind.SALES_INVOICE,
    "invoice": Transaction.Kind.SALES_INVOICE,
    "accrec": Transaction.Kind.SALES_INVOICE,
    "sales credit note": Transaction.Kind.SALES_CREDIT_NOTE,
    "credit note": Transaction.Kind.SALES_CREDIT_NOTE,
    "accreccredit": Transaction.Kind.SALES_CREDIT_NOTE,
    "bill": Transaction.Kind.BILL,
    "purchase bill": Transaction.Kind.BILL,
    "accpay": Transaction.Kind.BILL,
    "bill credit note": Transaction.Kind.PURCHASE_CREDIT_NOTE,
    "purchase credit note": Transaction.Kind.PURCHASE_CREDIT_NOTE,
    "accpaycredit": Transaction.Kind.PURCHASE_CREDIT_NOTE,
}


def accounts(rows: Iterable[Row], context: Context) -> Iterator[AccountRecord | RowError]:
    """Yield the chart of accounts' rows (`Code, Name, Type, Tax Code, Description, …`)."""
    for row in rows:
        if row.blank:
            continue
        code, name = cell(row, context, "code"), cell(row, context, "name")
        shown_type = cell(row, context, "type")
        if not code:
            yield RowError(row.line, f"the account '{name}' has no code")
            continue
        if len(code) > 20:
            yield RowError(row.line, f"the account code '{code}' is longer than 20 characters")
            continue
        if not name:
            yield RowError(row.line, f"the account {code} has no name")
            continue
        kind = ACCOUNT_TYPES.get(shown_type.lower())
        if kind is None:
            yield RowError(row.line, f"the account type '{shown_type}' is not one Xero uses")
            continue
        status = cell(row, context, "status", "account status").lower()
        yield AccountRecord(
            code=code,
            name=name[:200],
            type=kind,
            tax_code=cell(row, context, "tax code", "taxcode")[:100],
            description=cell(row, context, "description"),
            is_system=name.lower() in SYSTEM_ACCOUNT_NAMES,
            archived=status == "archived",
            line=row.line,
        )


def contacts(rows: Iterable[Row], context: Context) -> Iterator[ContactRecord | RowError]:
    """Yield the contacts export's rows (only ContactName is required)."""
    for row in rows:
        if row.blank:
            continue
        name = cell(row, context, "contactname")
        if not name:
            yield RowError(row.line, "the contact has no name")
            continue
        yield ContactRecord(
            name=name[:255],
            account_number=cell(row, context, "accountnumber")[:50],
            email=cell(row, context, "emailaddress")[:254],
            archived=cell(row, context, "contactstatus").lower() == "archived",
            line=row.line,
        )


def sales_invoices(rows: Iterable[Row], context: Context) -> Iterator[TransactionRecord | RowError]:
    return _documents(rows, context, Transaction.Kind.SALES_INVOICE)


def bills(rows: Iterable[Row], context: Context) -> Iterator[TransactionRecord | RowError]:
    return _documents(rows, context, Transaction.Kind.BILL)


def _documents(
    rows: Iterable[Row], context: Context, default_kind: str
) -> Iterator[TransactionRecord | RowError]:
    """One row per line, the document's fields repeated on each: lines are grouped while the
    number stays the same. A number met again after another document's lines is refused
    (the export keeps a document's lines together)."""
    group: list[Row] = []
    done: set[str] = set()
    for row in rows:
        if row.blank:
            continue
        number = cell(row, context, "invoicenumber")
        if group and number != cell(group[0], context, "invoicenumber"):
            yield _document(group, context, default_kind, done)
            group = []
        group.append(row)
    if group:
        yield _document(group, context, default_kind, done)


def _document(
    group: list[Row], context: Context, default_kind: str, done: set[str]
) -> TransactionRecord | RowError:
    first, last = group[0], group[-1]
    number = cell(first, context, "invoicenumber")
    if not number:
        return RowError(first.line, "the line has no invoice number", last.last_line)
    if number in done:
        return RowError(
            first.line,
            f"invoice {number} appears again, apart from its other lines",
            last.last_line,
        )
    done.add(number)
    try:
        kind = _kind(first, context, default_kind)
        what = "bill" if kind in Transaction.PURCHASE_KINDS else "invoice"
        lines = tuple(_line(i, row, context) for i, row in enumerate(group, start=1))
        for row in group[1:]:
            for name, label in (("total", "total"), ("contactname", "contact")):
                if cell(row, context, name) != cell(first, context, name):
                    raise _GroupError(
                        f"{what} {number}'s lines disagree on its {label} "
                        f"('{cell(first, context, name)}' and '{cell(row, context, name)}')"
                    )
        total = parse_optional_amount(cell(first, context, "total"), what="total")
        net = sum((line.net for line in lines), Decimal("0"))
        tax = sum((line.tax for line in lines), Decimal("0"))
        if total is not None and total not in (net + tax, net):
            raise _GroupError(
                f"{what} {number}'s lines add up to {net + tax:.2f} but its total says {total:.2f}"
            )
        tax_total = parse_optional_amount(cell(first, context, "taxtotal"), what="tax total")
        status = cell(first, context, "status")
        if status and status.lower() not in STATUSES:
            raise _GroupError(f"the status '{status}' is not one Xero uses")
        contact = cell(first, context, "contactname")
        if not contact:
            raise _GroupError(f"{what} {number} has no contact")
        return TransactionRecord(
            kind=kind,
            source_key=f"{kind}:{number}"[:200],
            number=number[:100],
            reference=cell(first, context, "reference")[:255],
            date=parse_date(cell(first, context, "invoicedate"), context.date_format),
            due_date=_optional_date(cell(first, context, "duedate"), context),
            contact_name=contact[:255],
            currency=(cell(first, context, "currency") or "GBP")[:3].upper(),
            total=total if total is not None else net + tax,
            tax_total=tax_total if tax_total is not None else tax,
            amount_due=parse_optional_amount(
                cell(first, context, "invoiceamountdue"), what="amount due"
            ),
            status=STATUSES.get(status.lower(), Transaction.Status.AUTHORISED),
            lines=lines,
            line=first.line,
            last_line=last.last_line,
        )
    except _LineError as exc:
        return RowError(exc.line, exc.reason)
    except _GroupError as exc:
        return RowError(first.line, str(exc), last.last_line)
    except CellError as exc:
        return RowError(first.line, str(exc))


class _GroupError(Exception):
    pass


class _LineError(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def _kind(row: Row, context: Context, default: str) -> str:
    shown = cell(row, context, "type")
    if not shown:
        return default
    kind = KINDS.get(shown.lower())
    if kind is None:
        raise _GroupError(f"the type '{shown}' is not an invoice, bill or credit note")
    return kind


def _optional_date(text: str, context: Context):
    return parse_date(text, context.date_format, what="due date") if text else None


def _line(line_no: int, row: Row, context: Context) -> LineRecord:
    try:
        amount = parse_optional_amount(cell(row, context, "lineamount"), what="line amount")
        if amount is None:
            quantity = parse_optional_amount(cell(row, context, "quantity"), what="quantity")
            unit = parse_amount(cell(row, context, "unitamount"), what="unit amount")
            discount = parse_optional_amount(cell(row, context, "discount"), what="discount")
            amount = (quantity if quantity is not None else Decimal("1")) * unit
            if discount:
                amount = amount * (Decimal("100") - discount) / Decimal("100")
        tax = parse_optional_amount(cell(row, context, "taxamount"), what="tax amount")
    except CellError as exc:
        raise _LineError(row.line, str(exc)) from None
    code = cell(row, context, "accountcode")
    if not code and has(context, "accountcode"):
        raise _LineError(row.line, "the line has no account code")
    return LineRecord(
        line_no=line_no,
        account_code=code[:20],
        net=amount.quantize(CENT, rounding=ROUND_HALF_UP),
        tax=(tax or Decimal("0")).quantize(CENT, rounding=ROUND_HALF_UP),
        tax_rate=cell(row, context, "taxtype")[:100],
        description=cell(row, context, "description"),
        line=row.line,
    )
