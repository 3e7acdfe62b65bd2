"""The task page's per-step button a step type declares (`StepTypeSpec.task_action`), so the
workflow card renders whatever the type says and names no type."""

from __future__ import annotations

from django import template

from workflows import step_types

register = template.Library()


@register.simple_tag
def task_action(step) -> dict[str, str] | None:
    """`{% task_action step as action %}`: {"label", "url"} of the type's button, or None."""
    action = step_types.task_action(step)
    return {"label": action[0], "url": action[1]} if action else None
