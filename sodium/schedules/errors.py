"""The two ways a schedule cannot give dates: it is wrong, or a client lacks its anchor."""

from __future__ import annotations


class ScheduleError(ValueError):
    """A schedule that never fires or is malformed; `errors` maps field names to messages.

    Keyed by field so an editor can show each message beside its input.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))


class ClientDateMissing(LookupError):
    """A client-date schedule for a client without that date ("no year end").

    The message is a short reason a preview shows as "skipped: no year end".
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
