"""Per-layout parsers: a file's data rows → typed records or row errors, in file order.

Each parser takes the rows after the header and a `Context` (the header's columns, the date
order, a mapping) and yields `records` dataclasses or `RowError`s. Parsers read the file
only; what needs the ledger (an unknown account code) is the writer's to refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from checks.imports import layouts
from checks.imports.parsers import bank, common, reports, xero
from checks.imports.reading import Row
from checks.imports.records import Record, RowError

Context = common.Context

PARSERS: dict[str, Callable[[Iterable[Row], Context], Iterator[Record | RowError]]] = {
    layouts.XERO_ACCOUNTS: xero.accounts,
    layouts.XERO_CONTACTS: xero.contacts,
    layouts.XERO_SALES_INVOICES: xero.sales_invoices,
    layouts.XERO_BILLS: xero.bills,
    layouts.XERO_BANK_STATEMENT: bank.xero_statement,
    layouts.MAPPED_BANK: bank.mapped_statement,
    layouts.XERO_ACCOUNT_TRANSACTIONS: reports.xero_account_transactions,
    layouts.QBO_GENERAL_LEDGER: reports.qbo_general_ledger,
}


def parse(layout: str, rows: Iterable[Row], context: Context) -> Iterator[Record | RowError]:
    """Yield the records (and row errors) of a file in `layout`, in file order."""
    return PARSERS[layout](rows, context)
