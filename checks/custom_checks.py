"""Custom checks: a practice's own checks (a name and a description with links, no data).

They sit beside the built-in checks in the check library, for check-based flows to include;
nothing runs them: a person works them by hand. Archived ones stay on the flows that use them
but are not offered for new ones.
"""

from __future__ import annotations

from checks.models import CustomCheck
from sodium import activity
from sodium.models import Practice, User


def create_custom_check(
    *, practice: Practice, actor: User, name: str, description: str = ""
) -> CustomCheck:
    """Add a custom check to the practice's library and record it."""
    check = CustomCheck.objects.create(
        practice=practice, name=name, description=description, created_by=actor
    )
    activity.record(
        practice=practice,
        verb="custom_check.created",
        summary=f"Added the custom check {name}",
        actor=actor,
        obj=check,
    )
    return check


def update_custom_check(
    check: CustomCheck, *, actor: User, name: str, description: str = ""
) -> CustomCheck:
    """Change a custom check's name and description and record it."""
    check.name, check.description = name, description
    check.save(update_fields=["name", "description"])
    activity.record(
        practice=check.practice_id,
        verb="custom_check.changed",
        summary=f"Changed the custom check {name}",
        actor=actor,
        obj=check,
    )
    return check


def set_custom_check_archived(check: CustomCheck, *, actor: User, archived: bool) -> CustomCheck:
    """Archive a custom check (no longer offered) or bring it back; record it."""
    if check.archived == archived:
        return check
    check.archived = archived
    check.save(update_fields=["archived"])
    activity.record(
        practice=check.practice_id,
        verb="custom_check.archived" if archived else "custom_check.restored",
        summary=f"{'Archived' if archived else 'Restored'} the custom check {check.name}",
        actor=actor,
        obj=check,
    )
    return check
