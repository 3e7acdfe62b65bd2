"""Create practices and change their settings and branding."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import slugify

from sodium import activity
from sodium.models import Membership, Practice, User
from sodium.roles import Role


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "practice"
    slug, n = base, 1
    while Practice.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def create_practice(*, name: str, owner: User, **fields: Any) -> Practice:
    """Create a practice with `owner` as its first owner."""
    practice = Practice.objects.create(name=name, slug=_unique_slug(name), **fields)
    Membership.objects.create(practice=practice, user=owner, role=Role.OWNER)
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
