"""Turn a step's To and CC recipient tokens into email addresses, de-duplicated."""

from __future__ import annotations

from dataclasses import dataclass, field

from sodium.models import Contact, Task
from workflows.context import service_manager_for


@dataclass
class Recipients:
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # tokens that gave no address


def _member_email(name: str, task: Task, assignee) -> str:
    person = {
        "task_owner": lambda: task.owner,
        "client_manager": lambda: task.client.client_manager,
        "client_partner": lambda: task.client.partner,
        "client_associate": lambda: task.client.associate,
        "service_manager": lambda: service_manager_for(task),
        "assignee": lambda: assignee,
    }.get(name, lambda: None)()
    return person.email if person is not None else ""


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
    out = Recipients()
    seen: set[str] = set()

    def addresses(token: str) -> list[str]:
        kind, _, value = token.partition(":")
        if kind == "contact":
            flag = Contact.ROLE_FIELDS.get(value)
            return [c.email for c in contacts if flag and getattr(c, flag) and c.email]
        if kind == "member":
            email = _member_email(value, task, assignee)
            return [email] if email else []
        if kind == "email":
            return [value]
        return []

    for tokens, target in ((to_tokens, out.to), (cc_tokens, out.cc)):
        for token in tokens:
            found = addresses(token)
            if not found:
                out.missing.append(token)
            for email in found:
                if email.lower() not in seen:
                    seen.add(email.lower())
                    target.append(email)
    return out
