"""The health score: 0–100 per client from its open findings, weighted per check.

The formula, in plain words (the page shows this):

    Every check has a weight, and the weights of the checks that run add up to 100 points
    (a check switched off for a client gives its weight to the others in proportion).
    Each open red finding costs its check half of the check's weight, each open amber
    finding a quarter and each open info finding a tenth; a check never loses more than
    its weight. The score is 100 less what the checks lost, rounded to a whole number.
    Dismissed findings cost nothing.

Bands: 71–100 good (teal), 36–70 needs attention (amber), 0–35 poor (red).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal

from checks.models import HealthScore

# The share of its check's weight that one open finding of a severity costs.
COST = {"red": Decimal("0.5"), "amber": Decimal("0.25"), "info": Decimal("0.1")}
BANDS = ((71, HealthScore.Band.GOOD), (36, HealthScore.Band.ATTENTION), (0, HealthScore.Band.POOR))


def band(score: int) -> str:
    """Return the band of a score: good (71–100), attention (36–70) or poor (0–35)."""
    for floor, name in BANDS:
        if score >= floor:
            return name
    return HealthScore.Band.POOR


def weights(checks: Iterable) -> dict[str, Decimal]:
    """Return each running check's weight, scaled so that they add up to 100."""
    checks = list(checks)
    total = sum(check.weight for check in checks)
    if not total:
        return {}
    return {check.key: Decimal(100) * check.weight / total for check in checks}


def score(
    open_counts: Mapping[str, Mapping[str, int]], check_weights: Mapping[str, Decimal]
) -> int:
    """Return the score for {check key: {severity: open findings}} and the checks' weights."""
    lost = Decimal(0)
    for key, weight in check_weights.items():
        counts = open_counts.get(key, {})
        share = sum((COST[sev] * n for sev, n in counts.items() if sev in COST), Decimal(0))
        lost += weight * min(Decimal(1), share)
    value = (Decimal(100) - lost).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(0, min(100, int(value)))
