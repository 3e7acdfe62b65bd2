"""Template filters for texts: `{{ body|sms_segments }}` → "42 characters · 1 segment (GSM-7)",
`{{ contact.mobile|mobile }}` → "07700 900123" (UK) or "+1 415-555-2671" (elsewhere)."""

from __future__ import annotations

from django import template

from sodium.sms.numbers import display_mobile, e164
from sodium.sms.segments import count_segments

register = template.Library()


@register.filter
def sms_segments(text: str) -> str:
    """Return the segment line for `text` (see sodium.sms.segments.count_segments)."""
    return count_segments(str(text or "")).label


@register.filter
def mobile(number) -> str:
    """Return a mobile as staff read it (see sodium.sms.numbers.display_mobile)."""
    return display_mobile(number)


@register.filter
def mobile_e164(number) -> str:
    """Return a mobile in E.164 for `tel:` links ("" when it is not a possible number)."""
    return e164(number)


@register.filter
def mobiles(numbers) -> str:
    """Return a list of mobiles (an SMS's `to`) as staff read them, comma-separated."""
    return ", ".join(display_mobile(n) for n in numbers or [])
