"""`{{ amount|money:currency }}`: an amount as `sodium.money.format_money` words it."""

from __future__ import annotations

from django import template

from sodium.money import format_money

register = template.Library()


@register.filter
def money(amount, currency: str = "GBP") -> str:
    return format_money(amount, currency or "GBP")
