"""Which practice's content blocks a Liquid render may include ({% render "…" %}), and their text.

`sodium.liquid`'s loader asks here. The practice is the one `blocks_of(...)` names, else the one
in scope (`sodium.tenancy`); with neither, no block is found. Never another practice's blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_BLOCKS_PRACTICE: ContextVar[int | None] = ContextVar("liquid_blocks_practice", default=None)


@contextmanager
def blocks_of(practice: Any) -> Iterator[None]:
    """Let renders in the block include content blocks of `practice` (a Practice or its id).

    Without it, the practice in scope (`sodium.tenancy`) is used.
    """
    token = _BLOCKS_PRACTICE.set(getattr(practice, "pk", practice))
    try:
        yield
    finally:
        _BLOCKS_PRACTICE.reset(token)


def blocks_practice_id() -> int | None:
    """Return the id of the practice whose blocks may be included, or None."""
    from django_scopes import ScopeError

    from sodium.tenancy import current_practice_id

    explicit = _BLOCKS_PRACTICE.get()
    if explicit is not None:
        return explicit
    try:
        return current_practice_id()
    except ScopeError:
        return None


def block_source(name: str) -> str | None:
    """Return the body of the practice's content block `name` (any case), None if unknown."""
    from sodium.models import ContentBlock

    practice_id = blocks_practice_id()
    if practice_id is None:
        return None
    return (
        ContentBlock.objects.filter(practice_id=practice_id, name__iexact=name.strip())
        .values_list("body", flat=True)
        .first()
    )
