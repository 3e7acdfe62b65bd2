"""Template filters for texts: `{{ body|sms_segments }}` → "42 characters · 1 segment (GSM-7)"."""

from __future__ import annotations

from django import template

from sodium.sms.segments import count_segments

register = template.Library()


@register.filter
def sms_segments(text: str) -> str:
    """Return the segment line for `text` (see sodium.sms.segments.count_segments)."""
    return count_segments(str(text or "")).label
