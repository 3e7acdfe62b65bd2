"""The core's bulk actions on the task list: reassign, change status, set a due date.

Each refuses, task by task, what a practice would not want done in bulk, and changes the
rest through `sodium.engine` in a fixed number of queries (see `sodium/bulk.py`).
"""

from __future__ import annotations

from typing import Any

from django import forms

from sodium import bulk, engine, queries
from sodium.models import Task, User

S = Task.Status
FINISHED = (S.DONE, S.CANCELLED)
NOBODY = "nobody"


def _finished(task: Task) -> str | None:
    if task.status in FINISHED:
        return f"is {task.get_status_display().lower()}; reopen it first"
    return None


class ReassignForm(forms.Form):
    # A choice, not a model field: "nobody" must be chosen on purpose, never be the default.
    owner = forms.ChoiceField(
        label="New owner",
        error_messages={
            "required": "Choose who the tasks go to.",
            "invalid_choice": "Choose a member of this practice.",
        },
    )

    def __init__(self, *args: Any, practice: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = {str(u.pk): u for u in queries.members_of(practice)}
        self.fields["owner"].choices = [
            ("", "Choose a person…"),
            (NOBODY, "Nobody (unassigned)"),
            *((pk, str(u)) for pk, u in self.members.items()),
        ]

    def clean_owner(self) -> User | None:
        value = self.cleaned_data["owner"]
        return None if value == NOBODY else self.members[value]


def _reassign(tasks: list[Task], cleaned: dict[str, Any], *, actor: User) -> bulk.Result:
    owner = cleaned["owner"]
    refused: dict[int, str] = {}
    for task in tasks:
        reason = _finished(task)
        if reason is None and task.owner_id == (owner.pk if owner else None):
            reason = f"is already owned by {owner}" if owner else "is already unassigned"
        if reason:
            refused[task.pk] = reason
    changed = engine.update_tasks(
        [t for t in tasks if t.pk not in refused], actor=actor, owner=owner
    )
    return bulk.Result(changed, refused)


def _describe_reassign(cleaned: dict[str, Any]) -> str:
    owner = cleaned["owner"]
    return f"Gave {{tasks}} to {owner}." if owner else "Left {tasks} unassigned."


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label="New status",
        choices=[("", "Choose a status…"), *S.choices],
        error_messages={"required": "Choose the status to move the tasks to."},
    )


def _change_status(tasks: list[Task], cleaned: dict[str, Any], *, actor: User) -> bulk.Result:
    moved, refused = engine.change_task_statuses(
        tasks, to=cleaned["status"], actor=actor, note="changed in bulk from the task list"
    )
    return bulk.Result(moved, refused)


def _describe_status(cleaned: dict[str, Any]) -> str:
    return f"Moved {{tasks}} to {S(cleaned['status']).label.lower()}."


class DueDateForm(forms.Form):
    due_date = forms.DateField(label="New due date", widget=forms.DateInput(attrs={"type": "date"}))


def _set_due_date(tasks: list[Task], cleaned: dict[str, Any], *, actor: User) -> bulk.Result:
    due = cleaned["due_date"]
    refused: dict[int, str] = {}
    for task in tasks:
        reason = _finished(task)
        if reason is None and task.start_date and due < task.start_date:
            start = task.start_date
            reason = f"starts on {start.day} {start:%b %Y}, after that date"
        if reason is None and task.due_date == due:
            reason = "is already due on that date"
        if reason:
            refused[task.pk] = reason
    changed = engine.update_tasks(
        [t for t in tasks if t.pk not in refused], actor=actor, due_date=due
    )
    return bulk.Result(changed, refused)


def _describe_due(cleaned: dict[str, Any]) -> str:
    due = cleaned["due_date"]
    return f"Set {{tasks}} due on {due.day} {due:%b %Y}."


def register() -> None:
    bulk.register(
        bulk.BulkAction(
            key="reassign",
            label="Reassign",
            form=lambda data, practice, prefix: ReassignForm(
                data, practice=practice, prefix=prefix
            ),
            run=_reassign,
            describe=_describe_reassign,
            button="Reassign",
            order=20,
        )
    )
    bulk.register(
        bulk.BulkAction(
            key="status",
            label="Change status",
            form=lambda data, practice, prefix: StatusForm(data, prefix=prefix),
            run=_change_status,
            describe=_describe_status,
            button="Change status",
            order=30,
        )
    )
    bulk.register(
        bulk.BulkAction(
            key="due",
            label="Set due date",
            form=lambda data, practice, prefix: DueDateForm(data, prefix=prefix),
            run=_set_due_date,
            describe=_describe_due,
            button="Set due date",
            order=40,
        )
    )
