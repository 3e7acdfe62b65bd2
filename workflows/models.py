"""Workflow templates, and the per-task copies of them that the engine drives."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sodium.assignment import AssignmentRule
from sodium.models import ContentBlock, Practice, Task, Team
from sodium.tenancy import TenantManager


class StepType(models.TextChoices):
    """The step types workflows itself declares; other apps register theirs.

    `StepConfig.type` takes any registered type (workflows.step_types), so its choices do
    not depend on which apps are loaded.
    """

    SIMPLE = "simple", "Simple step"
    EMAIL = "email", "Send email"


class Mode(models.TextChoices):
    AUTOMATIC = "automatic", "Automatic"
    MANUAL = "manual", "Manual"


class DueRule(models.TextChoices):
    """When a step is due (its `deadline`), counted in the practice's working days."""

    NONE = "none", "No due date of its own"
    AFTER_READY = "after_ready", "Working days after it becomes ready"
    AFTER_START = "after_start", "Working days after the task starts"
    BEFORE_DUE = "before_due", "Working days before the task is due"


class SendRule(models.TextChoices):
    """When an automatic step that sends goes out, once it may start."""

    NOW = "now", "As soon as it may start"
    BEFORE_DUE = "before_due", "Days before the task is due"
    ON_START = "on_start", "On the task's start date"
    AFTER_READY = "after_ready", "Days after the step before it finished"


class StepConfig(models.Model):
    """What a template step and its per-task copy share: type, mode, content, recipients,
    when it is due and when it sends."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # A registered step type (workflows.step_types); validated in clean, not by choices.
    type = models.CharField(max_length=24, default=StepType.SIMPLE)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.MANUAL)
    position = models.PositiveIntegerField(default=0)
    # Type-specific settings, validated by workflows.step_types.validate_settings.
    settings = models.JSONField(default=dict, blank=True)
    content_block = models.ForeignKey(
        ContentBlock, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    to_recipients = models.JSONField(default=list, blank=True)
    cc_recipients = models.JSONField(default=list, blank=True)
    assignment_rule = models.CharField(
        max_length=20, choices=AssignmentRule.choices, default=AssignmentRule.TASK_OWNER
    )
    # Worked out into the task step's `deadline` (workflows.timing).
    due_rule = models.CharField(max_length=12, choices=DueRule.choices, default=DueRule.NONE)
    due_days = models.PositiveSmallIntegerField(default=0)
    # Automatic steps that send may wait for a date (workflows.timing); manual ones never do.
    send_rule = models.CharField(max_length=12, choices=SendRule.choices, default=SendRule.NOW)
    send_days = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True

    def clean(self) -> None:
        from workflows import step_types

        errors = step_types.config_errors(self)
        if errors:
            raise ValidationError(errors)

    @property
    def type_spec(self):
        """Return the declaration of this step's type (workflows.step_types.StepTypeSpec)."""
        from workflows import step_types

        return step_types.get(self.type)

    def get_type_display(self) -> str:
        from workflows import step_types

        return step_types.label_of(self.type)

    @property
    def is_client_facing(self) -> bool:
        from workflows import step_types

        return step_types.is_registered(self.type) and self.type_spec.client_facing

    @property
    def sends_email(self) -> bool:
        from workflows import step_types

        return not step_types.is_registered(self.type) or self.type_spec.sends_email


def _mode_rules(prefix: str) -> list[models.CheckConstraint]:
    # Whether another app's type may run automatically is its declaration's business
    # (StepTypeSpec.may_run_automatically), checked in clean, the forms and the engine.
    return [
        models.CheckConstraint(
            condition=~Q(type=StepType.SIMPLE, mode=Mode.AUTOMATIC),
            name=f"{prefix}_simple_is_manual",
            violation_error_message="Simple steps are done by a person, so they are manual.",
        ),
    ]


class WorkflowTemplate(models.Model):
    """A reusable workflow: ordered groups of steps, copied into a task when attached."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "status", "name"])]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TemplateGroup(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey(WorkflowTemplate, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "template", "position"])]
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class TemplateStep(StepConfig):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(TemplateGroup, on_delete=models.CASCADE, related_name="steps")
    # Used when assignment_rule is SPECIFIC.
    specific_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "group", "position"])]
        ordering = ["position", "id"]
        constraints = _mode_rules("template_step")

    def __str__(self) -> str:
        return self.name


class TemplateDependency(models.Model):
    """`step` cannot start until `depends_on` (in the same group) is done or skipped."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    step = models.ForeignKey(TemplateStep, on_delete=models.CASCADE, related_name="dependencies")
    depends_on = models.ForeignKey(
        TemplateStep, on_delete=models.CASCADE, related_name="dependents"
    )

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["step", "depends_on"], name="template_dep_unique"),
            models.CheckConstraint(
                condition=~Q(step=models.F("depends_on")), name="template_dep_not_self"
            ),
        ]
        indexes = [models.Index(fields=["practice", "step"])]

    def __str__(self) -> str:
        return f"{self.step_id} after {self.depends_on_id}"


class TemplateChecklistItem(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    step = models.ForeignKey(TemplateStep, on_delete=models.CASCADE, related_name="checklist")
    text = models.CharField(max_length=300)
    position = models.PositiveIntegerField(default=0)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "step", "position"])]
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


# --- A task's own copy ----------------------------------------------------------------------


class StepGroup(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="step_groups")
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    template = models.ForeignKey(
        WorkflowTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "task", "position"])]
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Step(StepConfig):
    """One step of one task. Only workflows.engine changes its status."""

    class Status(models.TextChoices):
        BLOCKED = "blocked", "Blocked"
        READY = "ready", "Ready"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    class SubStatus(models.TextChoices):
        NONE = "", "—"
        AWAITING_RESPONSE = "awaiting_response", "Awaiting response"
        SUBMITTED = "submitted", "Submitted"
        REJECTED = "rejected", "Rejected"
        APPROVED = "approved", "Approved"
        ACCEPTED = "accepted", "Accepted"
        CONFIRMED = "confirmed", "Confirmed"

    FINISHED = (Status.DONE, Status.SKIPPED)
    # What the client's answer was, worth showing beside "Done"; every other sub-status only
    # means something while the step is in progress.
    OUTCOMES = (SubStatus.APPROVED, SubStatus.ACCEPTED, SubStatus.CONFIRMED)

    # No index of its own: every composite index here starts with practice, and each
    # index is one more write on the engine's hot path.
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="steps")
    group = models.ForeignKey(StepGroup, on_delete=models.CASCADE, related_name="steps")
    source = models.ForeignKey(
        TemplateStep, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.BLOCKED)
    sub_status = models.CharField(
        max_length=20, choices=SubStatus.choices, default=SubStatus.NONE, blank=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_steps",
    )
    assignee_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="steps"
    )
    # Why nobody is assigned, e.g. "The client has no client manager."
    assignment_note = models.CharField(max_length=200, blank=True)
    failure_reason = models.TextField(blank=True)
    # When the step is due: its due rule's date, or a document request's client deadline.
    deadline = models.DateField(null=True, blank=True)
    # When an automatic step waiting for its send date goes out (its `step.send` timer's
    # moment); empty once it has gone, or for steps that go as soon as they may start.
    scheduled_for = models.DateTimeField(null=True, blank=True)
    chase_count = models.PositiveSmallIntegerField(default=0)
    ready_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        indexes = [
            models.Index(fields=["practice", "task", "position"]),
            models.Index(fields=["practice", "assignee", "status"]),
            models.Index(fields=["practice", "assignee_team", "status"]),
            # The sweep's safety net: automatic steps left ready.
            models.Index(
                fields=["ready_at"],
                condition=Q(status="ready", mode="automatic"),
                name="step_ready_automatic_idx",
            ),
        ]
        ordering = ["group__position", "position", "id"]
        constraints = _mode_rules("step")

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status not in self.FINISHED

    @property
    def shown_sub_status(self) -> str:
        """The sub-status worth showing now: while in progress, or a done step's outcome."""
        if self.status == self.Status.IN_PROGRESS or (
            self.status == self.Status.DONE and self.sub_status in self.OUTCOMES
        ):
            return self.get_sub_status_display() if self.sub_status else ""
        return ""


class StepDependency(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="dependencies")
    depends_on = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="dependents")

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["step", "depends_on"], name="step_dep_unique"),
            models.CheckConstraint(
                condition=~Q(step=models.F("depends_on")), name="step_dep_not_self"
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "step"]),
            models.Index(fields=["practice", "depends_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.step_id} after {self.depends_on_id}"


class ChecklistItem(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="checklist")
    text = models.CharField(max_length=300)
    position = models.PositiveIntegerField(default=0)
    done = models.BooleanField(default=False)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    done_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "step", "position"])]
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text
