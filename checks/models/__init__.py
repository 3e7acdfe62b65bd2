"""The checks app's models: client ledgers (`ledger`), their imports (`imports`)."""

from checks.models.imports import IMPORT_MACHINE, ColumnMapping, LedgerImport
from checks.models.ledger import (
    BankStatementLine,
    LedgerAccount,
    LedgerContact,
    LockDate,
    Transaction,
    TransactionLine,
)

__all__ = [
    "IMPORT_MACHINE",
    "BankStatementLine",
    "ColumnMapping",
    "LedgerAccount",
    "LedgerContact",
    "LedgerImport",
    "LockDate",
    "Transaction",
    "TransactionLine",
]
