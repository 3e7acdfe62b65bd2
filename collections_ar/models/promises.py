"""Promises to pay: a customer's word that an amount will arrive by a date.

Recording one pauses the customer's chasing until the date (plus the practice's grace
days); a timer then checks: when the customer's chased balance has come down by the
promised amount the promise was *kept*, otherwise it is *broken* — the AR specialist is
told and the sequence resumes where it stopped. A payment that covers it keeps it at once.
States move through `PROMISE_MACHINE` (open → kept / broken / cancelled).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from collections_ar.models.customers import Customer
from sodium.models import Practice
from sodium.statemachine import Machine
from sodium.tenancy import TenantManager


class Promise(models.Model):
    """An amount a customer promised to pay by a date."""

    class State(models.TextChoices):
        OPEN = "open", "Promised"
        KEPT = "kept", "Kept"
        BROKEN = "broken", "Broken"
        CANCELLED = "cancelled", "Withdrawn"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="promises")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="GBP")
    promised_on = models.DateField("promised by")
    # What the customer owed on chased invoices when it promised: kept once it is down by
    # `amount`.
    balance_then = models.DecimalField(max_digits=14, decimal_places=2)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["promised_on", "id"]
        indexes = [
            models.Index(fields=["practice", "state", "promised_on"]),
            models.Index(fields=["practice", "customer", "state"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="ar_promise_amount_gt_0"),
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(state="open"),
                name="ar_one_open_promise_per_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} by {self.promised_on}"


_P = Promise.State
PROMISE_MACHINE = Machine(
    name="ar_promise",
    model=Promise,
    field="state",
    table={
        _P.OPEN: {_P.KEPT, _P.BROKEN, _P.CANCELLED},
        _P.KEPT: set(),
        _P.BROKEN: set(),
        _P.CANCELLED: set(),
    },
    verb="ar.promise.state",
    subject=lambda p: {"practice": p.practice_id, "client": p.customer.client},
    label=lambda p: "Promise to pay",
    description=(
        "A customer's promise to pay an amount by a date; chasing is paused meanwhile. Kept "
        "when the chased balance has come down by the amount; broken when the date and the "
        "grace days pass without it (the specialist is told, chasing resumes); withdrawn by "
        "a person."
    ),
)
