"""Lock date: the books' lock date older than the last complete month, after a grace period.

Once a month is over, its books should be locked within the grace period (default 14 days)
after its last day. On the run's day the lock date must therefore be at least the end of the
last complete month if that month ended more than the grace period ago, else the end of the
month before it. An earlier lock date, or none at all, is one amber finding ("lock-date").
The lock date is the latest `LockDate` row (by when it was recorded).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from checks.models import Finding, LockDate
from checks.rules.base import Check, FindingData, Rules, last_month_end, ledger


@dataclasses.dataclass(frozen=True)
class LockDateRules(Rules):
    grace_days: int = 14

    def errors(self) -> dict[str, list[str]]:
        if not isinstance(self.grace_days, int) or not 0 <= self.grace_days <= 120:
            return {"grace_days": ["Give a number of days from 0 to 120."]}
        return {}


def required_lock_date(today: dt.date, grace_days: int) -> dt.date:
    """Return the earliest lock date that is not overdue on `today`."""
    month_end = last_month_end(today)
    if (today - month_end).days > grace_days:
        return month_end
    return last_month_end(month_end)


def run(client, rules: LockDateRules, today: dt.date) -> list[FindingData]:
    required = required_lock_date(today, rules.grace_days)
    latest = ledger(LockDate, client).order_by("-recorded_at", "-id").first()
    if latest is not None and latest.lock_date >= required:
        return []
    if latest is None:
        title = "The books have no lock date"
    else:
        title = f"The books are locked only to {latest.lock_date:%-d %b %Y}"
    return [
        FindingData(
            fingerprint="lock-date",
            severity=Finding.Severity.AMBER,
            title=title,
            detail=(
                f"They should be locked to at least {required:%-d %b %Y} "
                f"({rules.grace_days} days' grace after a month ends)."
            ),
            rows={"checks.lockdate": [latest.pk]} if latest else {},
        )
    ]


CHECK = Check(
    key="lock_date",
    name="Lock date",
    description=(
        "The books' lock date older than the end of the last complete month, once two weeks "
        "have passed since it ended."
    ),
    weight=8,
    rules_class=LockDateRules,
    run=run,
)
