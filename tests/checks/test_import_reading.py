"""Reading cells and files: amounts, dates, headers, encodings, quoted fields, line numbers."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.test import SimpleTestCase

from checks.imports import layouts, reading
from checks.imports.reading import CellError, parse_amount, parse_date


class AmountTests(SimpleTestCase):
    def test_it_reads_plain_signed_and_thousands_separated_amounts(self) -> None:
        cases = {"12.50": "12.50", "-12.5": "-12.5", "1,250.00": "1250.00", " 7 ": "7",
                 "1,234,567.89": "1234567.89", "+3.00": "3.00", ".5": "0.5"}  # fmt: skip
        for text, expected in cases.items():
            self.assertEqual(parse_amount(text), Decimal(expected), text)

    def test_it_reads_bracketed_and_currency_negatives(self) -> None:
        cases = {"(500.00)": "-500.00", "£(250.00)": "-250.00", "(£250.00)": "-250.00",
                 "-£3.00": "-3.00", "£1,000.00": "1000.00"}  # fmt: skip
        for text, expected in cases.items():
            self.assertEqual(parse_amount(text), Decimal(expected), text)

    def test_it_refuses_what_is_not_a_number(self) -> None:
        for text in ("abc", "", "1,25.00", "12.50.1", "1e5", "--1"):
            with self.assertRaises(CellError, msg=text) as caught:
                parse_amount(text)
            self.assertEqual(str(caught.exception), f"the amount '{text}' is not a number")

    def test_amounts_are_decimals_never_floats(self) -> None:
        self.assertIsInstance(parse_amount("0.10"), Decimal)
        self.assertEqual(parse_amount("0.10") + parse_amount("0.20"), Decimal("0.30"))


class DateTests(SimpleTestCase):
    def test_it_reads_uk_iso_and_worded_dates(self) -> None:
        self.assertEqual(parse_date("02/09/2026", "dmy"), dt.date(2026, 9, 2))
        self.assertEqual(parse_date("02/09/2026", "mdy"), dt.date(2026, 2, 9))
        self.assertEqual(parse_date("2026-09-02", "mdy"), dt.date(2026, 9, 2))
        self.assertEqual(parse_date("02 Sep 2026", "dmy"), dt.date(2026, 9, 2))
        self.assertEqual(parse_date("2 September 2026", "dmy"), dt.date(2026, 9, 2))

    def test_it_refuses_impossible_and_non_dates(self) -> None:
        with self.assertRaisesMessage(CellError, "the date '31/02/2026' is not a real date"):
            parse_date("31/02/2026", "dmy")
        with self.assertRaisesMessage(CellError, "the date 'next week' is not a date"):
            parse_date("next week", "dmy")

    def test_evidence_tells_the_order_or_that_it_must_be_chosen(self) -> None:
        evidence = reading.DateEvidence()
        for line, text in enumerate(["01/02/2026", "03/04/2026"], start=2):
            evidence.add(line, text)
        self.assertIsNone(evidence.order())
        evidence.add(4, "25/04/2026")
        self.assertEqual(evidence.order(), "dmy")
        self.assertFalse(evidence.mixed)
        evidence.add(5, "04/25/2026")
        self.assertTrue(evidence.mixed)
        words = reading.DateEvidence()
        words.add(2, "02 Sep 2026")
        self.assertEqual(words.order(), "")


class HeaderTests(SimpleTestCase):
    def test_it_strips_the_star_spaces_and_case(self) -> None:
        self.assertEqual(reading.normalise_header(" *ContactName "), "contactname")
        self.assertEqual(reading.normalise_header("*Tax  Code"), "tax code")
        self.assertEqual(reading.normalise_header("\ufeff*Code"), "code")

    def test_the_signature_ignores_what_normalising_ignores(self) -> None:
        self.assertEqual(reading.header_signature(["*Date", "Amount"]),
                         reading.header_signature(["date ", "AMOUNT"]))  # fmt: skip
        self.assertNotEqual(reading.header_signature(["Date", "Amount"]),
                            reading.header_signature(["Amount", "Date"]))  # fmt: skip


class FileReadingTests(SimpleTestCase):
    def test_utf8_with_a_bom_and_crlf_reads_cleanly(self) -> None:
        handle = io.BytesIO("\ufeff*Date,Payee\r\n01/09/2026,Café\r\n".encode())
        encoding = reading.detect_encoding(handle)
        self.assertEqual(encoding, "utf-8-sig")
        rows = list(reading.rows(handle, encoding))
        self.assertEqual([r.cells for r in rows], [["*Date", "Payee"], ["01/09/2026", "Café"]])

    def test_windows_1252_is_read_when_the_file_is_not_utf8(self) -> None:
        handle = io.BytesIO("Date,Amount\n01/09/2026,£12.00\n".encode("cp1252"))
        encoding = reading.detect_encoding(handle)
        self.assertEqual(encoding, "cp1252")
        self.assertEqual(list(reading.rows(handle, encoding))[1].cells[1], "£12.00")

    def test_quoted_commas_and_line_breaks_keep_the_files_line_numbers(self) -> None:
        data = b'Date,Description,Amount\n01/09/2026,"Rent, September","1,250.00"\n' \
               b'02/09/2026,"Two\nlines",5.00\n03/09/2026,Last,1.00\n'  # fmt: skip
        rows = list(reading.rows(io.BytesIO(data), "utf-8-sig"))
        self.assertEqual(rows[1].cells, ["01/09/2026", "Rent, September", "1,250.00"])
        self.assertEqual([(r.line, r.last_line) for r in rows], [(1, 1), (2, 2), (3, 4), (5, 5)])

    def test_detection_skips_title_rows(self) -> None:
        header = b"Date,Source,Contact,Description,Reference,Debit,Credit,Running Balance\n"
        data = b"Account Transactions\nAcme\nFor the period\n\n" + header
        found = layouts.detect(reading.rows(io.BytesIO(data), "utf-8-sig"))
        self.assertEqual((found.layout, found.header.line), (layouts.XERO_ACCOUNT_TRANSACTIONS, 5))
