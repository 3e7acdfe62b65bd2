"""Bank statements: Xero's import layout, and a bank's own download with mapped columns."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

from checks.imports.parsers.common import Context, Occurrences, cell
from checks.imports.reading import CellError, Row, parse_amount, parse_date, parse_optional_amount
from checks.imports.records import RowError, StatementLineRecord


def xero_statement(
    rows: Iterable[Row], context: Context
) -> Iterator[StatementLineRecord | RowError]:
    """`Date, Amount, Payee, Description, Reference, Cheque Number`: one signed amount."""
    mapping = {
        "date": "date",
        "amount": "amount",
        "payee": "payee",
        "description": "description",
        "reference": "reference",
        "cheque": "cheque number" if "cheque number" in context.columns else "check number",
    }
    return _statement(rows, context, mapping)


def mapped_statement(
    rows: Iterable[Row], context: Context
) -> Iterator[StatementLineRecord | RowError]:
    """A bank's own columns, mapped by a person: Date, Amount or Debit / Credit, Payee, …"""
    return _statement(rows, context, context.mapping)


def _statement(
    rows: Iterable[Row], context: Context, mapping: dict[str, str]
) -> Iterator[StatementLineRecord | RowError]:
    occurrences = Occurrences()

    def get(row: Row, name: str) -> str:
        header = mapping.get(name)
        return cell(row, context, header) if header else ""

    for row in rows:
        if row.blank:
            continue
        try:
            date = parse_date(get(row, "date"), context.date_format)
            if mapping.get("amount"):
                amount = parse_amount(get(row, "amount"))
            else:
                money_out = parse_optional_amount(get(row, "debit"), what="debit") or Decimal(0)
                money_in = parse_optional_amount(get(row, "credit"), what="credit") or Decimal(0)
                amount = money_in - abs(money_out)
        except CellError as exc:
            yield RowError(row.line, str(exc))
            continue
        payee, description = get(row, "payee")[:255], get(row, "description")
        reference, cheque = get(row, "reference")[:255], get(row, "cheque")[:50]
        yield StatementLineRecord(
            date=date,
            amount=amount,
            payee=payee,
            description=description,
            reference=reference,
            cheque_number=cheque,
            # Its own fields and its place among identical lines of the file.
            source_key=occurrences.key(
                "line", date.isoformat(), amount, payee, description, reference, cheque
            ),
            line=row.line,
        )
