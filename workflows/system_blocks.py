"""Which built-in text a step type falls back on when its step has no content of its own.

The built-in texts themselves (defaults, the practice's copies) are the core's
(`sodium.messaging.builtins`); an app with client-facing step types registers here which of
its texts each type uses, so the step wizard's review can quote them.
"""

from __future__ import annotations

from collections.abc import Mapping

# step type -> key of the built-in text its steps use when they have no content of their own
STEP_TYPE_BLOCK: dict[str, str] = {}


def register_step_type_blocks(step_types: Mapping[str, str]) -> None:
    """Say which built-in text each of an app's step types falls back on."""
    STEP_TYPE_BLOCK.update({str(t): key for t, key in step_types.items()})
