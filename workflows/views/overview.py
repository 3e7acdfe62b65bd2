"""The managers' overview: overdue steps, steps due today, and what is waiting for clients."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from sodium.roles import Perm
from sodium.tenancy import role_required
from workflows import queries

LIMIT = 50  # rows per list; the counts say how many there are in all


@require_GET
@role_required(Perm.MANAGE_TEMPLATES)
def overview(request: HttpRequest) -> HttpResponse:
    """List the practice's overdue steps, those due today and the steps awaiting a client,
    oldest first."""
    today, now = timezone.localdate(), timezone.now()
    overdue, overdue_total = queries.overdue_steps(request.practice, limit=LIMIT)
    for step in overdue:
        step.days_late = (today - step.due).days
    due_today, due_today_total = queries.steps_due_today(request.practice, limit=LIMIT)
    waiting, waiting_total = queries.steps_awaiting_clients(request.practice, limit=LIMIT)
    for step in waiting:
        step.days_waiting = (now - step.started_at).days if step.started_at else None
    return render(
        request,
        "workflows/overview.html",
        {
            "overdue": overdue,
            "overdue_total": overdue_total,
            "due_today": due_today,
            "due_today_total": due_today_total,
            "waiting": waiting,
            "waiting_total": waiting_total,
            "limit": LIMIT,
        },
    )
