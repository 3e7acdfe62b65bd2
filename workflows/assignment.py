"""Resolve a step's assignment rule to a person or team from the client, task and service."""

from __future__ import annotations

from dataclasses import dataclass

from sodium.assignment import CLIENT_ROLES, AssignmentRule
from sodium.models import Task, Team, User
from workflows.context import service_manager_for

R = AssignmentRule


@dataclass(frozen=True)
class Assignment:
    user: User | None = None
    team: Team | None = None
    note: str = ""


LOOK_UP = object()  # service_manager not given: resolve() queries it


def resolve(
    rule: str, task: Task, *, specific: User | None = None, service_manager=LOOK_UP
) -> Assignment:
    """Return who a step with `rule` goes to on `task`; `note` says why nobody, if so.

    `service_manager` may be passed in (already looked up) to save a query per step.
    """
    if rule == R.UNASSIGNED:
        return Assignment(note="Left unassigned for anyone to pick up.")
    if rule == R.TASK_OWNER:
        if task.owner_id:
            return Assignment(user=task.owner)
        return Assignment(note="The task has no owner.")
    if rule == R.SPECIFIC:
        if specific is not None:
            return Assignment(user=specific)
        return Assignment(note="The member this step was assigned to has left.")
    if rule in CLIENT_ROLES:
        field, label = CLIENT_ROLES[rule]
        person = getattr(task.client, field)
        if person is not None:
            return Assignment(user=person)
        return Assignment(note=f"{task.client.name} has no {label}.")
    if rule == R.SERVICE_MANAGER:
        if not task.service_id:
            return Assignment(note="The task is not for a service, so it has no service manager.")
        manager = service_manager_for(task) if service_manager is LOOK_UP else service_manager
        if manager is not None:
            return Assignment(user=manager)
        return Assignment(note=f"Nobody manages {task.service.name} for {task.client.name}.")
    if rule == R.TASK_TEAM:
        if task.team_id:
            return Assignment(team=task.team)
        return Assignment(note="The task has no team.")
    return Assignment(note="Unknown assignment rule.")
