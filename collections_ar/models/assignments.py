"""Assignments of AR workflows to customers, the action runs they plan, and the practice's
AR settings.

An `Assignment` puts one customer on one workflow from its assigned date; a customer has at
most one live (active or paused) assignment. Its state moves through `ASSIGNMENT_MACHINE`
(active ⇄ paused; → ended when unassigned, → finished when its last action has run, →
stopped when the customer has nothing left open).

Assigning plans every action as an `ActionRun`: one per assigned-date action, one per open
invoice for due-date actions (and more as invoices arrive). A run is the exactly-once unit:
its `key` ("ar:<assignment>:<action>:<invoice or 0>") is unique and is also the outbox
idempotency key of the message it sends. The timer sweep claims pending runs whose
`due_at` has passed (`collections_ar.running`), re-checks everything, and moves each one once
to done, skipped or failed (`RUN_MACHINE`). A paused assignment's runs are *held*; resuming
makes them pending again.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

from collections_ar.models.customers import Customer
from collections_ar.models.invoices import Invoice
from collections_ar.models.workflows import ARAction, ARWorkflow
from sodium.models import Contact, OutboundMessage, Practice
from sodium.statemachine import Machine
from sodium.tenancy import TenantManager


class ARSettings(models.Model):
    """A practice's rules for running AR workflows."""

    class Resume(models.TextChoices):
        SHIFT = "shift", "Continue where it left off (later actions move by the pause)"
        SKIP = "skip", "Skip what fell due while paused"

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="+")
    send_from = models.TimeField("send from", default=dt.time(9, 0))
    send_until = models.TimeField("send until", default=dt.time(17, 0))
    resume = models.CharField(max_length=5, choices=Resume.choices, default=Resume.SHIFT)
    promise_grace_days = models.PositiveSmallIntegerField(
        "days of grace after a promised date", default=3
    )

    objects = TenantManager()

    class Meta:
        verbose_name = "AR settings"
        verbose_name_plural = "AR settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(send_until__gt=models.F("send_from")),
                name="ar_settings_window_order",
            )
        ]

    def __str__(self) -> str:
        return f"AR settings of practice {self.practice_id}"


class Assignment(models.Model):
    """One customer on one AR workflow, from its assigned date."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        FINISHED = "finished", "Finished"
        STOPPED = "stopped", "Stopped: nothing open"
        ENDED = "ended", "Unassigned"

    LIVE = (State.ACTIVE, State.PAUSED)

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="assignments")
    workflow = models.ForeignKey(ARWorkflow, on_delete=models.PROTECT, related_name="assignments")
    # Whom its messages address; null: the customer's collections contact at the time.
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assigned_on = models.DateField()
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.ACTIVE, db_index=True
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.CharField(max_length=200, blank=True)
    chained_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(state__in=["active", "paused"]),
                name="ar_one_live_assignment_per_customer",
            )
        ]
        indexes = [
            models.Index(fields=["practice", "workflow", "state"]),
            models.Index(fields=["practice", "customer", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.workflow} for customer {self.customer_id}"

    @property
    def is_live(self) -> bool:
        return self.state in self.LIVE


class ActionRun(models.Model):
    """One action of one assignment (for one invoice, for due-date actions), done once."""

    class State(models.TextChoices):
        PENDING = "pending", "Scheduled"
        HELD = "held", "Held (paused)"
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="runs")
    action = models.ForeignKey(
        ARAction, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=ARAction.Kind.choices)
    position = models.PositiveSmallIntegerField(default=0)
    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    key = models.CharField(max_length=120, unique=True)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    message = models.ForeignKey(
        OutboundMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A call reminder is a task for the specialist: completed with an outcome.
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=500, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["due_at", "position", "id"]
        indexes = [
            # The sweep's one query: pending runs by due time, whatever else exists.
            models.Index(
                fields=["due_at"],
                name="ar_run_pending_due",
                condition=models.Q(state="pending"),
            ),
            models.Index(fields=["practice", "assignment", "state"]),
            models.Index(fields=["practice", "kind", "state", "completed_at"]),
        ]

    def __str__(self) -> str:
        return self.key


_A = Assignment.State
ASSIGNMENT_MACHINE = Machine(
    name="ar_assignment",
    model=Assignment,
    field="state",
    table={
        _A.ACTIVE: {_A.PAUSED, _A.FINISHED, _A.STOPPED, _A.ENDED},
        _A.PAUSED: {_A.ACTIVE, _A.ENDED, _A.STOPPED},
        _A.FINISHED: set(),
        _A.STOPPED: set(),
        _A.ENDED: set(),
    },
    verb="ar.assignment.state",
    subject=lambda a: {"practice": a.practice_id, "client": a.customer.client},
    label=lambda a: f"AR workflow {a.workflow.name}",
    description=(
        "A customer on an AR workflow. Paused: no action runs (a promise to pay pauses it "
        "too); resumed by the practice's rule. Finished when its last action has ran (then "
        "it may continue with the next workflow); stopped when the customer has nothing "
        "open; unassigned for good by a person."
    ),
)
_R = ActionRun.State
RUN_MACHINE = Machine(
    name="ar_action_run",
    model=ActionRun,
    field="state",
    table={
        _R.PENDING: {_R.DONE, _R.SKIPPED, _R.CANCELLED, _R.FAILED, _R.HELD},
        _R.HELD: {_R.PENDING, _R.SKIPPED, _R.CANCELLED},
        _R.DONE: set(),
        _R.SKIPPED: set(),
        _R.CANCELLED: set(),
        _R.FAILED: {_R.PENDING},
    },
    verb="ar.run.state",
    subject=lambda r: {"practice": r.practice_id},
    label=lambda r: r.key,
    description=(
        "One planned action of an assignment. The sweep moves a due pending run once: done "
        "(its message in the outbox under the run's key), skipped (why: paid, void, "
        "disputed, no address …) or failed (a render error; retried by a person). Pausing "
        "holds pending runs; unassigning or stopping cancels them. Runs move in bulk by "
        "compare-and-set; each move is one row in the assignment's history."
    ),
)
