"""Collection statuses: the practice's own labels for where the chase of an invoice stands.

Every practice starts with six (`collections_ar.statuses.DEFAULT_STATUSES`, copied in by
`ensure_default_statuses`); exactly one is the default that new invoices get. A status may
name a manager (`alert_user`) who is notified in the app whenever it is applied. A status in
use by an invoice cannot be deleted (the invoices' FK is PROTECT), nor can the default.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from sodium.models import Practice
from sodium.tenancy import TenantManager


class CollectionStatus(models.Model):
    """A named, ordered stage of collecting an invoice (Current, Reminded, Escalated …)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0)
    alert_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="A manager notified whenever an invoice is given this status.",
    )
    is_default = models.BooleanField(default=False)
    # The built-in status this is the practice's copy of ("current"), or "".
    builtin_key = models.CharField(max_length=40, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="ar_status_name_once"),
            models.UniqueConstraint(
                fields=["practice"],
                condition=models.Q(is_default=True),
                name="ar_status_one_default",
            ),
        ]
        indexes = [models.Index(fields=["practice", "position"])]
        verbose_name_plural = "collection statuses"

    def __str__(self) -> str:
        return self.name
