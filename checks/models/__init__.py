"""The checks app's models: client ledgers (`ledger`), their imports (`imports`), what
the data-health checks found (`findings`), and check-based flows (`flows`)
and their settings (`flow_settings`)."""

from checks.models.findings import (
    CHECK_RUN_MACHINE,
    FINDING_MACHINE,
    CheckRun,
    ClientCheckSetting,
    CustomCheck,
    Finding,
    HealthScore,
)
from checks.models.flow_settings import FlowSettings
from checks.models.flows import (
    FLOW_RUN_CHECK_MACHINE,
    FLOW_RUN_MACHINE,
    Category,
    Flow,
    FlowCheck,
    FlowClient,
    FlowRun,
    FlowRunCheck,
    FlowRunNote,
    FlowRunSnapshot,
    FlowTemplate,
    FlowTemplateCheck,
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
    "FLOW_RUN_CHECK_MACHINE",
    "FLOW_RUN_MACHINE",
    "Category",
    "Flow",
    "FlowCheck",
    "FlowClient",
    "FlowRun",
    "FlowRunCheck",
    "FlowRunNote",
    "FlowRunSnapshot",
    "FlowSettings",
    "FlowTemplate",
    "FlowTemplateCheck",
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
