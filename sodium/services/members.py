"""Add, change and remove practice members and teams."""

from __future__ import annotations

from dataclasses import dataclass

from axes.utils import reset
from django.db import transaction

from sodium import activity
from sodium.models import Client, ClientService, Membership, Practice, Task, Team, User
from sodium.roles import GRANTABLE, Role
from sodium.services import two_factor
from sodium.tenancy import memberships_of


class MemberError(Exception):
    """A membership change the rules refuse; the message is shown to the user."""


@dataclass(frozen=True)
class Workload:
    """What a member is responsible for in one practice, which must go somewhere on removal."""

    open_tasks: int
    client_roles: int
    client_services: int

    @property
    def total(self) -> int:
        return self.open_tasks + self.client_roles + self.client_services


_CLIENT_PERSON_FIELDS = (
    "client_manager",
    "partner",
    "associate",
    "default_assignee",
    "default_reviewer",
)


def workload_of(membership: Membership) -> Workload:
    """Count the work a member holds in their practice."""
    user = membership.user
    client_roles = sum(
        Client.objects.filter(practice=membership.practice, **{field: user}).count()
        for field in _CLIENT_PERSON_FIELDS
    )
    return Workload(
        open_tasks=Task.objects.filter(
            practice=membership.practice, owner=user, status__in=Task.OPEN_STATUSES
        ).count(),
        client_roles=client_roles,
        client_services=ClientService.objects.filter(
            practice=membership.practice, service_manager=user
        ).count(),
    )


def _check_can_grant(actor_role: str, role: str) -> None:
    if role not in GRANTABLE.get(actor_role, frozenset()):
        raise MemberError("Your role cannot give that role.")


def _owner_count(practice: Practice) -> int:
    return Membership.objects.filter(practice=practice, role=Role.OWNER).count()


@transaction.atomic
def add_member(
    *, practice: Practice, actor: Membership, email: str, full_name: str, role: str
) -> tuple[Membership, bool]:
    """Add a person to the practice, creating their user if new.

    Returns (membership, created_user). Raises MemberError when they already belong or the
    actor cannot grant the role.
    """
    _check_can_grant(actor.role, role)
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if user is None:
        user = User.objects.create_user(email=email, password=None, full_name=full_name)
    elif Membership.objects.filter(practice=practice, user=user).exists():
        raise MemberError(f"{email} is already a member of {practice.name}.")
    membership = Membership.objects.create(practice=practice, user=user, role=role)
    activity.record(
        practice=practice,
        actor=actor.user,
        verb="member.added",
        obj=membership,
        summary=f"Added {user} as {membership.get_role_display()}",
    )
    return membership, created


@transaction.atomic
def change_role(membership: Membership, *, actor: Membership, role: str) -> Membership:
    """Give a member another role; the practice always keeps an owner."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == role:
        return membership
    _check_can_grant(actor.role, role)
    if membership.role == Role.OWNER and actor.role != Role.OWNER:
        raise MemberError("Only an owner can change another owner's role.")
    if membership.role == Role.OWNER and _owner_count(membership.practice) == 1:
        raise MemberError("The practice needs at least one owner. Make someone else owner first.")
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    activity.record(
        practice=membership.practice,
        actor=actor.user,
        verb="member.role",
        obj=membership,
        old_status=old,
        new_status=role,
        summary=f"Changed {membership.user}'s role to {membership.get_role_display()}",
    )
    return membership


@transaction.atomic
def remove_member(
    membership: Membership, *, actor: Membership, reassign_to: User | None = None
) -> None:
    """Remove a member, handing their tasks, clients and services to `reassign_to`.

    Raises MemberError when they hold work and nobody is named to take it, when
    `reassign_to` is not another member, or when they are the last owner.
    """
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    practice, user = membership.practice, membership.user
    if membership.role == Role.OWNER and actor.role != Role.OWNER:
        raise MemberError("Only an owner can remove an owner.")
    if membership.role == Role.OWNER and _owner_count(practice) == 1:
        raise MemberError("The practice needs at least one owner. Make someone else owner first.")
    workload = workload_of(membership)
    if reassign_to is not None:
        if (
            reassign_to.pk == user.pk
            or not Membership.objects.filter(practice=practice, user=reassign_to).exists()
        ):
            raise MemberError("Choose another member of this practice to take over the work.")
    elif workload.total:
        raise MemberError(f"Choose who takes over {user}'s work before removing them.")
    if reassign_to is not None:
        Task.objects.filter(practice=practice, owner=user, status__in=Task.OPEN_STATUSES).update(
            owner=reassign_to
        )
        for field in _CLIENT_PERSON_FIELDS:
            Client.objects.filter(practice=practice, **{field: user}).update(**{field: reassign_to})
        ClientService.objects.filter(practice=practice, service_manager=user).update(
            service_manager=reassign_to
        )
    for team in Team.objects.filter(practice=practice, members=user):
        team.members.remove(user)
    summary = f"Removed {user} from the practice"
    if reassign_to is not None and workload.total:
        summary += f"; their work went to {reassign_to}"
    activity.record(
        practice=practice,
        actor=actor.user,
        verb="member.removed",
        obj=membership,
        summary=summary,
        data={"reassigned_to": reassign_to.pk if reassign_to else None},
    )
    membership.delete()


def _check_security_owner(
    membership: Membership, actor: Membership, *, action: str, hint: str = ""
) -> User:
    """Return the member whose sign-in security `actor` may change; raise MemberError if not.

    A member's lock, code back-off and two-factor devices belong to their account, in every
    practice it works in. The owner of any practice can add an address as a member, so only an
    owner of all those practices may change them (else they could unlock it between guesses).
    """
    if actor.role != Role.OWNER or actor.practice_id != membership.practice_id:
        raise MemberError(f"Only an owner of this practice can {action}.")
    user = membership.user
    owned = {m.practice_id for m in memberships_of(actor.user) if m.role == Role.OWNER}
    if any(m.practice_id not in owned for m in memberships_of(user)):
        refusal = f"{user} also works in a practice you do not own, so you cannot {action} here."
        raise MemberError(f"{refusal} {hint}".strip())
    return user


@transaction.atomic
def reset_member_two_factor(membership: Membership, *, actor: Membership) -> None:
    """Remove a member's authenticator app and backup codes (they lost their phone).

    They sign in with their password alone until they set two-factor up again, which a
    practice requiring it asks at once. Only an owner of every practice the member works in
    may, and not for themselves; raises MemberError otherwise.
    """
    if membership.user_id == actor.user_id:
        raise MemberError("Turn your own two-factor sign-in off from Your preferences.")
    user = _check_security_owner(membership, actor, action="reset their two-factor sign-in")
    two_factor.remove_devices(user)
    activity.record(
        practice=membership.practice,
        actor=actor.user,
        verb="member.two_factor_reset",
        obj=membership,
        summary=f"Reset two-factor sign-in for {user}",
    )


@transaction.atomic
def unlock_member(membership: Membership, *, actor: Membership) -> int:
    """Let a member locked out of signing in try again now; return the failures cleared.

    Clears the failed sign-ins django-axes counts against their account and the wrong-code
    back-off on their two-factor devices. Only an owner may; raises MemberError otherwise.
    """
    user = _check_security_owner(
        membership,
        actor,
        action="unlock their sign-in",
        hint="The lock lifts by itself, or they can choose a new password.",
    )
    cleared = reset(username=user.email.lower()) + two_factor.reset_throttles(user)
    activity.record(
        practice=membership.practice,
        actor=actor.user,
        verb="member.unlocked",
        obj=membership,
        summary=f"Unlocked sign-in for {user}",
    )
    return cleared


@transaction.atomic
def save_team(
    *, practice: Practice, actor: User, name: str, members: list[User], team: Team | None = None
) -> Team:
    """Create a team, or rename one and set its members."""
    if team is None:
        team = Team.objects.create(practice=practice, name=name)
    elif team.name != name:
        team.name = name
        team.save(update_fields=["name"])
    team.members.set(members)
    return team


def delete_team(team: Team, *, actor: User) -> None:
    """Delete a team; its tasks keep their owners and lose only the team."""
    team.delete()
