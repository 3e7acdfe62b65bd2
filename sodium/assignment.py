"""Who work goes to: the assignment rules a template step and a recurrence's task owner share.

A workflow step's assignee (`workflows.assignment.resolve`) and the owner of a task a
recurrence creates (`sodium.recurring`) are chosen by the same rules with the same stored
values, so a practice learns them once. A task's owner cannot be "the task owner" or a team,
so recurrences offer `OWNER_RULES`, the rest.
"""

from __future__ import annotations

from django.db import models


class AssignmentRule(models.TextChoices):
    TASK_OWNER = "task_owner", "Task owner"
    SPECIFIC = "specific", "A specific member"
    CLIENT_MANAGER = "client_manager", "Client manager"
    CLIENT_PARTNER = "client_partner", "Client partner"
    CLIENT_ASSOCIATE = "client_associate", "Client associate"
    SERVICE_MANAGER = "service_manager", "Service manager"
    TASK_TEAM = "task_team", "Task team"
    UNASSIGNED = "unassigned", "Unassigned"


# The client's own people, by rule: (Client field, the words for it).
CLIENT_ROLES: dict[str, tuple[str, str]] = {
    AssignmentRule.CLIENT_MANAGER: ("client_manager", "client manager"),
    AssignmentRule.CLIENT_PARTNER: ("partner", "partner"),
    AssignmentRule.CLIENT_ASSOCIATE: ("associate", "associate"),
}

# The rules that can name a task's owner, in the order the recurrence editor offers them.
OWNER_RULES = (
    AssignmentRule.CLIENT_MANAGER,
    AssignmentRule.CLIENT_PARTNER,
    AssignmentRule.CLIENT_ASSOCIATE,
    AssignmentRule.SERVICE_MANAGER,
    AssignmentRule.SPECIFIC,
    AssignmentRule.UNASSIGNED,
)
OWNER_RULE_CHOICES = [(rule.value, rule.label) for rule in OWNER_RULES]
