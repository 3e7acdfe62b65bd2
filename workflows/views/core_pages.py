"""What workflows adds to the core's pages by registration (`WorkflowsConfig.ready`): the
client page's workflow progress, the dashboard's "Steps waiting on you" card and the steps in a
person's work list (`/work/`). Each answers in a fixed number of queries, however many steps.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from sodium import queries as core_queries
from sodium.models import Client, User
from sodium.work import Tone, WorkItem
from workflows import queries
from workflows.models import Step

# The colour of each step status in lists (the words are the status's own).
STEP_TONES: dict[str, Tone] = {
    Step.Status.BLOCKED: "muted",
    Step.Status.READY: "info",
    Step.Status.IN_PROGRESS: "warn",
    Step.Status.FAILED: "danger",
}
WORK_LIMIT = 200
CARD_SIZE = 5


def _status_words(step: Step) -> str:
    status = step.get_status_display()
    sub = step.shown_sub_status
    return f"{status}: {sub.lower()}" if sub else status


def step_work_items(request: HttpRequest, user: User) -> list[WorkItem]:
    """The open steps assigned to `user` or their teams, as work items (two queries)."""
    steps = queries.steps_for_member(request.practice, user)[:WORK_LIMIT]
    return [
        WorkItem(
            title=step.name,
            kind=step.get_type_display(),
            subtitle=f"{step.task.name} · {step.task.client.name}",
            url=reverse("sodium:task-detail", kwargs={"task_id": step.task_id}),
            focus_url=reverse("workflows:focus", kwargs={"task_id": step.task_id}),
            due=step.due,
            status=_status_words(step),
            tone=STEP_TONES.get(step.status, "info"),
        )
        for step in steps
    ]


def steps_waiting_card(request: HttpRequest) -> tuple[str, dict[str, Any]]:
    """The dashboard card: how many steps wait on me, and the five due soonest (three queries)."""
    steps = queries.steps_for_member(request.practice, request.user)
    top = list(steps[:CARD_SIZE])
    count = len(top) if len(top) < CARD_SIZE else steps.count()
    for step in top:
        step.status_words = _status_words(step)
        step.tone = STEP_TONES.get(step.status, "info")
    return "workflows/_dashboard_steps.html", {
        "steps": top,
        "count": count,
        "today": timezone.localdate(),
    }


def client_workflows_panel(request: HttpRequest, client: Client) -> tuple[str, dict] | None:
    """The client page's card: each open task's workflow progress and its steps waiting on the
    client (two queries); nothing when the client has no open task."""
    tasks = list(
        core_queries.tasks_for_list(request.practice, client=client)
        .select_related(None)
        .only("pk", "name", "due_date", "status", "client_id")[:20]
    )
    if not tasks:
        return None
    progress = queries.progress_for_task_list(request.practice, [t.pk for t in tasks])
    rows = [
        (task, progress[task.pk], queries.ready_to_complete(task, progress[task.pk]))
        for task in tasks
    ]
    waiting = sum(p.waiting for _t, p, _r in rows)
    return "workflows/_client_workflows.html", {"rows": rows, "waiting": waiting}
