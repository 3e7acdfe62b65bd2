"""Who may do AR work in a practice: the roles an AR specialist may have, and a member's role."""

from __future__ import annotations

from sodium.models import Membership, User
from sodium.roles import Role

# The roles a customer's AR specialist may have.
SPECIALIST_ROLES = (Role.AR_SPECIALIST, Role.AR_MANAGER, Role.ADMIN, Role.OWNER)


def member_role(practice_id: int, user: User) -> str | None:
    """Return the user's role in the practice (None when not a member)."""
    return (
        Membership.objects.filter(practice=practice_id, user=user)
        .values_list("role", flat=True)
        .first()
    )
