"""Reading ledger files: bytes → numbered rows of text cells, and cells → typed values.

Files are read as a stream (the csv module over a text wrapper), so memory stays flat
whatever their size. Line numbers are the file's own, 1-based, counting the header, title
and blank lines, so a message points at the line a person sees in a text editor.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO

# Wide enough for a long description; refuses a file that is one enormous "cell".
csv.field_size_limit(1024 * 1024)

DMY = "dmy"
MDY = "mdy"
DATE_FORMATS = {DMY: "DD/MM/YYYY", MDY: "MM/DD/YYYY"}
_CHUNK = 1024 * 1024


class CellError(ValueError):
    """A cell that cannot be read as the type its column holds; the message says why."""


@dataclass(frozen=True)
class Row:
    """One record of the file: its cells and the lines it spans (a quoted cell may hold a
    line break, so a record can span several)."""

    line: int
    last_line: int
    cells: list[str]

    @property
    def blank(self) -> bool:
        return not any(c.strip() for c in self.cells)


def detect_encoding(handle: IO[bytes]) -> str | None:
    """Return "utf-8-sig" when the whole file is UTF-8 (with or without a BOM), "cp1252"
    when it is not but reads as Windows-1252, else None (not text). Leaves it at the start."""
    handle.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := handle.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    handle.seek(0)
    decoder = codecs.getincrementaldecoder("cp1252")()
    try:
        while chunk := handle.read(_CHUNK):
            decoder.decode(chunk)
        return "cp1252"
    except UnicodeDecodeError:
        return None
    finally:
        handle.seek(0)


def rows(handle: IO[bytes], encoding: str) -> Iterator[Row]:
    """Yield the file's records with their line numbers (CRLF, LF, quoted commas and
    line breaks all read as a spreadsheet would)."""
    handle.seek(0)
    text = io.TextIOWrapper(handle, encoding=encoding, newline="")
    try:
        reader = csv.reader(text)
        last = 0
        for cells in reader:
            yield Row(line=last + 1, last_line=reader.line_num, cells=cells)
            last = reader.line_num
    finally:
        text.detach()


def normalise_header(cell: str) -> str:
    """Return a header as layouts match it: surrounding spaces and a leading `*` (Xero's mark
    of a required column) dropped, lower case, inner runs of spaces made one."""
    cell = cell.strip().lstrip("\ufeff").strip()
    cell = cell.removeprefix("*").strip()
    return " ".join(cell.lower().split())


# --- amounts ---------------------------------------------------------------------------------

_AMOUNT = re.compile(r"^(?P<sign>[-+]?)(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)$")
_CURRENCY = "£$€"


def parse_amount(text: str, *, what: str = "amount") -> Decimal:
    """Return the amount in `text` as a Decimal: "1,250.00", "-12.5", "(500.00)", "£(250.00)",
    "-£3.00". Raises CellError ("the amount 'abc' is not a number")."""
    raw = text.strip()
    value = raw.replace(" ", "")
    negative = False
    if value.startswith("-") and len(value) > 1 and value[1] in _CURRENCY:
        negative, value = True, value[1:]
    value = value.lstrip(_CURRENCY)
    if value.startswith("(") and value.endswith(")"):
        negative, value = not negative, value[1:-1].lstrip(_CURRENCY)
    found = _AMOUNT.match(value)
    if not found:
        raise CellError(f"the {what} '{raw}' is not a number")
    try:
        amount = Decimal(found["num"].replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise CellError(f"the {what} '{raw}' is not a number") from None
    if found["sign"] == "-":
        negative = not negative
    return -amount if negative else amount


def parse_optional_amount(text: str, *, what: str = "amount") -> Decimal | None:
    """Return `parse_amount(text)`, or None for an empty cell."""
    return parse_amount(text, what=what) if text.strip() else None


# --- dates -----------------------------------------------------------------------------------

_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")
_WORDS_DATE = re.compile(r"^(\d{1,2})[ -]([A-Za-z]{3,9})[ -](\d{4})$")
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}


def date_orders(text: str) -> set[str] | None:
    """Return the orders ("dmy", "mdy") a numeric date like 03/04/2026 may be read in, an
    empty set for one that needs no order (2026-04-03, 3 Apr 2026), or None for a non-date."""
    value = text.strip()
    found = _NUMERIC_DATE.match(value)
    if found:
        first, second = int(found[1]), int(found[2])
        orders = set()
        if 1 <= first <= 31 and 1 <= second <= 12:
            orders.add(DMY)
        if 1 <= first <= 12 and 1 <= second <= 31:
            orders.add(MDY)
        return orders or None
    if _ISO_DATE.match(value) or _WORDS_DATE.match(value):
        return set()
    return None


def parse_date(text: str, date_format: str, *, what: str = "date") -> dt.date:
    """Return the date in `text`: DD/MM/YYYY (or MM/DD/YYYY when `date_format` is "mdy"),
    YYYY-MM-DD, or "02 Sep 2026". Raises CellError with a plain reason."""
    value = text.strip()
    try:
        found = _NUMERIC_DATE.match(value)
        if found:
            a, b, year = int(found[1]), int(found[2]), int(found[3])
            day, month = (b, a) if date_format == MDY else (a, b)
            return dt.date(year, month, day)
        found = _ISO_DATE.match(value)
        if found:
            return dt.date(int(found[1]), int(found[2]), int(found[3]))
        found = _WORDS_DATE.match(value)
        if found and found[2].lower() in _MONTHS:
            return dt.date(int(found[3]), _MONTHS[found[2].lower()], int(found[1]))
    except ValueError:
        shown = DATE_FORMATS.get(date_format, DATE_FORMATS[DMY])
        raise CellError(f"the {what} '{value}' is not a real date read as {shown}") from None
    if not value:
        raise CellError(f"the {what} is missing")
    raise CellError(f"the {what} '{value}' is not a date")


def parse_optional_date(text: str, date_format: str, *, what: str = "date") -> dt.date | None:
    return parse_date(text, date_format, what=what) if text.strip() else None


@dataclass
class DateEvidence:
    """What the numeric dates of a file say about their order, gathered a cell at a time."""

    dmy_only: tuple[int, str] | None = None  # the first (line, text) only day-first can read
    mdy_only: tuple[int, str] | None = None
    numeric: int = 0

    def add(self, line: int, text: str) -> None:
        orders = date_orders(text)
        if not orders:
            return
        self.numeric += 1
        if orders == {DMY} and self.dmy_only is None:
            self.dmy_only = (line, text.strip())
        elif orders == {MDY} and self.mdy_only is None:
            self.mdy_only = (line, text.strip())

    @property
    def mixed(self) -> bool:
        return self.dmy_only is not None and self.mdy_only is not None

    def order(self) -> str | None:
        """Return the order the dates force ("dmy" / "mdy"), "" when none is needed (no
        numeric dates), or None when every date reads both ways (the person must choose)."""
        if self.dmy_only:
            return DMY
        if self.mdy_only:
            return MDY
        return "" if not self.numeric else None

    def mixed_message(self) -> str:
        (line_a, a), (line_b, b) = sorted([self.dmy_only, self.mdy_only])
        first = "day first" if (line_a, a) == self.dmy_only else "month first"
        second = "month first" if first == "day first" else "day first"
        return (
            f"The file mixes date formats: line {line_a} has {a} ({first}) and line {line_b} "
            f"has {b} ({second}). Export it again with one date format."
        )


def header_signature(headers: Iterable[str]) -> str:
    """Return the SHA-256 of a header row's normalised cells (a ColumnMapping's key)."""
    joined = "\x1f".join(normalise_header(h) for h in headers)
    return hashlib.sha256(joined.encode()).hexdigest()
