"""A step's due date and scheduled send as pages show them: `{% step_due step %}` gives the
due chip's words and tone (overdue, due today, due soon, later), `{% step_scheduled step %}`
the moment a waiting step goes out, both in the practice's day and time zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django import template

from sodium.schedules.practice import today_for
from workflows import timing
from workflows.models import Step

register = template.Library()

_TODAY = "workflows_step_timing_today"


def _today(context):
    # Once a render: a list of a hundred steps asks the clock once.
    cache = context.render_context
    if _TODAY not in cache:
        practice = context.get("practice")
        cache[_TODAY] = today_for(practice) if practice else None
    return cache[_TODAY]


@register.simple_tag(takes_context=True)
def step_due(context, step: Step, day=None) -> dict[str, str] | None:
    """Return {"label", "tone", "title"} for an open step's due date, else None.

    The date is the step's own (`deadline`) unless `day` gives another (My steps falls back
    on the task's due date).
    """
    due = day or getattr(step, "deadline", None)
    today = _today(context)
    if due is None or today is None or step.status in Step.FINISHED:
        return None
    days = (due - today).days
    date = f"{due:%a} {due.day} {due:%b}"
    if days < 0:
        late = -days
        label, tone = f"Overdue {late} day{'s' if late != 1 else ''}", "overdue"
    elif days == 0:
        label, tone = "Due today", "today"
    elif days == 1:
        label, tone = "Due tomorrow", "soon"
    else:
        label, tone = f"Due {date}", "soon" if days <= 3 else "later"
    return {"label": label, "tone": tone, "title": f"Due {date}"}


@register.simple_tag(takes_context=True)
def step_scheduled(context, step: Step) -> dict[str, str] | None:
    """Return when a ready step waiting for its send goes out, else None.

    {"when": "Tue 12 Mar, 09:00", "value": the datetime-local input's value, "rule": the
    send rule in words}.
    """
    practice = context.get("practice")
    if step.status != Step.Status.READY or not step.scheduled_for or practice is None:
        return None
    local = step.scheduled_for.astimezone(ZoneInfo(practice.time_zone))
    return {
        "when": timing.describe_moment(step.scheduled_for, practice),
        "value": f"{local:%Y-%m-%dT%H:%M}",
        "rule": timing.describe_send_rule(step),
    }


@register.filter
def due_words(step) -> str:
    """A step's due rule in words, for the template editor's step row ("" without one)."""
    return timing.describe_due_rule(step)


@register.filter
def send_words(step) -> str:
    """A step's send rule in words ("" when it goes as soon as it may)."""
    return timing.describe_send_rule(step) if step.mode == "automatic" else ""
