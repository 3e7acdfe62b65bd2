"""Customers: whom the practice collects money from.

Decision: a *customer* is one of the practice's own clients (`sodium.models.Client`), the
practice chasing its own fees. There is one `Customer` row per client that has invoices or
an imported collections contact (unique per practice and client). `on_behalf_of` is kept
for the later case of a practice running collections for a client, chasing that client's own
customers: then the row would stand for the client's customer and `on_behalf_of` names the
client it is collected for. It is unused now (always null) and nothing reads it yet.

The collections contact is one of the client's `Contact`s; when none is chosen the client's
billing contact is used, else its main contact, else its first contact
(`Customer.contact_for_collections`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from collections_ar.models.workflows import ARWorkflow
from sodium.models import Client, Contact, Practice
from sodium.tenancy import TenantManager


class Customer(models.Model):
    """A client the practice collects invoices from, with who works its account."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    # Later: the client whose own customer this is, when collecting on a client's behalf.
    on_behalf_of = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="AR specialist",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name="collections contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The AR workflow chasing the customer (the practice's default when its first invoice
    # arrived), and since when; null: none.
    workflow = models.ForeignKey(
        ARWorkflow,
        verbose_name="AR workflow",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customers",
    )
    workflow_assigned_on = models.DateField(null=True, blank=True)
    # Kept by `collections_ar.engine.refresh_totals` whenever an invoice is made, paid,
    # voided or disputed: what the customers tab sorts and shows without totalling every
    # customer's invoices on each view. Outstanding = open, part paid or disputed.
    open_invoices = models.PositiveIntegerField(default=0)
    open_balance = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    oldest_open_due = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "client"], name="ar_customer_client_once")
        ]
        indexes = [
            models.Index(fields=["practice", "oldest_open_due", "id"]),
            models.Index(fields=["practice", "specialist"]),
            models.Index(fields=["practice", "workflow"]),
        ]

    def __str__(self) -> str:
        return self.client.name

    @property
    def name(self) -> str:
        return self.client.name

    def contact_for_collections(self) -> Contact | None:
        """Return the chosen contact, else the billing, else the main, else the first one."""
        if self.contact_id:
            return self.contact
        contacts = list(Contact.objects.filter(practice=self.practice_id, client=self.client_id))
        for test in (lambda c: c.is_billing, lambda c: c.is_main, lambda c: True):
            for c in sorted(contacts, key=lambda c: c.pk):
                if test(c):
                    return c
        return None
