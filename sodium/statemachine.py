"""One helper for every status change: lock → check the move → write → activity → hooks.

An app declares a `Machine` next to its model (its table of allowed moves, the activity
verb, what an event is filed under) and calls `machine.transition(obj, to=…, actor=…)` from
its engine inside a transaction. The helper

1. locks the row (`select_for_update`) unless the caller passes an already locked one,
2. checks the move against the table and raises the machine's `InvalidTransition`,
3. writes the status (and any extra fields the caller changed) with `save(update_fields=…)`,
   or through the caller's `write` strategy (the step engine's hand-written UPDATE),
4. records one activity event (who, old → new, note),
5. runs the machine's `after` hooks inside the transaction and its `on_commit` hooks after
   the commit (`transaction.on_commit`).

Every machine registers itself in `MACHINES`, and `manage.py state_machines` writes
`docs/state-machines.md` from them. Adding a status machine (invoices, flow runs): declare
a `Machine`, call `transition` from the app's engine, run `manage.py state_machines`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any

from django.db import models, transaction

from sodium import activity

# (obj, old status, new status)
Hook = Callable[[Any, str, str], None]


class InvalidTransition(Exception):
    """A move that the machine's table does not allow from the row's current status."""


@dataclass
class Machine:
    """The table of allowed moves of one model's status field, and how a move is recorded.

    `subject(obj)` returns the activity keywords an event is filed under (`practice`, and
    `task` / `client` when there is one); `label` names a row in refusals and summaries.
    """

    name: str
    model: type[models.Model]
    table: dict[str, set[str]]
    verb: str
    subject: Callable[[Any], dict[str, Any]]
    field: str = "status"
    error: type[InvalidTransition] = InvalidTransition
    label: Callable[[Any], str] = lambda obj: ""
    description: str = ""
    refusal: Callable[[Any, str], str] | None = None  # (obj, to) -> the refusal's message
    after: list[Hook] = _field(default_factory=list)
    on_commit: list[Hook] = _field(default_factory=list)

    def __post_init__(self) -> None:
        unknown = {s for moves in self.table.values() for s in moves} | set(self.table)
        unknown -= set(self.statuses())
        if unknown:
            raise ValueError(f"{self.name}: unknown statuses in the table: {sorted(unknown)}")
        MACHINES[self.name] = self

    # --- the table -----------------------------------------------------------------------

    def statuses(self) -> list[str]:
        """Return the field's statuses in their declared order."""
        return [value for value, _ in self.model._meta.get_field(self.field).choices]

    def status_label(self, status: str) -> str:
        """Return the display label of `status` (the value itself when unknown)."""
        return dict(self.model._meta.get_field(self.field).choices).get(status, status)

    def allowed(self, status: str) -> set[str]:
        """Return the statuses a row in `status` may move to."""
        return set(self.table.get(status, set()))

    def check(self, obj: Any, to: str) -> None:
        """Raise the machine's error unless `obj` may move from its status to `to`."""
        old = getattr(obj, self.field)
        if to not in self.table.get(old, set()):
            if self.refusal is not None:
                raise self.error(self.refusal(obj, to))
            name = self.label(obj)
            raise self.error(
                f"{f'“{name}” is' if name else f'A {self.name} that is'} "
                f"{self.status_label(old).lower()}; it cannot become "
                f"{self.status_label(to).lower()}."
            )

    # --- hooks ---------------------------------------------------------------------------

    def add_hook(self, hook: Hook, *, on_commit: bool = False) -> None:
        """Call `hook(obj, old, new)` after every move (inside the transaction, or after the
        commit with `on_commit`). Registering the same hook twice keeps one."""
        hooks = self.on_commit if on_commit else self.after
        if hook not in hooks:
            hooks.append(hook)

    # --- the move ------------------------------------------------------------------------

    def lock(self, obj: Any) -> Any:
        """Return `obj`'s row again, locked until the transaction ends."""
        # The default manager: a tenant-scoped model keeps its scope check.
        return self.model._default_manager.select_for_update().get(pk=obj.pk)

    def transition(
        self,
        obj: Any,
        *,
        to: str,
        actor: Any,
        note: str = "",
        fields: Iterable[str] = (),
        locked: bool = False,
        write: Callable[[Any, list[str]], None] | None = None,
        summary: str | None = None,
        actor_label: str | None = None,
        data: dict[str, Any] | None = None,
        record: bool = True,
    ) -> Any:
        """Move `obj` to status `to` and return it (the locked copy unless `locked`).

        `fields` are other fields the caller set on the object, written with the status.
        With `write(obj, fields)` the caller writes the row its own way (a fast statement);
        the caller must hold the row's lock then (`locked=True`). `summary` replaces the
        default "old → new · note". Raises the machine's InvalidTransition for a refused
        move (nothing is written then). Must run inside a transaction.
        """
        if not locked:
            obj = self.lock(obj)
        self.check(obj, to)
        old = getattr(obj, self.field)
        setattr(obj, self.field, to)
        written = [self.field, *fields]
        if write is not None:
            write(obj, written)
        else:
            obj.save(update_fields=written)
        if record:
            if summary is None:
                name = self.label(obj)
                summary = f"{f'{name}: ' if name else ''}{self.status_label(old)} → "
                summary += self.status_label(to) + (f" · {note}" if note else "")
            activity.record(
                actor=actor,
                actor_label=("" if actor else "System") if actor_label is None else actor_label,
                verb=self.verb,
                obj=obj,
                old_status=old,
                new_status=to,
                summary=summary,
                data=data,
                **self.subject(obj),
            )
        for hook in self.after:
            hook(obj, old, to)
        for hook in self.on_commit:
            transaction.on_commit(lambda hook=hook: hook(obj, old, to))
        return obj

    def transition_many(
        self,
        objs: list[Any],
        *,
        to: str,
        old: str | None = None,
        fields: dict[str, Any] | None = None,
        actor: Any = None,
        actor_label: str | None = None,
        note: str = "",
        data: dict[str, Any] | None = None,
    ) -> list[Any]:
        """Move many rows to `to` at once; return those moved.

        For sweeps that settle hundreds of rows in one transaction, and bulk actions: each
        move is checked against the table, written by one UPDATE, recorded as one activity
        event each in one INSERT, and the hooks run as `transition` runs them. `fields` are
        other columns set on every row. With `old`, every row is in status `old` and the
        UPDATE is a compare-and-set (rows no longer in `old` are left alone); without it the
        rows may be in different statuses, each moving from its own, and the caller must hold
        their locks (`select_for_update`). The caller should hold the rows' locks either way.
        """
        from django.db.models import Q

        if not objs:
            return []
        for obj in objs:
            self.check(obj, to)
        values = {self.field: to, **(fields or {})}
        manager = self.model._default_manager
        if old is not None:
            moved_pks = set(
                manager.filter(Q(pk__in=[o.pk for o in objs]), **{self.field: old}).values_list(
                    "pk", flat=True
                )
            )
            manager.filter(pk__in=moved_pks, **{self.field: old}).update(**values)
        else:
            moved_pks = {o.pk for o in objs}
            manager.filter(pk__in=moved_pks).update(**values)
        moved = [o for o in objs if o.pk in moved_pks]
        olds = {o.pk: getattr(o, self.field) if old is None else old for o in moved}
        if actor_label is None:
            actor_label = "" if actor else "System"
        events = []
        for obj in moved:
            for name, value in values.items():
                setattr(obj, name, value)
            name = self.label(obj)
            subject = self.subject(obj)
            client, task = subject.get("client"), subject.get("task")
            events.append(
                activity.build(
                    practice=subject["practice"],
                    verb=self.verb,
                    summary=f"{f'{name}: ' if name else ''}{self.status_label(olds[obj.pk])} → "
                    + self.status_label(to)
                    + (f" · {note}" if note else ""),
                    actor=actor,
                    actor_label=actor_label,
                    client_id=getattr(client, "pk", client)
                    if client is not None
                    else getattr(task, "client_id", None),
                    task_id=getattr(task, "pk", task),
                    obj=obj,
                    old_status=olds[obj.pk],
                    new_status=to,
                    data=data,
                )
            )
        activity.bulk_record(events)
        for obj in moved:
            was = olds[obj.pk]
            for hook in self.after:
                hook(obj, was, to)
            for hook in self.on_commit:
                transaction.on_commit(lambda hook=hook, obj=obj, was=was: hook(obj, was, to))
        return moved

    # --- the generated page --------------------------------------------------------------

    def markdown(self) -> str:
        """Return this machine's table as a Markdown section with a Mermaid diagram."""
        lines = [f"## {self.name}", ""]
        module = self.model.__module__
        lines.append(f"`{module}.{self.model.__name__}.{self.field}` · activity verb `{self.verb}`")
        if self.description:
            lines += ["", self.description]
        lines += ["", "| from | may become |", "|---|---|"]
        for status in self.statuses():
            moves = [s for s in self.statuses() if s in self.table.get(status, set())]
            shown = ", ".join(_cell(s) for s in moves) or "(final)"
            lines.append(f"| {_cell(status)} | {shown} |")
        lines += ["", "```mermaid", "stateDiagram-v2"]
        for status in self.statuses():
            for target in self.statuses():
                if target in self.table.get(status, set()):
                    lines.append(f"    {_state_name(status)} --> {_state_name(target)}")
        lines += ["```", ""]
        return "\n".join(lines)


def _cell(status: str) -> str:
    """A status in the doc's table: the stored value, or "(none)" for the empty one (the
    step sub-status stores "" for none), which would otherwise be an empty `` cell."""
    return f"`{status}`" if status else "(none)"


def _state_name(status: str) -> str:
    """A status as a Mermaid state name; "" is not one, so the empty status is `none`."""
    return status or "none"


MACHINES: dict[str, Machine] = {}


def machines_markdown() -> str:
    """Return docs/state-machines.md: every registered machine's table, by name."""
    head = [
        "# State machines",
        "",
        "Generated by `python manage.py state_machines` from the `Machine` tables next to the",
        "models (see `sodium/statemachine.py`); a test fails when this page is stale.",
        "",
    ]
    return "\n".join(head) + "\n".join(MACHINES[n].markdown() for n in sorted(MACHINES))
