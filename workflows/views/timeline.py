"""The dry-run timeline pages: a template played on a chosen task, and a task's own steps."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from sodium import queries as core_queries
from sodium.models import Task
from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest
from workflows import timeline
from workflows.models import WorkflowTemplate

PICKER_LIMIT = 300  # open tasks offered in the "try it on" list, soonest due first


def _task_for_timeline(request: HtmxHttpRequest, task_id: int) -> Task:
    task = core_queries.get_task(request.practice, task_id)
    task.practice = request.practice
    return task


@require_GET
@role_required(Perm.MANAGE_TEMPLATES)
def template_timeline(request: HtmxHttpRequest, template_id: int) -> HttpResponse:
    """Play a template on a chosen open task (`?task=`) as if attached now; writes nothing."""
    template = get_object_or_404(
        WorkflowTemplate.objects.filter(practice=request.practice), pk=template_id
    )
    tasks = list(
        Task.objects.filter(practice=request.practice, status__in=Task.OPEN_STATUSES)
        .select_related("client")
        .order_by("due_date", "client__name", "id")[:PICKER_LIMIT]
    )
    raw = request.GET.get("task", "")
    task = None
    if raw.isascii() and raw.isdigit() and len(raw) < 19:
        task = _task_for_timeline(request, int(raw))
    entries = timeline.for_template(template, task) if task else []
    return render(
        request,
        "workflows/timeline.html",
        {
            "template": template,
            "task": task,
            "tasks": tasks,
            "entries": entries,
            "back": reverse("workflows:template-detail", args=[template.pk]),
        },
    )


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def task_timeline(request: HtmxHttpRequest, task_id: int) -> HttpResponse:
    """Show what the task's own workflow will still send, and what it sent."""
    task = _task_for_timeline(request, task_id)
    return render(
        request,
        "workflows/timeline.html",
        {
            "task": task,
            "entries": timeline.for_task(task),
            "back": reverse("sodium:task-detail", args=[task.pk]),
        },
    )
