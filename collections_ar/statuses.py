"""Collection statuses: the practice's defaults (copied in when it is created) and their
upkeep — add, rename, reorder, the default, the manager alerted, and deletion (refused while
an invoice uses it, saying where). Applying a status to an invoice is
`collections_ar.engine.set_collection_status`."""

from __future__ import annotations

import dataclasses

from django.db import transaction
from django.db.models import Max

from collections_ar.errors import ARError
from collections_ar.models import (
    CollectionStatus,
    Invoice,
)
from collections_ar.people import member_role
from sodium import activity
from sodium.models import Practice, User
from sodium.roles import Perm, role_can

# --- default collection statuses --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BuiltinStatus:
    key: str
    name: str
    is_default: bool = False


DEFAULT_STATUSES = (
    BuiltinStatus("current", "Current", is_default=True),
    BuiltinStatus("reminded", "Reminded"),
    BuiltinStatus("promised", "Promised to pay"),
    BuiltinStatus("disputed", "Disputed"),
    BuiltinStatus("escalated", "Escalated"),
    BuiltinStatus("agency", "With collections agency"),
)


def ensure_default_statuses(practice: Practice) -> list[CollectionStatus]:
    """Copy the built-in collection statuses the practice lacks into it; return them all.

    Run for every new practice (`register_practice_setup` in `CollectionsArConfig.ready`);
    migration 0002 does the same for practices that existed before.
    """
    have = CollectionStatus.objects.filter(practice=practice)
    keys = set(have.exclude(builtin_key="").values_list("builtin_key", flat=True))
    names = set(have.values_list("name", flat=True))
    has_default = have.filter(is_default=True).exists()
    start = (have.aggregate(m=Max("position"))["m"] or -1) + 1
    for i, builtin in enumerate(DEFAULT_STATUSES):
        if builtin.key in keys:
            continue
        name = builtin.name if builtin.name not in names else f"{builtin.name} (built-in)"
        CollectionStatus.objects.create(
            practice=practice,
            name=name,
            position=start + i,
            builtin_key=builtin.key,
            is_default=builtin.is_default and not has_default,
        )
    return list(CollectionStatus.objects.filter(practice=practice))


def default_status(practice: Practice) -> CollectionStatus:
    """Return the practice's default collection status (making the built-ins if none)."""
    status = CollectionStatus.objects.filter(practice=practice, is_default=True).first()
    if status is None:
        ensure_default_statuses(practice)
        status = CollectionStatus.objects.filter(practice=practice, is_default=True).first()
    if status is None:  # the practice had statuses but none was the default
        status = CollectionStatus.objects.filter(practice=practice).first()
        status.is_default = True
        status.save(update_fields=["is_default"])
    return status


# --- collection statuses ------------------------------------------------------------------


def _status_name(practice_id: int, name: str, *, exclude: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ARError({"name": "Enter a name."})
    if len(name) > 80:
        raise ARError({"name": "Keep the name to 80 characters."})
    taken = CollectionStatus.objects.filter(practice=practice_id, name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ARError({"name": f"There is already a status called “{name}”."})
    return name


def _status_event(status: CollectionStatus, actor: User | None, verb: str, summary: str) -> None:
    activity.record(
        practice=status.practice_id, actor=actor, verb=verb, summary=summary, obj=status
    )


@transaction.atomic
def create_status(practice: Practice, *, actor: User | None, name: str) -> CollectionStatus:
    """Add a collection status at the end of the practice's list."""
    name = _status_name(practice.pk, name)
    last = CollectionStatus.objects.filter(practice=practice).aggregate(m=Max("position"))["m"]
    status = CollectionStatus.objects.create(
        practice=practice,
        name=name,
        position=(last + 1) if last is not None else 0,
        is_default=not CollectionStatus.objects.filter(practice=practice).exists(),
    )
    _status_event(status, actor, "ar.status.created", f"Added collection status “{name}”")
    return status


@transaction.atomic
def rename_status(status: CollectionStatus, *, actor: User | None, name: str) -> CollectionStatus:
    """Rename the status. Raises ARError for an empty or taken name."""
    name = _status_name(status.practice_id, name, exclude=status.pk)
    old = status.name
    if name == old:
        return status
    status.name = name
    status.save(update_fields=["name"])
    _status_event(
        status, actor, "ar.status.renamed", f"Renamed collection status “{old}” to “{name}”"
    )
    return status


@transaction.atomic
def reorder_statuses(
    practice: Practice, order: list[int], *, actor: User | None
) -> list[CollectionStatus]:
    """Put the practice's statuses in the order of `order` (their ids, every one once)."""
    statuses = {
        s.pk: s for s in CollectionStatus.objects.select_for_update().filter(practice=practice)
    }
    if sorted(order) != sorted(statuses):
        raise ARError({"order": "The list of statuses changed; reload the page and try again."})
    changed = []
    for position, pk in enumerate(order):
        status = statuses[pk]
        if status.position != position:
            status.position = position
            changed.append(status)
    CollectionStatus.objects.bulk_update(changed, ["position"])
    activity.record(
        practice=practice,
        actor=actor,
        verb="ar.status.reordered",
        summary="Reordered collection statuses: " + ", ".join(statuses[pk].name for pk in order),
    )
    return [statuses[pk] for pk in order]


@transaction.atomic
def move_status(
    status: CollectionStatus, *, actor: User | None, up: bool
) -> list[CollectionStatus]:
    """Move the status one place up or down (nothing at either end)."""
    ids = list(
        CollectionStatus.objects.filter(practice=status.practice_id).values_list("pk", flat=True)
    )
    i = ids.index(status.pk)
    j = i - 1 if up else i + 1
    if not 0 <= j < len(ids):
        return list(CollectionStatus.objects.filter(practice=status.practice_id))
    ids[i], ids[j] = ids[j], ids[i]
    return reorder_statuses(status.practice, ids, actor=actor)


@transaction.atomic
def set_default_status(status: CollectionStatus, *, actor: User | None) -> CollectionStatus:
    """Make the status the one new invoices get (the old default stops being it)."""
    if status.is_default:
        return status
    CollectionStatus.objects.filter(practice=status.practice_id, is_default=True).update(
        is_default=False
    )
    status.is_default = True
    status.save(update_fields=["is_default"])
    _status_event(
        status, actor, "ar.status.default", f"“{status.name}” is the default collection status"
    )
    return status


@transaction.atomic
def set_status_alert(
    status: CollectionStatus, user: User | None, *, actor: User | None
) -> CollectionStatus:
    """Alert `user` (a member who manages AR) whenever the status is applied; None: nobody."""
    if user is not None and not role_can(member_role(status.practice_id, user), Perm.MANAGE_AR):
        raise ARError({"alert_user": f"{user} does not manage accounts receivable here."})
    status.alert_user = user
    status.save(update_fields=["alert_user"])
    _status_event(
        status,
        actor,
        "ar.status.alert",
        f"“{status.name}” alerts {user}" if user else f"“{status.name}” alerts nobody",
    )
    return status


@transaction.atomic
def delete_status(status: CollectionStatus, *, actor: User | None) -> None:
    """Delete the status.

    Raises ARError for the default status, or one any invoice uses (saying how many and
    naming up to three of them).
    """
    if status.is_default:
        raise ARError(
            {"__all__": f"“{status.name}” is the default status; make another the default first."}
        )
    using = Invoice.objects.filter(practice=status.practice_id, collection_status=status)
    count = using.count()
    if count:
        numbers = list(using.order_by("number").values_list("number", flat=True)[:3])
        shown = ", ".join(numbers) + (" …" if count > 3 else "")
        raise ARError(
            {
                "__all__": f"“{status.name}” is used by {count} invoice{'s' if count != 1 else ''} "
                f"({shown}); give them another status first."
            }
        )
    from collections_ar.models import ARAction

    workflows = sorted(
        set(
            ARAction.objects.filter(
                practice=status.practice_id, collection_status=status
            ).values_list("workflow__name", flat=True)
        )
    )
    if workflows:
        shown = ", ".join(f"“{n}”" for n in workflows[:3]) + (" …" if len(workflows) > 3 else "")
        raise ARError(
            {
                "__all__": f"“{status.name}” is set by the AR workflow"
                f"{'s' if len(workflows) != 1 else ''} {shown}; change those actions first."
            }
        )
    name = status.name
    _status_event(status, actor, "ar.status.deleted", f"Deleted collection status “{name}”")
    status.delete()
