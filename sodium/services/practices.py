"""Create practices and change their settings and branding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from sodium import activity
from sodium.models import Membership, Practice, User
from sodium.roles import Role
from sodium.tenancy import practice_scope


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "practice"
    slug, n = base, 1
    while Practice.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


# What each app gives a new practice (its built-in rows), run in the creating transaction;
# apps register theirs when they load (`register_practice_setup`), so the core names none.
PRACTICE_SETUP: list[Callable[[Practice], Any]] = []


def register_practice_setup(fn: Callable[[Practice], Any]) -> None:
    """Run `fn(practice)` for every practice created from now on (once per function)."""
    if fn not in PRACTICE_SETUP:
        PRACTICE_SETUP.append(fn)


@transaction.atomic
def create_practice(*, name: str, owner: User, **fields: Any) -> Practice:
    """Create a practice with `owner` as its first owner, and what the apps give it."""
    practice = Practice.objects.create(name=name, slug=_unique_slug(name), **fields)
    Membership.objects.create(practice=practice, user=owner, role=Role.OWNER)
    with practice_scope(practice.pk):
        for setup in PRACTICE_SETUP:
            setup(practice)
    return practice


@transaction.atomic
def update_practice(practice: Practice, *, actor: User, **fields: Any) -> Practice:
    """Change the practice's details and branding and log what changed."""
    changed = activity.changed_fields(practice, fields)
    old_logo = practice.logo.name if "logo" in fields else None
    for name, value in fields.items():
        setattr(practice, name, value)
    practice.save(update_fields=list(fields))
    if old_logo and practice.logo.name != old_logo:
        # Delete the replaced file only after the new one is committed.
        storage = practice.logo.storage
        transaction.on_commit(lambda: storage.delete(old_logo))
    if changed:
        activity.record(
            practice=practice,
            actor=actor,
            verb="practice.updated",
            summary=f"Changed practice settings: {', '.join(changed)}",
        )
    return practice
