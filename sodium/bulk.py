"""Bulk actions on the task list: the registry, and running one over many tasks at once.

An action is a `BulkAction`: a key, a label, a form for what it needs (a template, a person,
a status, a date) and `run(tasks, cleaned, actor=…) -> Result`, which changes the tasks it
may through engine functions in a fixed number of queries and says why it refused the others.
The core registers reassign, change status and set due date (`sodium/bulk_actions.py`);
workflows adds "Attach a workflow template" in its `AppConfig.ready`, so the core imports no
app. An app may also add refusal checks to another action (`add_check`): workflows refuses
to mark a task done while its steps are open.

`apply` runs one action over the chosen tasks in one transaction: it locks them, refuses the
ones the person may not change (staff change only their own and unassigned tasks), runs the
checks and the action, and returns a `Summary` for the page that follows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db import transaction

from sodium.models import Practice, Task, User
from sodium.roles import Perm, role_can

# At most this many tasks in one action ("all that match" beyond it is refused).
MAX_TASKS = 5000


class Refused(Exception):
    """The whole action is refused (nothing was changed); the message is for the person."""


@dataclass
class Result:
    """What an action did: the tasks it changed and, by task id, why it left others alone."""

    changed: list[Task]
    refused: dict[int, str]


Check = Callable[[list[Task], dict[str, Any]], dict[int, str]]


@dataclass
class BulkAction:
    key: str
    label: str  # the action bar's button: "Attach a workflow template"
    form: Callable[..., forms.Form]  # form(data, practice=…, prefix=key)
    run: Callable[..., Result]  # run(tasks, cleaned, actor=…)
    # describe(cleaned) words the change, `{tasks}` standing for "8 tasks":
    # "Attached ‘Year-end accounts’ to {tasks}."
    describe: Callable[[dict[str, Any]], str]
    button: str = "Apply"
    order: int = 100
    checks: list[Check] = field(default_factory=list)

    def make_form(self, practice: Practice, data: Any = None) -> forms.Form:
        form = self.form(data, practice=practice, prefix=self.key)
        # Every action's fields sit in one form; only the pressed action's must be filled.
        form.use_required_attribute = False
        return form


ACTIONS: dict[str, BulkAction] = {}


def register(action: BulkAction) -> None:
    """Offer `action` on the task list (again under the same key replaces it)."""
    old = ACTIONS.get(action.key)
    if old is not None:
        action.checks = old.checks + [c for c in action.checks if c not in old.checks]
    ACTIONS[action.key] = action


def unregister(key: str) -> None:
    ACTIONS.pop(key, None)


def add_check(key: str, check: Check) -> None:
    """Refuse some tasks of action `key`: `check(tasks, cleaned) -> {task id: reason}`.

    A check answers in a fixed number of queries whatever the number of tasks.
    """
    action = ACTIONS[key]
    if check not in action.checks:
        action.checks.append(check)


def actions() -> list[BulkAction]:
    return sorted(ACTIONS.values(), key=lambda a: (a.order, a.key))


def may_bulk_edit(role: str | None) -> bool:
    return role_can(role, Perm.BULK_EDIT_OWN_TASKS)


def task_label(task: Task) -> str:
    return f"{task.client.name} — {task.name}"


def plural(n: int) -> str:
    return "no tasks" if n == 0 else f"{n} task{'s' if n != 1 else ''}"


@dataclass
class Summary:
    """What to tell the person afterwards: a headline, the refusals with their reasons.

    A refusal's reason follows the task's label: "ACME Ltd — VAT Q3" "already has a workflow".
    """

    headline: str
    changed: list[tuple[int, str]]  # (task id, label)
    refused: list[tuple[int | None, str, str]]  # (task id or None, label, reason)

    def as_session(self) -> dict[str, Any]:
        return {"headline": self.headline, "changed": self.changed, "refused": self.refused}


def apply(
    action: BulkAction,
    tasks: Any,
    cleaned: dict[str, Any],
    *,
    actor: User,
    role: str,
    asked: int,
) -> Summary:
    """Run `action` over `tasks` (a queryset of the practice's chosen tasks) in one transaction.

    `asked` is how many tasks were chosen: ids that are not the practice's tasks (another
    practice's, or deleted) are counted as refused and never changed. Raises Refused, with
    nothing written, when the action refuses as a whole.
    """
    any_task = role_can(role, Perm.BULK_EDIT_TASKS)
    with transaction.atomic():
        # Locked for the length of the action: checks and writes see the same rows.
        chosen = list(tasks.select_for_update(of=("self",)))
        refused: dict[int, str] = {}
        for task in chosen:
            if not any_task and task.owner_id not in (None, actor.pk):
                refused[task.pk] = (
                    f"is owned by {task.owner}; staff change only their own or unassigned tasks"
                )
        eligible = [t for t in chosen if t.pk not in refused]
        for check in action.checks:
            refused.update(check(eligible, cleaned))
            eligible = [t for t in eligible if t.pk not in refused]
        result = action.run(eligible, cleaned, actor=actor) if eligible else Result([], {})
    refused.update(result.refused)
    changed = result.changed
    by_id = {t.pk: t for t in chosen}
    lines: list[tuple[int | None, str, str]] = [
        (pk, task_label(by_id[pk]), reason) for pk, reason in refused.items() if pk in by_id
    ]
    missing = asked - len(chosen)
    if missing > 0:
        lines.append(
            (
                None,
                plural(missing).capitalize(),
                f"{'was' if missing == 1 else 'were'} not found in this practice and left alone",
            )
        )
    headline = action.describe(cleaned).format(tasks=plural(len(changed)))
    n_refused = len(refused) + max(missing, 0)
    if n_refused:
        headline += f" {n_refused} refused."
    return Summary(
        headline=headline,
        changed=[(t.pk, task_label(t)) for t in changed],
        refused=lines,
    )
