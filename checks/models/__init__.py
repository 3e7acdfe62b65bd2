"""The checks app's models: client ledgers (`ledger`), their imports (`imports`), and what
the data-health checks found (`findings`)."""

from checks.models.findings import (
    CHECK_RUN_MACHINE,
    FINDING_MACHINE,
    CheckRun,
    ClientCheckSetting,
    CustomCheck,
    Finding,
    HealthScore,
)
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
    "CHECK_RUN_MACHINE",
    "FINDING_MACHINE",
    "CheckRun",
    "ClientCheckSetting",
    "CustomCheck",
    "Finding",
    "HealthScore",
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
