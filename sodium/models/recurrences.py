"""Recurrences: work that repeats on a schedule, and the record of each period it created.

A `Recurrence` says when (a schedule from `sodium.schedules` and its working-day rule), for
whom (its client selection) and what (the task's name, lead time, due rule, owner, workflow
template). `sodium.recurring` generates its tasks from the timer sweep; each created period
is a `RecurrenceOccurrence`, unique per (recurrence, client, period), so generating twice —
or from two sweeps at once — creates each task once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from sodium.assignment import OWNER_RULE_CHOICES, AssignmentRule
from sodium.models.clients import Client, Service, Tag
from sodium.models.practices import Practice
from sodium.schedules.rules import OffsetUnit
from sodium.schedules.working_days import RULE_CHOICES, Rule
from sodium.tenancy import TenantManager

_person = {"on_delete": models.SET_NULL, "null": True, "blank": True, "related_name": "+"}


class Recurrence(models.Model):
    """A rule that creates a task for each selected client in each period of a schedule."""

    class Clients(models.TextChoices):
        ALL = "all", "All active clients"
        CHOSEN = "chosen", "Chosen clients"
        TAG = "tag", "Clients with a tag"
        SERVICE = "service", "Clients with the service"

    class DueRule(models.TextChoices):
        NONE = "none", "No due date"
        OFFSET = "offset", "A time after the start"
        VAT_RETURN = "vat_return", "The VAT return deadline"
        ACCOUNTS = "accounts", "The Companies House accounts deadline"
        CONFIRMATION_STATEMENT = "confirmation_statement", "The confirmation statement deadline"

    # A task's owner is chosen by the assignment rules template steps use (sodium.assignment).
    OwnerRule = AssignmentRule

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="recurrences")
    name = models.CharField(max_length=200)
    service = models.ForeignKey(
        Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="recurrences"
    )
    # sodium.schedules.rules: CalendarSchedule / ClientDateSchedule .to_json(); its end date or
    # count ends the recurrence.
    schedule = models.JSONField()
    working_day_rule = models.CharField(
        "non-working days", max_length=10, choices=RULE_CHOICES, default=Rule.NONE
    )
    task_name = models.CharField(
        "task name",
        max_length=300,
        help_text="Liquid, e.g. {{ client.name }} VAT {{ period.label }}.",
    )
    lead_days = models.PositiveSmallIntegerField(
        "create this many days before the start", default=0
    )
    due_rule = models.CharField(max_length=30, choices=DueRule.choices, default=DueRule.OFFSET)
    due_offset = models.PositiveSmallIntegerField("due after", default=0)
    due_unit = models.CharField(
        max_length=10,
        choices=[(str(u), str(u).capitalize()) for u in OffsetUnit],
        default=OffsetUnit.DAYS,
    )
    owner_rule = models.CharField(
        max_length=20, choices=OWNER_RULE_CHOICES, default=AssignmentRule.CLIENT_MANAGER
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, **_person)  # for OwnerRule.SPECIFIC
    # A workflows.WorkflowTemplate id: the core names no app's model, so it is a plain id
    # that the attacher workflows registers (sodium.recurring.register_template_attacher)
    # checks and attaches.
    workflow_template_id = models.PositiveBigIntegerField(null=True, blank=True)
    client_selection = models.CharField(
        max_length=10, choices=Clients.choices, default=Clients.SERVICE
    )
    clients = models.ManyToManyField(Client, blank=True, related_name="chosen_recurrences")
    tag = models.ForeignKey(Tag, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    paused = models.BooleanField(default=False)
    # Generation state. Every period starting on or before `generated_until` has been
    # generated for the clients selected then; the sweep runs the recurrence when
    # `next_run_at` passes (None: paused or ended), so an idle sweep reads one index.
    generated_until = models.DateField(null=True, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The clients the last generation skipped and why ([{"client": id, "name": …,
    # "reason": "no year end"}]), for the recurrence page's "skipped" lines.
    last_skips = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, **_person)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "name"])]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from sodium.services.recurrences import recurrence_errors

        errors = recurrence_errors(self)
        if errors:
            from django.core.exceptions import ValidationError

            raise ValidationError(errors)


class RecurrenceOccurrence(models.Model):
    """One period a recurrence generated for one client: the guard against doing it twice.

    The row outlives its task (deleting the task leaves it, so the period is not created
    again) and counts what a recurrence has made.
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    recurrence = models.ForeignKey(Recurrence, on_delete=models.CASCADE, related_name="occurrences")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    # The period's own date (a VAT period end, a year end, a calendar date before any move),
    # ISO: it stays the same when the schedule's offset or working-day rule is edited.
    period_key = models.CharField(max_length=20)
    task = models.ForeignKey(
        "sodium.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recurrence", "client", "period_key"], name="recurrence_period_once"
            )
        ]
        indexes = [models.Index(fields=["practice", "recurrence", "period_key"])]

    def __str__(self) -> str:
        return f"{self.recurrence_id}:{self.client_id}:{self.period_key}"
