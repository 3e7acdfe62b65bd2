"""Workflows' part of the morning reminder (`sodium.reminders`): a member's steps due today
and overdue, oldest due first."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from sodium.models import Membership, Task
from sodium.reminders import Line, Section
from workflows.models import Step

S = Step.Status
LISTED = 25


def due_steps_section(membership: Membership, today: dt.date) -> Section | None:
    """Return the member's open steps due by `today` on open tasks, or None. Two queries."""
    qs = Step.objects.filter(
        practice_id=membership.practice_id,
        assignee_id=membership.user_id,
        status__in=(S.READY, S.IN_PROGRESS, S.FAILED, S.BLOCKED),
        deadline__lte=today,
        task__status__in=Task.OPEN_STATUSES,
    )
    steps = list(
        qs.select_related("task", "task__client")
        .only("name", "deadline", "task__name", "task__client__name")
        .order_by("deadline", "id")[:LISTED]
    )
    if not steps:
        return None
    lines = []
    for step in steps:
        late = (today - step.deadline).days
        when = "Due today" if late == 0 else f"Overdue {late} day{'s' if late != 1 else ''}"
        lines.append(
            Line(
                text=f"{step.name} — {step.task.name} ({step.task.client.name})",
                when=when,
                url=reverse("workflows:focus", args=[step.task_id]),
            )
        )
    more = qs.count() - len(steps) if len(steps) == LISTED else 0
    return Section("Your steps", lines, more)
