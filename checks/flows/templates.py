"""The built-in flow templates every practice starts with, and the rules a period sets.

`ensure_builtin_templates(practice)` copies the four built-in templates into a practice
(once: matched on `builtin_key`), so the practice can edit or archive its copy.
`period_rules(check_keys, start, end)` gives the rules of the chosen checks that follow the
reporting period ("transactions since" the period's start for multi-coded contacts and
transaction clean-up), which the creator's Set rules stage shows as defaults.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from checks.models import Category, FlowTemplate, FlowTemplateCheck
from sodium.models import Practice


@dataclasses.dataclass(frozen=True)
class BuiltinTemplate:
    key: str
    name: str
    category: str
    description: str
    checks: tuple[str, ...]  # built-in check keys, in order


BUILTIN_TEMPLATES = (
    BuiltinTemplate(
        "month_end_review",
        "Month-end review",
        Category.MONTH_END,
        "The books brought up to date each month: the bank reconciled, suspense and "
        "uncoded items cleared, duplicates caught and the period locked.",
        ("bank_reconciliation", "transaction_cleanup", "duplicate_transactions", "lock_date"),
    ),
    BuiltinTemplate(
        "year_end_review",
        "Year-end review",
        Category.YEAR_END,
        "Before the accounts are prepared: every check over the financial year.",
        (
            "bank_reconciliation",
            "control_accounts",
            "vat",
            "duplicate_transactions",
            "transaction_cleanup",
            "lock_date",
            "multi_coded_contacts",
            "duplicate_contacts",
            "dormant_accounts",
        ),
    ),
    BuiltinTemplate(
        "vat_return_review",
        "VAT return review",
        Category.VAT,
        "Before a VAT return is filed: receipts for reclaimed VAT, coding, duplicates and the "
        "bank, for the VAT period.",
        ("vat", "multi_coded_contacts", "duplicate_transactions", "bank_reconciliation"),
    ),
    BuiltinTemplate(
        "onboarding_health_check",
        "Onboarding health check",
        Category.ONBOARDING,
        "A new client's books as they come to the practice: the state of the ledger before "
        "taking it on.",
        (
            "bank_reconciliation",
            "control_accounts",
            "transaction_cleanup",
            "duplicate_contacts",
            "dormant_accounts",
            "multi_coded_contacts",
        ),
    ),
)


def ensure_builtin_templates(practice: Practice) -> list[FlowTemplate]:
    """Copy the built-in templates the practice lacks into it; return its copies, in order."""
    have = {
        t.builtin_key: t
        for t in FlowTemplate.objects.filter(practice=practice).exclude(builtin_key="")
    }
    for builtin in BUILTIN_TEMPLATES:
        if builtin.key in have:
            continue
        name = builtin.name
        if FlowTemplate.objects.filter(practice=practice, name=name).exists():
            name = f"{name} (built-in)"
        template = FlowTemplate.objects.create(
            practice=practice,
            name=name,
            description=builtin.description,
            category=builtin.category,
            builtin_key=builtin.key,
        )
        FlowTemplateCheck.objects.bulk_create(
            FlowTemplateCheck(practice=practice, template=template, position=i, check_key=key)
            for i, key in enumerate(builtin.checks)
        )
        have[builtin.key] = template
    return [have[b.key] for b in BUILTIN_TEMPLATES]


# The rules that follow the reporting period: the months it spans, at least one.
_PERIOD_MONTH_RULES = {
    "multi_coded_contacts": "history_months",
    "transaction_cleanup": "history_months",
}


def period_months(start: dt.date, end: dt.date) -> int:
    """Return the calendar months from `start` to `end` inclusive (at least 1)."""
    return max(1, (end.year - start.year) * 12 + end.month - start.month + 1)


def period_rules(check_keys, start: dt.date, end: dt.date) -> dict[str, dict[str, object]]:
    """Return {check key: {rule: value}} for the chosen checks whose rules follow the period."""
    months = period_months(start, end)
    return {
        key: {_PERIOD_MONTH_RULES[key]: months} for key in check_keys if key in _PERIOD_MONTH_RULES
    }
