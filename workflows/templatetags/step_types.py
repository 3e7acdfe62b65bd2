"""Template tags that read a step type's declaration (workflows.step_types), so templates
name no step type."""

from __future__ import annotations

from django import template

from workflows import step_types

register = template.Library()


@register.simple_tag
def step_type_icon_template(value: str) -> str:
    """Return the template holding the icon of step type `value` (the default icon for a
    type no app registers any more)."""
    if step_types.is_registered(value):
        return step_types.get(value).icon_template
    return step_types.StepTypeSpec.icon_template
