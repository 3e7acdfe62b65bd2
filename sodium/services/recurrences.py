"""Check, create, change, pause and resume recurrences; their tasks come from `sodium.recurring`.

None of these touch tasks already created: a change applies from the next generation, which
each of them brings forward to the next sweep (`next_run_at = now`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sodium import activity, liquid, recurring
from sodium.assignment import OWNER_RULES
from sodium.messaging import variables
from sodium.models import Client, Membership, Practice, Recurrence, User
from sodium.schedules.errors import ScheduleError
from sodium.schedules.practice import today_for, working_calendar
from sodium.schedules.rules import Anchor, ClientDateSchedule, check_fires, schedule_from_json

R = Recurrence


class RecurrenceInvalid(ValidationError):
    """The recurrence cannot be saved; `message_dict` maps fields to messages."""


_DUE_ANCHORS = {
    R.DueRule.VAT_RETURN: ({Anchor.VAT_PERIOD_END}, "a VAT period end"),
    R.DueRule.ACCOUNTS: ({Anchor.YEAR_END, Anchor.ACCOUNTS_DUE}, "the year end"),
    R.DueRule.CONFIRMATION_STATEMENT: (
        {Anchor.CONFIRMATION_STATEMENT_DUE},
        "the confirmation statement date",
    ),
}


def task_name_errors(source: str) -> list[str]:
    """Return why a task-name template cannot be used: bad Liquid, or it renders nothing."""
    problems = liquid.validate(source, variables.known_paths(recurring.TASK_NAME_USE))
    if problems:
        return problems
    try:
        rendered = liquid.render_string(source, variables.sample_context(recurring.TASK_NAME_USE))
    except liquid.TemplateError as exc:
        return [str(exc)]
    return [] if rendered.strip() else ["The task name comes out empty."]


def recurrence_errors(recurrence: Recurrence) -> dict[str, str]:
    """Return the recurrence's problems keyed by field (empty when it may be saved)."""
    errors: dict[str, str] = {}
    try:
        schedule = schedule_from_json(recurrence.schedule or {})
        check_fires(schedule, recurrence.working_day_rule, working_calendar(recurrence.practice))
    except ScheduleError as exc:
        errors["schedule"] = "; ".join(exc.errors.values())
        schedule = None
    problems = task_name_errors(recurrence.task_name or "")
    if problems:
        errors["task_name"] = " ".join(problems)
    if recurrence.due_rule in _DUE_ANCHORS and schedule is not None:
        anchors, words = _DUE_ANCHORS[recurrence.due_rule]
        if not (isinstance(schedule, ClientDateSchedule) and schedule.anchor in anchors):
            errors["due_rule"] = f"This deadline needs a schedule on {words}."
    if recurrence.owner_rule not in OWNER_RULES:
        errors["owner_rule"] = "Choose who owns the tasks."
    elif recurrence.owner_rule == R.OwnerRule.SPECIFIC and not recurrence.owner_id:
        errors["owner"] = "Choose the member who owns the tasks."
    elif (
        recurrence.owner_id
        and not Membership.objects.filter(
            practice_id=recurrence.practice_id, user_id=recurrence.owner_id
        ).exists()
    ):
        errors["owner"] = "Choose a member of this practice."
    for field in ("service", "tag"):
        related = getattr(recurrence, field)
        if related is not None and related.practice_id != recurrence.practice_id:
            errors[field] = f"Choose a {field} of this practice."
    if recurrence.owner_rule == R.OwnerRule.SERVICE_MANAGER and not recurrence.service_id:
        errors["owner_rule"] = "Only a recurrence on a service has a service manager."
    if recurrence.client_selection == R.Clients.TAG and not recurrence.tag_id:
        errors["tag"] = "Choose the tag."
    if recurrence.client_selection == R.Clients.SERVICE and not recurrence.service_id:
        errors["client_selection"] = "Choose the service, or another way to pick clients."
    if recurrence.workflow_template_id:
        attacher = recurring.registered_attacher()
        problem = (
            "Workflow templates are not available."
            if attacher is None
            else attacher.problem(recurrence.practice_id, recurrence.workflow_template_id)
        )
        if problem:
            errors["workflow_template_id"] = problem
    return errors


def _check(recurrence: Recurrence) -> None:
    errors = recurrence_errors(recurrence)
    if errors:
        raise RecurrenceInvalid(errors)


@transaction.atomic
def create_recurrence(
    *,
    practice: Practice,
    actor: User | None,
    clients: list[Client] | None = None,
    now: dt.datetime | None = None,
    **fields: Any,
) -> Recurrence:
    """Create a recurrence; its first tasks come at the next sweep.

    Periods starting before today are not created (a new recurrence does not back-fill
    history). Raises RecurrenceInvalid with field errors.
    """
    now = now or timezone.now()
    recurrence = Recurrence(
        practice=practice, created_by=actor, created_at=now, updated_at=now, **fields
    )
    _check(recurrence)
    recurrence.generated_until = today_for(practice, now) - relativedelta(days=1)
    recurrence.next_run_at = None if recurrence.paused else now
    recurrence.save()
    if clients:
        recurrence.clients.set(clients)
    activity.record(
        practice=practice,
        actor=actor,
        verb="recurrence.created",
        obj=recurrence,
        summary=f"Created the recurrence {recurrence.name}",
    )
    return recurrence


@transaction.atomic
def update_recurrence(
    recurrence: Recurrence,
    *,
    actor: User | None,
    clients: list[Client] | None = None,
    now: dt.datetime | None = None,
    **fields: Any,
) -> Recurrence:
    """Change a recurrence from its next generation on; tasks already created stay as they are.

    Raises RecurrenceInvalid with field errors.
    """
    now = now or timezone.now()
    fields.pop("paused", None)  # through pause_recurrence / resume_recurrence
    changed = activity.changed_fields(recurrence, fields)
    for name, value in fields.items():
        setattr(recurrence, name, value)
    _check(recurrence)
    recurrence.updated_at = now
    if not recurrence.paused:
        recurrence.next_run_at = now
    recurrence.save(update_fields=[*fields, "updated_at", "next_run_at"])
    if clients is not None:
        recurrence.clients.set(clients)
        changed.append("clients")
    if changed:
        activity.record(
            practice=recurrence.practice,
            actor=actor,
            verb="recurrence.updated",
            obj=recurrence,
            summary=f"Changed {', '.join(changed)} of the recurrence {recurrence.name}",
        )
    return recurrence


@transaction.atomic
def pause_recurrence(recurrence: Recurrence, *, actor: User | None) -> Recurrence:
    """Stop creating the recurrence's tasks until it is resumed."""
    if recurrence.paused:
        return recurrence
    recurrence.paused = True
    recurrence.next_run_at = None
    recurrence.save(update_fields=["paused", "next_run_at"])
    activity.record(
        practice=recurrence.practice,
        actor=actor,
        verb="recurrence.paused",
        obj=recurrence,
        summary=f"Paused the recurrence {recurrence.name}",
    )
    return recurrence


@transaction.atomic
def resume_recurrence(
    recurrence: Recurrence, *, actor: User | None, now: dt.datetime | None = None
) -> Recurrence:
    """Start creating tasks again from today: periods that started while paused are not made."""
    if not recurrence.paused:
        return recurrence
    now = now or timezone.now()
    yesterday = today_for(recurrence.practice, now) - relativedelta(days=1)
    recurrence.paused = False
    recurrence.generated_until = max(recurrence.generated_until or yesterday, yesterday)
    recurrence.next_run_at = now
    recurrence.save(update_fields=["paused", "generated_until", "next_run_at"])
    activity.record(
        practice=recurrence.practice,
        actor=actor,
        verb="recurrence.resumed",
        obj=recurrence,
        summary=f"Resumed the recurrence {recurrence.name}",
    )
    return recurrence
