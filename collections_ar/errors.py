"""The one refusal of every AR write."""

from __future__ import annotations


class ARError(Exception):
    """A refused AR change; `errors` maps a field (or "__all__") to a readable message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors
