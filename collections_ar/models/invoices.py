"""Invoices and their payments.

An `Invoice` belongs to a customer; `amount_paid` is the sum of its `Payment`s and the
balance is `total - amount_paid`. Its status moves only through `INVOICE_MACHINE` (the
table below), changed only in `collections_ar/engine.py`: a part payment makes it part paid,
a payment that clears the balance makes it paid; void and paid are final. Its collection
status is the practice's own label for the chase (`CollectionStatus`). Money is `Decimal`.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from collections_ar.models.customers import Customer
from collections_ar.models.statuses import CollectionStatus
from sodium.models import Practice
from sodium.statemachine import Machine
from sodium.tenancy import TenantManager

_money = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")


class Invoice(models.Model):
    """One sales invoice the practice is owed money on."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PART_PAID = "part_paid", "Part paid"
        PAID = "paid", "Paid"
        VOID = "void", "Void"
        DISPUTED = "disputed", "Disputed"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invoices")
    number = models.CharField(max_length=50)
    issue_date = models.DateField()
    due_date = models.DateField()
    currency = models.CharField(
        max_length=3,
        default="GBP",
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use a three-letter currency code, e.g. GBP.")],
    )
    total = models.DecimalField(**_money, validators=[MinValueValidator(ZERO)])
    amount_paid = models.DecimalField(**_money, default=ZERO, validators=[MinValueValidator(ZERO)])
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    collection_status = models.ForeignKey(
        CollectionStatus, on_delete=models.PROTECT, related_name="invoices"
    )
    external_id = models.CharField("Xero InvoiceID", max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "number"], name="ar_invoice_number_once"),
            models.CheckConstraint(
                condition=models.Q(due_date__gte=models.F("issue_date")),
                name="ar_invoice_due_after_issue",
            ),
            models.CheckConstraint(condition=models.Q(total__gte=0), name="ar_invoice_total_gte_0"),
            models.CheckConstraint(
                condition=models.Q(amount_paid__gte=0), name="ar_invoice_paid_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_paid__lte=models.F("total")),
                name="ar_invoice_paid_lte_total",
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "customer", "status"]),
            models.Index(fields=["practice", "status", "due_date"]),
            models.Index(fields=["practice", "collection_status"]),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def balance(self) -> Decimal:
        return self.total - self.amount_paid

    @property
    def is_outstanding(self) -> bool:
        return self.status in OUTSTANDING

    def clean(self) -> None:
        if self.issue_date and self.due_date and self.due_date < self.issue_date:
            raise ValidationError({"due_date": "The due date cannot be before the issue date."})
        if (
            self.total is not None
            and self.amount_paid is not None
            and self.amount_paid > self.total
        ):
            raise ValidationError({"amount_paid": "The amount paid cannot exceed the total."})


OUTSTANDING = (Invoice.Status.OPEN, Invoice.Status.PART_PAID, Invoice.Status.DISPUTED)


class Payment(models.Model):
    """Money received against one invoice."""

    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        IMPORT = "import", "Import"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="payments")
    date = models.DateField()
    amount = models.DecimalField(**_money)
    reference = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="ar_payment_amount_gt_0")
        ]
        indexes = [models.Index(fields=["practice", "invoice"])]

    def __str__(self) -> str:
        return f"{self.amount} on {self.date}"


_I = Invoice.Status
INVOICE_MACHINE = Machine(
    name="invoice",
    model=Invoice,
    table={
        _I.OPEN: {_I.PART_PAID, _I.PAID, _I.VOID, _I.DISPUTED},
        _I.PART_PAID: {_I.PAID, _I.VOID, _I.DISPUTED},
        _I.PAID: set(),  # a refund is out of scope
        _I.VOID: set(),
        _I.DISPUTED: {_I.OPEN, _I.PART_PAID, _I.VOID},
    },
    verb="invoice.status",
    subject=lambda inv: {"practice": inv.practice_id, "client": inv.customer.client},
    label=lambda inv: f"Invoice {inv.number}",
    description=(
        "An accounts-receivable invoice. Payments move it to part paid, or to paid when the "
        "balance reaches zero; a dispute pauses it until resolved (back to open or part paid, "
        "by what has been paid); void and paid are final."
    ),
)
