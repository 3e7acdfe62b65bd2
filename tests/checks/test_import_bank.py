"""Bank statements: Xero's layout, a bank's own download mapped once and remembered, and
files whose dates read both ways."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from checks import engine
from checks.imports import layouts as L
from checks.models import BankStatementLine, ColumnMapping, LedgerImport
from tests.checks.files import layouts
from tests.checks.files.harness import ImportTestCase

S = LedgerImport.Status


def statement(*rows: list[str]) -> bytes:
    return layouts.csv_bytes([layouts.XERO_BANK_STATEMENT, *rows])


LINES = [
    ["25/09/2026", "-12.50", "Coffee Shop", "Card payment", "REF1", ""],
    ["26/09/2026", "1,250.00", "Bright Ideas Ltd", "Invoice INV-0001", "INV-0001", ""],
    ["25/09/2026", "-12.50", "Coffee Shop", "Card payment", "REF1", ""],  # the same again
]
BANK_HEADER = ["Number", "Date", "Account", "Amount", "Subcategory", "Memo"]


class XeroBankStatementTests(ImportTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.load_chart()

    def test_it_writes_signed_lines_to_the_chosen_bank_account(self) -> None:
        imp = self.import_file(statement(*LINES), bank_account=self.bank)
        self.assertEqual((imp.layout, imp.status), (L.XERO_BANK_STATEMENT, S.DONE), imp.error)
        lines = list(BankStatementLine.objects.filter(client=self.books).order_by("date", "id"))
        self.assertEqual([(ln.date, ln.amount) for ln in lines],
                         [(dt.date(2026, 9, 25), Decimal("-12.50")),
                          (dt.date(2026, 9, 25), Decimal("-12.50")),
                          (dt.date(2026, 9, 26), Decimal("1250.00"))])  # fmt: skip
        self.assertEqual({ln.bank_account_id for ln in lines}, {self.bank.pk})
        # Identical lines stay two lines, told apart by their place in the file.
        self.assertEqual(len({ln.source_key for ln in lines}), 3)

    def test_importing_the_same_statement_again_adds_nothing(self) -> None:
        self.import_file(statement(*LINES), bank_account=self.bank)
        again = self.import_file(statement(*LINES), bank_account=self.bank)
        self.assertEqual((again.created_count, again.unchanged_count), (0, 3))
        self.assertEqual(BankStatementLine.objects.filter(client=self.books).count(), 3)

    def test_a_statement_needs_its_bank_account_before_it_starts(self) -> None:
        imp = self.upload(statement(*LINES))
        self.assertEqual(engine.mapping_needs(imp), ["bank_account"])
        with self.assertRaisesMessage(engine.ImportRefused, "Choose the bank account"):
            engine.start_import(imp, actor=self.staff)
        imp = engine.set_mapping(imp, actor=self.staff, bank_account=self.bank)
        self.assertEqual(self.start(imp).status, S.DONE)


class MappedBankFileTests(ImportTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.load_chart()
        self.data = layouts.csv_bytes(
            [BANK_HEADER, ["1", "25/09/2026", "090", "-40.00", "Fuel", "Garage"],
             ["2", "30/09/2026", "090", "100.00", "Refund", "Returned goods"]]
        )  # fmt: skip
        self.mapping = {"date": "Date", "amount": "Amount", "payee": "Memo",
                        "description": "Subcategory"}  # fmt: skip

    def test_an_unknown_header_needs_mapping_and_shows_its_rows(self) -> None:
        imp = self.upload(self.data, bank_account=self.bank)
        self.assertEqual((imp.layout, imp.status), (L.UNKNOWN, S.NEEDS_MAPPING))
        self.assertEqual(engine.mapping_needs(imp), ["columns", "date_format"])
        shown = engine.preview(imp)
        self.assertEqual(shown.headers, BANK_HEADER)
        self.assertEqual(shown.raw[0][1], "25/09/2026")
        self.assertEqual(shown.rows, [])

    def test_the_mapping_reads_the_file_and_is_remembered_for_the_next_one(self) -> None:
        imp = self.upload(self.data, bank_account=self.bank)
        imp = engine.set_mapping(imp, actor=self.staff, mapping=self.mapping)
        self.assertEqual((imp.layout, imp.status), (L.MAPPED_BANK, S.READY))
        first = engine.preview(imp).rows[0]
        self.assertEqual((first.line, first.values["amount"], first.values["payee"]),
                         (2, Decimal("-40.00"), "Garage"))  # fmt: skip
        self.assertEqual(self.start(imp).created_count, 2)
        remembered = ColumnMapping.objects.get(client=self.books)
        self.assertEqual(remembered.source, "bank:090")
        # The next download from that bank is mapped without asking.
        nxt = self.upload(self.data, bank_account=self.bank)
        self.assertEqual((nxt.layout, nxt.status), (L.MAPPED_BANK, S.READY))
        self.assertEqual(self.start(nxt).unchanged_count, 2)

    def test_a_remembered_mapping_is_the_clients_own(self) -> None:
        imp = self.upload(self.data, bank_account=self.bank)
        engine.set_mapping(imp, actor=self.staff, mapping=self.mapping)
        other = self.upload(self.data, client=self.other_client)
        self.assertEqual(other.status, S.NEEDS_MAPPING)

    def test_debit_and_credit_columns_make_one_signed_amount(self) -> None:
        data = layouts.csv_bytes(
            [["Txn Date", "Details", "Paid out", "Paid in"],
             ["01/09/2026", "Rent", "500.00", ""], ["02/09/2026", "Sale", "", "80.00"]]
        )  # fmt: skip
        imp = self.upload(data, bank_account=self.bank)
        mapping = {"date": "txn date", "debit": "Paid out", "credit": "Paid in",
                   "description": "Details"}  # fmt: skip
        with self.assertRaisesMessage(engine.ImportRefused, "day first or month first"):
            engine.start_import(engine.set_mapping(imp, actor=self.staff, mapping=mapping),
                                actor=self.staff)  # fmt: skip
        imp = self.start(engine.set_mapping(imp, actor=self.staff, date_format="dmy"))
        self.assertEqual(imp.status, S.DONE, imp.error)
        amounts = BankStatementLine.objects.filter(client=self.books).order_by("date")
        self.assertEqual([ln.amount for ln in amounts], [Decimal("-500.00"), Decimal("80.00")])

    def test_a_mapping_naming_no_column_of_the_file_is_refused(self) -> None:
        imp = self.upload(self.data, bank_account=self.bank)
        with self.assertRaisesMessage(engine.ImportRefused, "The file has no column “Value”"):
            engine.set_mapping(imp, actor=self.staff, mapping={"date": "Date", "amount": "Value"})
        with self.assertRaisesMessage(engine.ImportRefused, "Choose the Amount column"):
            engine.set_mapping(imp, actor=self.staff, mapping={"date": "Date"})


class AmbiguousDatesTests(ImportTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.load_chart()
        self.data = statement(["01/02/2026", "-5.00", "A", "", "", ""],
                              ["03/04/2026", "-6.00", "B", "", "", ""])  # fmt: skip

    def test_a_file_whose_dates_read_both_ways_asks_for_the_order(self) -> None:
        imp = self.upload(self.data, bank_account=self.bank)
        self.assertEqual(
            (imp.status, engine.mapping_needs(imp)), (S.NEEDS_MAPPING, ["date_format"])
        )
        imp = engine.set_mapping(imp, actor=self.staff, date_format="mdy")
        self.assertEqual(imp.status, S.READY)
        self.start(imp)
        dates = BankStatementLine.objects.filter(client=self.books).order_by("date")
        self.assertEqual([ln.date for ln in dates], [dt.date(2026, 1, 2), dt.date(2026, 3, 4)])
        # Remembered: the next such file from this bank is read the same way.
        self.assertEqual(self.upload(self.data, bank_account=self.bank).date_format, "mdy")

    def test_a_chosen_order_the_dates_contradict_is_refused(self) -> None:
        data = statement(["25/02/2026", "-5.00", "A", "", "", ""])
        imp = self.upload(data, bank_account=self.bank)
        self.assertEqual((imp.status, imp.date_format), (S.READY, "dmy"))
        with self.assertRaisesMessage(engine.ImportRefused, "Line 2 has 25/02/2026"):
            engine.set_mapping(imp, actor=self.staff, date_format="mdy")
