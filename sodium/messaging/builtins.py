"""Built-in texts: the defaults an app registers, and the practice's editable copies.

An app that sends messages of its own (the portal: sign-in links, document requests,
approvals …) registers, when it loads, each built-in text with its message use. The content
library lists them with the default wording until the practice saves its own copy (a
ContentBlock with that `system_key`); sending reads the copy, else the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sodium import liquid
from sodium.messaging.variables import EMAIL
from sodium.models import ContentBlock, Practice


@dataclass(frozen=True)
class Builtin:
    key: str
    name: str
    subject: str
    body: str
    use: str  # the message use whose variables it may write
    purpose: str = ""  # when it goes out, shown in the library
    channel: str = EMAIL


# key -> Builtin, in registration order (the library lists them in this order)
BUILTINS: dict[str, Builtin] = {}


def register_builtins(builtins: Mapping[str, Builtin] | list[Builtin]) -> None:
    """Add an app's built-in texts."""
    items = builtins.values() if isinstance(builtins, Mapping) else builtins
    BUILTINS.update({b.key: b for b in items})


def get_builtin(key: str) -> Builtin:
    """Return built-in text `key`; raises LookupError when none is registered."""
    try:
        return BUILTINS[key]
    except KeyError:
        raise LookupError(f"No built-in text {key!r} is registered.") from None


def default_block(practice: Practice, key: str) -> ContentBlock:
    """Return built-in block `key` with its default wording, unsaved (the practice has no
    copy of its own yet)."""
    b = get_builtin(key)
    return ContentBlock(
        practice=practice,
        system_key=key,
        name=b.name,
        subject=b.subject,
        body=b.body,
        channel=b.channel,
    )


def position(key: str) -> int:
    """Return where the built-in block `key` comes in the library (unknown keys last)."""
    keys = list(BUILTINS)
    return keys.index(key) if key in keys else len(keys)


def use_of_block(block: ContentBlock | None, default: str | None) -> str | None:
    """Return the message use whose variables `block` may write: its built-in's, else
    `default` (the use of a practice's own blocks)."""
    if block is not None and block.system_key in BUILTINS:
        return BUILTINS[block.system_key].use
    return default


def system_text(practice: Practice, key: str) -> tuple[str, str]:
    """Return the subject and body of built-in text `key`: the practice's edited copy, or
    the default. Reads only, so drafts shown on GET create nothing."""
    found = (
        ContentBlock.objects.filter(practice=practice, system_key=key)
        .values_list("subject", "body")
        .first()
    )
    if found:
        return found
    b = get_builtin(key)
    return b.subject, b.body


def render_system_message(practice: Practice, key: str, context: dict[str, Any]) -> liquid.Rendered:
    """Render the practice's built-in text `key` with `context`."""
    subject, body = system_text(practice, key)
    return liquid.render_message(subject, body, context)
