"""What every parser shares: the header's columns, the date order, reading a cell."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from checks.imports.reading import DMY, Row


@dataclass
class Context:
    columns: dict[str, int]  # normalised header → index
    date_format: str = DMY
    mapping: dict[str, str] = field(default_factory=dict)  # field → normalised header


def cell(row: Row, context: Context, *names: str) -> str:
    """Return the stripped cell of the first of `names` the header has ("" when none)."""
    for name in names:
        index = context.columns.get(name)
        if index is not None:
            return row.cells[index].strip() if index < len(row.cells) else ""
    return ""


def has(context: Context, *names: str) -> bool:
    return any(name in context.columns for name in names)


class Occurrences:
    """Number identical rows of one file (1, 2, …), so the same file imported twice keys
    each row the same way and a row repeated in a file stays two rows.

    Keeps an 8-byte digest per distinct row: a few tens of MB at a million rows.
    """

    def __init__(self) -> None:
        self._seen: Counter[int] = Counter()

    def key(self, prefix: str, *parts: object) -> str:
        joined = "\x1f".join(str(p) for p in parts)
        digest = hashlib.blake2b(joined.encode(), digest_size=12).hexdigest()
        small = int(digest[:16], 16)
        self._seen[small] += 1
        return f"{prefix}:{digest}:{self._seen[small]}"
