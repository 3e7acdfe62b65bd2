"""The one way the product writes CSV: cells a spreadsheet would run as formulas are made text.

A cell whose text starts with "=", "+", "-" or "@" (or a tab or carriage return, which
spreadsheets skip before looking) is a formula to Excel and LibreOffice: a client name
"=HYPERLINK(…)" typed into the portal would become a live link, or worse, in the export a
member of staff opens. Such text gets a leading apostrophe, which spreadsheets show as
plain text. Numbers stay numbers (-12.50 is data, not a formula). Every CSV export goes
through `write_rows` or `csv_response`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

from django.http import HttpResponse
from django.utils.http import content_disposition_header

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str | int | float | Decimal:
    """Return `value` as a CSV cell that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def write_rows(out: TextIO, rows: Iterable[Iterable[Any]]) -> None:
    """Write `rows` (the header first) to `out` as CSV, every cell neutralised.

    Every cell is quoted: a spreadsheet set to another delimiter (";" in much of Europe) then
    still reads "Acme;=cmd…" as one cell, never as a second one starting with a formula.
    """
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])


def csv_response(filename: str, rows: Iterable[Iterable[Any]]) -> HttpResponse:
    """Return a CSV download (an attachment, UTF-8 with a BOM so Excel reads accents)."""
    response = HttpResponse(
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": content_disposition_header(True, filename),
            "X-Content-Type-Options": "nosniff",
        },
    )
    response.write("\ufeff")
    write_rows(response, rows)
    return response
