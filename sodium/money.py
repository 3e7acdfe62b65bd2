"""Money as people read it: `format_money(Decimal("1234.5"), "GBP")` → "£1,234.50".

Amounts are `Decimal` everywhere; this only words them (two places, thousands separated,
the currency's symbol where it has a common one, else its ISO code first).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
CENT = Decimal("0.01")


def format_money(amount: Decimal | int | str | None, currency: str = "GBP") -> str:
    """Return `amount` in `currency` for display; "" for None. A float is refused (TypeError):
    money is never a float."""
    if amount is None:
        return ""
    if isinstance(amount, float):
        raise TypeError("Money is a Decimal, never a float.")
    value = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    digits = f"{abs(value):,.2f}"
    symbol = SYMBOLS.get((currency or "").upper())
    if symbol:
        return f"{sign}{symbol}{digits}"
    return f"{sign}{(currency or '').upper()} {digits}".strip()
