"""Roles and what each may do: the one place that decides who can do what in a practice."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    STAFF = "staff", "Staff"
    AR_MANAGER = "ar_manager", "AR manager"
    AR_SPECIALIST = "ar_specialist", "AR specialist"


_EVERYONE = frozenset(Role.values)
_OWNERS = frozenset({Role.OWNER})
_ADMINS = frozenset({Role.OWNER, Role.ADMIN})
_MANAGERS = frozenset({Role.OWNER, Role.ADMIN, Role.MANAGER})
_PRACTICE_STAFF = frozenset({Role.OWNER, Role.ADMIN, Role.MANAGER, Role.STAFF})


class Perm(models.TextChoices):
    VIEW_PRACTICE = "view_practice", "See clients, contacts and tasks"
    EDIT_CLIENTS = "edit_clients", "Add and edit clients, contacts and their services"
    EDIT_TASKS = "edit_tasks", "Add and edit tasks"
    BULK_EDIT_OWN_TASKS = (
        "bulk_edit_own_tasks",
        "Change many of their own or unassigned tasks at once from the task list",
    )
    BULK_EDIT_TASKS = "bulk_edit_tasks", "Change many tasks at once, whoever owns them"
    RESEND_ANY_BOUNCE = (
        "resend_any_bounce",
        "Correct a bounced address and resend on anyone's step (assignees can on their own)",
    )
    MANAGE_SERVICES = "manage_services", "Edit the service catalogue and teams"
    MANAGE_TEMPLATES = (
        "manage_templates",
        "Build workflow templates, content blocks and custom checks",
    )
    MANAGE_RECURRING = "manage_recurring", "Set up recurring work"
    WORK_CHECKS = "work_checks", "Import ledgers, run checks and dismiss findings"
    MANAGE_FLOWS = "manage_flows", "Create check-based flows and flow templates"
    MANAGE_MEMBERS = "manage_members", "Add, remove and change the roles of members"
    MANAGE_PRACTICE = "manage_practice", "Change the practice's settings and branding"
    MANAGE_SECURITY = (
        "manage_security",
        "Require two-factor sign-in, unlock members and reset their two-factor sign-in",
    )
    SEND_SMS = "send_sms", "Text contacts from their client's page"
    MANAGE_AR = "manage_ar", "Build and assign AR workflows"
    WORK_AR = "work_ar", "Work accounts-receivable actions"


PERMISSIONS: dict[str, frozenset[str]] = {
    Perm.VIEW_PRACTICE: _EVERYONE,
    Perm.EDIT_CLIENTS: _PRACTICE_STAFF | {Role.AR_MANAGER},
    Perm.EDIT_TASKS: _PRACTICE_STAFF,
    Perm.BULK_EDIT_OWN_TASKS: _PRACTICE_STAFF,
    Perm.BULK_EDIT_TASKS: _MANAGERS,
    Perm.RESEND_ANY_BOUNCE: _MANAGERS,
    Perm.MANAGE_SERVICES: _MANAGERS,
    Perm.MANAGE_TEMPLATES: _MANAGERS,
    Perm.MANAGE_RECURRING: _MANAGERS,
    Perm.WORK_CHECKS: _PRACTICE_STAFF,
    Perm.MANAGE_FLOWS: _MANAGERS,
    Perm.MANAGE_MEMBERS: _ADMINS,
    Perm.MANAGE_PRACTICE: _ADMINS,
    Perm.MANAGE_SECURITY: _OWNERS,
    Perm.SEND_SMS: _PRACTICE_STAFF | {Role.AR_MANAGER, Role.AR_SPECIALIST},
    Perm.MANAGE_AR: _ADMINS | {Role.AR_MANAGER},
    Perm.WORK_AR: _ADMINS | {Role.AR_MANAGER, Role.AR_SPECIALIST},
}

# Which roles a given role may hand out: only an owner makes owners.
GRANTABLE: dict[str, frozenset[str]] = {
    Role.OWNER: _EVERYONE,
    Role.ADMIN: _EVERYONE - {Role.OWNER},
}


def role_can(role: str | None, perm: str) -> bool:
    """Return whether `role` carries `perm`."""
    return role is not None and role in PERMISSIONS[perm]


def grantable_roles(role: str | None) -> list[tuple[str, str]]:
    """Return the (value, label) role choices that `role` may give to others."""
    allowed = GRANTABLE.get(role or "", frozenset())
    return [(value, label) for value, label in Role.choices if value in allowed]


def roles_table() -> list[tuple[str, list[bool]]]:
    """Return what each role may do: (permission in words, [whether each Role has it])."""
    return [
        (str(label), [role in PERMISSIONS[perm] for role in Role.values])
        for perm, label in Perm.choices
    ]


def roles_markdown() -> str:
    """Return docs/roles.md: the roles table as Markdown (manage.py roles_table writes it)."""
    head = ["What they may do", *[str(label) for label in Role.labels]]
    lines = [
        "# Roles",
        "",
        "What each role may do in a practice. Generated from `sodium/roles.py` by",
        "`python manage.py roles_table`; CI fails when it is stale. Views are gated by these",
        "permissions only (`role_required(Perm…)`), never by checking a role by name.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for label, has in roles_table():
        lines.append("| " + " | ".join([label, *["yes" if h else "" for h in has]]) + " |")
    return "\n".join(lines) + "\n"
