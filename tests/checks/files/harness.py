"""A test case with a client whose ledger the tests import into, and the import's steps."""

from __future__ import annotations

from unittest import mock

from checks import engine, tasks
from checks.models import LedgerAccount, LedgerImport
from tests import factories as f
from tests.base import BaseTestCase
from tests.checks.files import layouts


class ImportTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.books = f.ClientFactory(practice=cls.practice, name="Acme Trading Ltd")

    def upload(self, data: bytes, name: str = "export.csv", **kw) -> LedgerImport:
        return engine.upload_ledger_file(
            kw.pop("client", self.books), layouts.upload(data, name), actor=self.staff, **kw
        )

    def start(self, imp: LedgerImport, *, good_rows: bool = False) -> LedgerImport:
        """Start the import and run its task as the worker would (eagerly, after commit)."""
        task = tasks.import_ledger_task

        with (
            mock.patch.object(task, "delay", side_effect=lambda *a: task.apply(args=a)) as delay,
            self.captureOnCommitCallbacks(execute=True),
        ):
            engine.start_import(imp, actor=self.staff, import_good_rows=good_rows)
        delay.assert_called_once_with(imp.pk, imp.practice_id)
        imp.refresh_from_db()
        return imp

    def import_file(self, data: bytes, *, good_rows: bool = False, **kw) -> LedgerImport:
        imp = self.upload(data, **kw)
        self.assertEqual(imp.status, LedgerImport.Status.READY, engine.mapping_needs(imp))
        return self.start(imp, good_rows=good_rows)

    def load_chart(self) -> None:
        imp = self.import_file(layouts.accounts_file())
        self.assertEqual(imp.status, LedgerImport.Status.DONE, imp.error)

    @property
    def bank(self) -> LedgerAccount:
        return LedgerAccount.objects.get(client=self.books, code="090")
