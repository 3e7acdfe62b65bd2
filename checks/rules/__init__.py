"""The built-in data-health checks, one module each (see `checks.rules.base`).

`CHECKS` lists them in the page's order; their weights sum to 100 (`checks.scoring`).
"""

from __future__ import annotations

from checks.rules import (
    bank_reconciliation,
    control_accounts,
    dormant_accounts,
    duplicate_contacts,
    duplicate_transactions,
    lock_date,
    multi_coded_contacts,
    transaction_cleanup,
    vat,
)
from checks.rules.base import Check

CHECKS: tuple[Check, ...] = (
    bank_reconciliation.CHECK,
    control_accounts.CHECK,
    vat.CHECK,
    duplicate_transactions.CHECK,
    transaction_cleanup.CHECK,
    lock_date.CHECK,
    multi_coded_contacts.CHECK,
    duplicate_contacts.CHECK,
    dormant_accounts.CHECK,
)
BY_KEY: dict[str, Check] = {check.key: check for check in CHECKS}

assert sum(check.weight for check in CHECKS) == 100, "built-in check weights must sum to 100"
