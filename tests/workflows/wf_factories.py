"""Helpers to build workflow templates for tests through the real building functions."""

from __future__ import annotations

from django_scopes import scopes_disabled

from workflows import building
from workflows.models import WorkflowTemplate


def email_step(**overrides) -> dict:
    fields = {
        "name": "Send welcome email",
        "type": "email",
        "mode": "automatic",
        "subject": "Welcome, {{ client.name }}",
        "body": "Dear {{ contacts.main.first_name | default: 'client' }},\n\nWelcome aboard.",
        "to_recipients": ["contact:main"],
        "assignment_rule": "task_owner",
    }
    fields.update(overrides)
    return fields


def simple_step(**overrides) -> dict:
    fields = {
        "name": "Prepare draft accounts",
        "type": "simple",
        "mode": "manual",
        "assignment_rule": "task_owner",
    }
    fields.update(overrides)
    return fields


def chain_template(practice, actor, *, second: dict | None = None) -> WorkflowTemplate:
    """A template: manual simple step, then an automatic email step that depends on it."""
    with scopes_disabled():
        template = building.create_template(practice=practice, actor=actor, name="Year end")
        group = template.groups.get()
        first = building.add_step(
            group, actor=actor, checklist=["Bank rec", "Accruals"], **simple_step()
        )
        building.add_step(group, actor=actor, depends_on=[first], **(second or email_step()))
    return template
