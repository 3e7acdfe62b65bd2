"""Where the writer's records come from: the `LedgerSource` protocol, and files.

A source gives iterables of typed records (or row errors) per kind of ledger row. The file
source is the first implementation; a live Xero or QuickBooks connection would be another,
yielding the same records from the vendor's API to the same writer, with no check touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import IO, Protocol

from checks.imports import layouts, parsers, reading
from checks.imports.records import (
    AccountRecord,
    ContactRecord,
    LockDateRecord,
    Record,
    RowError,
    StatementLineRecord,
    TransactionRecord,
)


class LedgerSource(Protocol):
    """A client's ledger as records, each kind in an order the writer can follow (accounts
    and contacts before the transactions that name them)."""

    def accounts(self) -> Iterable[AccountRecord | RowError]: ...
    def contacts(self) -> Iterable[ContactRecord | RowError]: ...
    def transactions(self) -> Iterable[TransactionRecord | RowError]: ...
    def statement_lines(self) -> Iterable[StatementLineRecord | RowError]: ...
    def lock_dates(self) -> Iterable[LockDateRecord | RowError]: ...


_KIND_OF_LAYOUT = {
    layouts.XERO_ACCOUNTS: "accounts",
    layouts.XERO_CONTACTS: "contacts",
    layouts.XERO_SALES_INVOICES: "transactions",
    layouts.XERO_BILLS: "transactions",
    layouts.XERO_ACCOUNT_TRANSACTIONS: "transactions",
    layouts.QBO_GENERAL_LEDGER: "transactions",
    layouts.XERO_BANK_STATEMENT: "statement_lines",
    layouts.MAPPED_BANK: "statement_lines",
}


class FileSource:
    """One ledger file in a known layout: its records, read as a stream each time asked.

    `opener` returns the stored file (a context manager over a binary handle); the header is
    found again on every read, so nothing of the file is kept between reads.
    """

    def __init__(
        self,
        opener: Callable[[], AbstractContextManager[IO[bytes]]],
        *,
        layout: str,
        encoding: str,
        date_format: str = reading.DMY,
        mapping: dict[str, str] | None = None,
    ) -> None:
        self.opener = opener
        self.layout = layout
        self.encoding = encoding
        self.date_format = date_format or reading.DMY
        self.mapping = mapping or {}

    def records(self) -> Iterator[Record | RowError]:
        """Yield the file's records and row errors in file order."""
        with self.opener() as handle:
            rows = reading.rows(handle, self.encoding)
            detection = layouts.detect(rows)
            header_end = detection.header.last_line
            rows.close()
            # Detection may have read a row past the header (bills' Type); read again.
            rows = (r for r in reading.rows(handle, self.encoding) if r.line > header_end)
            context = parsers.Context(
                columns=detection.columns, date_format=self.date_format, mapping=self.mapping
            )
            yield from parsers.parse(self.layout, rows, context)

    def _kind(self, kind: str) -> Iterator:
        if _KIND_OF_LAYOUT.get(self.layout) == kind:
            yield from self.records()

    def accounts(self) -> Iterator[AccountRecord | RowError]:
        return self._kind("accounts")

    def contacts(self) -> Iterator[ContactRecord | RowError]:
        return self._kind("contacts")

    def transactions(self) -> Iterator[TransactionRecord | RowError]:
        return self._kind("transactions")

    def statement_lines(self) -> Iterator[StatementLineRecord | RowError]:
        return self._kind("statement_lines")

    def lock_dates(self) -> Iterator[LockDateRecord | RowError]:
        return iter(())
