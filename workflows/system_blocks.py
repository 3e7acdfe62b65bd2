"""Built-in emails that apps add to the content library, without workflows importing the apps.

An app that sends emails of its own (the portal: sign-in links, document requests, approvals,
confirmations) registers, when it loads, the defaults of its built-in blocks, the block that a
step type of its uses when the step has no content of its own. The library lists them (with
the default wording until the practice saves its own copy) and the step wizard's review
quotes them.
"""

from __future__ import annotations

from collections.abc import Mapping

from sodium.models import Practice
from workflows.models import ContentBlock

# key -> (name, subject, body), in registration order (the library lists them in this order)
DEFAULTS: dict[str, tuple[str, str, str]] = {}
# step type -> key of the block its steps use when they have no content of their own
STEP_TYPE_BLOCK: dict[str, str] = {}


def register_system_blocks(
    defaults: Mapping[str, tuple[str, str, str]],
    *,
    step_types: Mapping[str, str] | None = None,
) -> None:
    """Add an app's built-in blocks and the step types that fall back on them."""
    DEFAULTS.update(defaults)
    STEP_TYPE_BLOCK.update({str(t): key for t, key in (step_types or {}).items()})


def default_block(practice: Practice, key: str) -> ContentBlock:
    """Return built-in block `key` with its default wording, unsaved (the practice has no
    copy of its own yet)."""
    name, subject, body = DEFAULTS[key]
    return ContentBlock(practice=practice, system_key=key, name=name, subject=subject, body=body)


def position(key: str) -> int:
    """Return where the built-in block `key` comes in the library (unknown keys last)."""
    keys = list(DEFAULTS)
    return keys.index(key) if key in keys else len(keys)
