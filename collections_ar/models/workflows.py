"""AR workflows: a practice's sequences of timed actions that chase unpaid invoices.

An `ARWorkflow` is OFF or ON (`WORKFLOW_MACHINE`); only an ON workflow can be newly
assigned, and switching it OFF leaves running assignments alone. It may name the workflow
to continue with once its last action has run (`continue_with`); a chain that comes back
to itself is refused by the builder. The practice's *default* workflow is the one new
customers get when their first invoice arrives.

Its `ARAction`s run in `position` order. Each is timed either from the date the workflow
was assigned — `days` after the assigned-date action before it (the first: after the
assigned date itself), "N days later" — or from each open invoice's due date (`days`
before or after it). Each kind of action uses its own fields:

| kind | fields |
|---|---|
| note | `body` (the note, emailed to the customer's AR specialist) |
| call | `body` (what to say; the call task's instructions, optional) |
| email | `content_block` (an email block) or `subject` + `body` |
| sms | `content_block` (an SMS block) or `body` |
| status | `collection_status` (set on each open invoice) |
| notify | `user` (the member told), `body` (the message, optional) |
| assign | `user` (the new AR specialist) |
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from collections_ar.models.statuses import CollectionStatus
from sodium.models import ContentBlock, Practice
from sodium.statemachine import Machine
from sodium.tenancy import TenantManager

MAX_DAYS = 365


class ARWorkflow(models.Model):
    """A named sequence of AR actions, OFF until its manager switches it ON."""

    class State(models.TextChoices):
        OFF = "off", "Off"
        ON = "on", "On"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=3, choices=State.choices, default=State.OFF, db_index=True)
    continue_with = models.ForeignKey(
        "self",
        verbose_name="continue with",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    is_default = models.BooleanField(default=False)
    # The prebuilt workflow this is the practice's copy of ("gentle"), or "".
    prebuilt_key = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="ar_workflow_name_once"),
            models.UniqueConstraint(
                fields=["practice"],
                condition=models.Q(is_default=True),
                name="ar_workflow_one_default",
            ),
        ]
        indexes = [models.Index(fields=["practice", "state"])]
        verbose_name = "AR workflow"

    def __str__(self) -> str:
        return self.name

    @property
    def is_on(self) -> bool:
        return self.state == self.State.ON


class ARAction(models.Model):
    """One timed step of an AR workflow."""

    class Kind(models.TextChoices):
        NOTE = "note", "Add a note to the customer account"
        CALL = "call", "Remind the AR specialist to call"
        EMAIL = "email", "Send an email"
        SMS = "sms", "Send an SMS"
        STATUS = "status", "Update the invoice status"
        NOTIFY = "notify", "Notify an AR specialist"
        ASSIGN = "assign", "Assign or change the AR specialist"

    class Base(models.TextChoices):
        ASSIGNED = "assigned", "After the workflow is assigned"
        BEFORE_DUE = "before_due", "Before the invoice's due date"
        AFTER_DUE = "after_due", "After the invoice's due date"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey(ARWorkflow, on_delete=models.CASCADE, related_name="actions")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    base = models.CharField(max_length=12, choices=Base.choices, default=Base.ASSIGNED)
    days = models.PositiveSmallIntegerField(default=0)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    content_block = models.ForeignKey(
        ContentBlock, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    collection_status = models.ForeignKey(
        CollectionStatus, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["practice", "workflow", "position"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(days__lte=MAX_DAYS), name="ar_action_days_lte_365"
            )
        ]
        verbose_name = "AR action"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.timing_label})"

    @property
    def sends_message(self) -> bool:
        return self.kind in (self.Kind.EMAIL, self.Kind.SMS)

    @property
    def timing_label(self) -> str:
        days = f"{self.days} day{'s' if self.days != 1 else ''}"
        if self.base == self.Base.BEFORE_DUE:
            return f"{days} before the due date" if self.days else "on the due date"
        if self.base == self.Base.AFTER_DUE:
            return f"{days} after the due date" if self.days else "on the due date"
        return f"{days} later" if self.days else "straight away"


_W = ARWorkflow.State
WORKFLOW_MACHINE = Machine(
    name="ar_workflow",
    model=ARWorkflow,
    field="state",
    table={_W.OFF: {_W.ON}, _W.ON: {_W.OFF}},
    verb="ar.workflow.state",
    subject=lambda wf: {"practice": wf.practice_id},
    label=lambda wf: f"AR workflow {wf.name}",
    description=(
        "An AR workflow. Only an ON workflow can be newly assigned to customers; switching "
        "it OFF hides it from assigning and leaves running assignments alone. It goes ON "
        "only with at least one action, every action complete."
    ),
)
