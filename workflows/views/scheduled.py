"""A scheduled send's two actions: send it now, or move its moment (task page and panel)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.http import HttpResponse
from django.views.decorators.http import require_POST

from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest
from workflows import engine, queries, scheduling, timing
from workflows.views import focus

_MOMENT_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends


@require_POST
@role_required(Perm.EDIT_TASKS)
def step_send_now(request: HtmxHttpRequest, step_id: int) -> HttpResponse:
    """Send a step that waits for its send date now."""
    step = queries.get_step(request.practice, step_id)
    try:
        engine.send_scheduled_now(step, actor=request.user)
    except scheduling.ScheduleRefused as exc:
        return focus.respond(request, step.task, error=str(exc))
    return focus.respond(request, step.task, flash=f"Sending “{step.name}” now.")


@require_POST
@role_required(Perm.EDIT_TASKS)
def step_reschedule(request: HtmxHttpRequest, step_id: int) -> HttpResponse:
    """Move a waiting step's send to the date and time given (the practice's local time)."""
    step = queries.get_step(request.practice, step_id)
    raw = request.POST.get("when", "").strip()[:40]
    try:
        local = dt.datetime.strptime(raw, _MOMENT_FORMAT)
    except ValueError:
        return focus.respond(request, step.task, error="Give the date and time to send it.")
    moment = local.replace(tzinfo=ZoneInfo(request.practice.time_zone))
    try:
        engine.reschedule_send(step, moment=moment, actor=request.user)
    except scheduling.ScheduleRefused as exc:
        return focus.respond(request, step.task, error=str(exc))
    when = timing.describe_moment(moment, request.practice)
    return focus.respond(request, step.task, flash=f"“{step.name}” now goes out {when}.")
