"""Built-in emails that apps add to the content library, without workflows importing the apps.

An app that sends emails of its own (the portal: sign-in links, document requests, approvals,
confirmations) registers, when it loads, the defaults of its built-in blocks, the block that a
step type of its uses when the step has no content of its own, and the function that gives a
practice its own editable copy of every block. The library lists them and the step wizard's
review quotes them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sodium.models import Practice

# key -> (name, subject, body), in registration order (the library lists them in this order)
DEFAULTS: dict[str, tuple[str, str, str]] = {}
# step type -> key of the block its steps use when they have no content of their own
STEP_TYPE_BLOCK: dict[str, str] = {}
_ENSURERS: list[Callable[[Practice], Any]] = []


def register_system_blocks(
    defaults: Mapping[str, tuple[str, str, str]],
    *,
    step_types: Mapping[str, str] | None = None,
    ensure: Callable[[Practice], Any] | None = None,
) -> None:
    """Add an app's built-in blocks; `ensure(practice)` creates the practice's missing copies."""
    DEFAULTS.update(defaults)
    STEP_TYPE_BLOCK.update({str(t): key for t, key in (step_types or {}).items()})
    if ensure is not None and ensure not in _ENSURERS:
        _ENSURERS.append(ensure)


def ensure_system_blocks(practice: Practice) -> None:
    """Give the practice its own copy of every registered built-in block that it lacks."""
    for ensure in _ENSURERS:
        ensure(practice)


def position(key: str) -> int:
    """Return where the built-in block `key` comes in the library (unknown keys last)."""
    keys = list(DEFAULTS)
    return keys.index(key) if key in keys else len(keys)
