"""Turn a step's To and CC recipient tokens into email addresses, de-duplicated.

Contact roles (`contact:main`) and typed addresses resolve in the core
(`sodium.messaging.recipients`); the task team's roles (`member:assignee`, `member:task_owner`,
`member:client_manager` …) are workflows' and plug in here as the `member` kind.
"""

from __future__ import annotations

from sodium.messaging import recipients as core
from sodium.messaging.recipients import Recipients
from sodium.models import Contact, Task
from workflows.context import service_manager_for

__all__ = ["Recipients", "resolve"]


def _member_addresses(name: str, *, task: Task | None = None, assignee=None, **_about) -> list[str]:
    if task is None:
        return []
    person = {
        "task_owner": lambda: task.owner,
        "client_manager": lambda: task.client.client_manager,
        "client_partner": lambda: task.client.partner,
        "client_associate": lambda: task.client.associate,
        "service_manager": lambda: service_manager_for(task),
        "assignee": lambda: assignee,
    }.get(name, lambda: None)()
    return [person.email] if person is not None and person.email else []


core.register_resolver("member", _member_addresses)


def resolve(
    to_tokens: list[str],
    cc_tokens: list[str],
    *,
    task: Task,
    assignee=None,
    contacts: list[Contact] | None = None,
) -> Recipients:
    """Resolve tokens (contact:main, member:client_manager, email:x@y) to addresses.

    Addresses are compared case-insensitively; an address in To is dropped from CC.
    """
    if contacts is None:
        contacts = list(
            Contact.objects.filter(practice_id=task.practice_id, client_id=task.client_id)
        )
    return core.resolve(to_tokens, cc_tokens, contacts=contacts, task=task, assignee=assignee)
