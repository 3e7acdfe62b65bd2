"""Content blocks: save a practice's reusable message (or its copy of a built-in text),
validated against the variables of its message use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from sodium import liquid
from sodium.messaging import includes
from sodium.messaging.variables import EMAIL, SMS, known_paths
from sodium.models import ContentBlock, Practice, User


class BlockError(Exception):
    """A content block the rules refuse; `errors` maps fields to messages."""

    def __init__(self, message: str, errors: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.errors = errors


def block_errors(
    subject: str,
    body: str,
    *,
    use: str | None = None,
    channel: str = EMAIL,
    blocks: list[str] | None = None,
) -> dict[str, list[str]]:
    """Return field → problems for a block's Liquid against the variables of `use` (every
    registered variable when None). An SMS block has no subject. `blocks`: the names it may
    include (looked up in the practice when None)."""
    errors: dict[str, list[str]] = {}
    known = known_paths(use)
    for field, source in (("subject", subject), ("body", body)):
        problems = liquid.validate(source, known, blocks=blocks)
        if problems:
            errors[field] = problems
    if channel == SMS and subject:
        errors.setdefault("subject", []).append("A text message has no subject.")
    return errors


@transaction.atomic
def save_content_block(
    *,
    practice: Practice,
    actor: User,
    name: str,
    subject: str,
    body: str,
    block: ContentBlock | None = None,
    use: str | None = None,
    channel: str | None = None,
) -> ContentBlock:
    """Create or change a content block; problems are refused with field errors.

    `block` unsaved (a built-in text's default) writes the practice's first copy of it; a
    concurrent first copy is edited instead. Raises BlockError.
    """
    channel = channel or (block.channel if block is not None else EMAIL)
    # Its own name counts as known here: including itself gets its own message below.
    names = includes.practice_block_names(practice, exclude=block) + [name]
    errors = block_errors(subject, body, use=use, channel=channel, blocks=names)
    problems = includes.include_errors(
        practice=practice, name=name, subject=subject, body=body, block=block
    )
    if problems:
        errors.setdefault("body", []).extend(problems)
    clash = ContentBlock.objects.filter(practice=practice, name__iexact=name)
    if block is not None and block.pk:
        clash = clash.exclude(pk=block.pk)
    if clash.exists():
        errors.setdefault("name", []).append("There is already a content block with that name.")
    if errors:
        raise BlockError("The content block has problems.", errors)
    if block is None or block._state.adding:
        system_key = block.system_key if block is not None else ""
        try:
            with transaction.atomic():
                return ContentBlock.objects.create(
                    practice=practice,
                    name=name,
                    subject=subject,
                    body=body,
                    system_key=system_key,
                    channel=channel,
                )
        except IntegrityError:
            if not system_key:
                raise
            # Another request saved the first copy meanwhile: this save edits it, as two
            # people saving the same block one after the other would.
            block = ContentBlock.objects.get(practice=practice, system_key=system_key)
    block.name, block.subject, block.body = name, subject, body
    block.updated_at = timezone.now()
    block.save(update_fields=["name", "subject", "body", "updated_at"])
    return block


# --- what uses blocks (apps register; the library counts and names them) ----------------------


@dataclass(frozen=True)
class BlockUser:
    model: type[Model]  # has a `content_block` foreign key with on_delete=PROTECT
    describe: Callable[[Any], str]  # names one row in "used by …" messages
    counted: bool = False  # counted in the library's "Used by" column


BLOCK_USERS: list[BlockUser] = []


@dataclass(frozen=True)
class LibraryLink:
    label: str
    url_name: str


# Links an app adds to the library's header (workflows: its templates).
LIBRARY_LINKS: list[LibraryLink] = []
# The use a practice's own blocks are edited as (workflows: a step email, since steps use
# them); every registered variable when no app says.
_OWN_BLOCK_USE: list[str] = []


def register_own_block_use(key: str) -> None:
    """Say which message use a practice's own blocks are written for (the first app wins)."""
    if not _OWN_BLOCK_USE:
        _OWN_BLOCK_USE.append(key)


def own_block_use() -> str | None:
    """Return the use a practice's own blocks are edited as (None: every variable)."""
    return _OWN_BLOCK_USE[0] if _OWN_BLOCK_USE else None


def register_block_user(
    model: type[Model], *, describe: Callable[[Any], str], counted: bool = False
) -> None:
    """Let the library count `model`'s rows using a block and name them when a delete is
    refused."""
    BLOCK_USERS.append(BlockUser(model, describe, counted))


def register_library_link(label: str, url_name: str) -> None:
    """Add a link to the content library's header."""
    LIBRARY_LINKS.append(LibraryLink(label, url_name))


def describe_user(obj: Any) -> str:
    """Return how `obj` (a row protecting a block) is named ("" when no app names it)."""
    for user in BLOCK_USERS:
        if isinstance(obj, user.model):
            return user.describe(obj)
    return ""
