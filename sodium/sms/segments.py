"""How many SMS segments a text takes: GSM-7 (160, or 153 a part) or UCS-2 (70, or 67).

static/js/sms-counter.js counts the same way in the editor; tests/sodium/test_sms_segments.py
holds the cases both must agree on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# GSM 03.38's basic character set: one septet each.
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Its extension table: an escape septet plus one, so each counts twice.
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM7 = "GSM-7"
UCS2 = "Unicode"


@dataclass(frozen=True)
class Segments:
    """What a text costs: its length in the encoding's units, its parts, the encoding."""

    characters: int
    segments: int
    encoding: str

    @property
    def label(self) -> str:
        parts = "segment" if self.segments == 1 else "segments"
        chars = "character" if self.characters == 1 else "characters"
        return f"{self.characters} {chars} · {self.segments} {parts} ({self.encoding})"


def count_segments(text: str) -> Segments:
    """Return the length, segment count and encoding of `text` as an SMS.

    GSM-7 when every character is in the GSM basic or extension table (extension characters
    count two), else UCS-2, counted in UTF-16 code units (an emoji counts two). One segment
    holds 160 GSM-7 or 70 UCS-2 units; a longer text is sent in parts of 153 or 67 (each part
    carries a 6- or 7-byte header). Empty text is 0 segments.
    """
    if all(c in GSM_BASIC or c in GSM_EXTENDED for c in text):
        units = sum(2 if c in GSM_EXTENDED else 1 for c in text)
        single, part, encoding = 160, 153, GSM7
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, UCS2
    if units == 0:
        return Segments(0, 0, encoding)
    segments = 1 if units <= single else math.ceil(units / part)
    return Segments(units, segments, encoding)
