"""Imports of ledger files, and the column mappings remembered per client and source.

A `LedgerImport` is one uploaded file on its way into a client's ledger: stored, its layout
recognised (or mapped by a person), previewed, imported by a Celery task with its progress,
then done (with the rows it rejected and why) or failed with nothing written. Its status
moves only through `IMPORT_MACHINE` (checks/engine.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from sodium.models import Client, Practice
from sodium.statemachine import Machine
from sodium.tenancy import TenantManager


class LedgerImport(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        NEEDS_MAPPING = "needs_mapping", "Needs its columns mapped"
        READY = "ready", "Ready to import"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="ledger_imports")
    # Where the file came from ("xero", "quickbooks", "bank") and which layout it is in
    # (checks.imports.layouts: "xero_accounts", "qbo_general_ledger", "mapped_bank" …).
    source = models.CharField(max_length=30, blank=True)
    layout = models.CharField(max_length=40, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.UPLOADED, db_index=True
    )
    file_name = models.CharField(max_length=255)  # as uploaded, shown only
    stored_name = models.CharField(max_length=255)  # the random storage name
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    # For a bank statement: the bank account its lines go to.
    bank_account = models.ForeignKey(
        "checks.LedgerAccount", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    date_format = models.CharField(max_length=10, blank=True)  # "dmy" / "mdy" when asked
    # How the file's text is read ("utf-8-sig" or "cp1252"), and the last line of its header
    # (progress counts the lines after it).
    encoding = models.CharField(max_length=20, default="utf-8-sig")
    header_line = models.PositiveIntegerField(default=0)
    mapping = models.JSONField(default=dict, blank=True)  # field → header, for mapped files
    import_good_rows = models.BooleanField(default=False)  # the person chose to skip rejects
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    # [{"line": 12, "reason": "…"}], the first few hundred; `rejected_count` counts them all.
    rejected = models.JSONField(default=list, blank=True)
    rejected_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)  # why a failed import failed
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "client", "created_at"])]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


_I = LedgerImport.Status
IMPORT_MACHINE = Machine(
    name="ledger import",
    model=LedgerImport,
    table={
        _I.UPLOADED: {_I.NEEDS_MAPPING, _I.READY, _I.FAILED},
        _I.NEEDS_MAPPING: {_I.READY, _I.CANCELLED},
        _I.READY: {_I.IMPORTING, _I.NEEDS_MAPPING, _I.CANCELLED},
        _I.IMPORTING: {_I.DONE, _I.FAILED},
        _I.DONE: set(),
        _I.FAILED: set(),
        _I.CANCELLED: set(),
    },
    verb="ledger_import.status",
    subject=lambda imp: {"practice": imp.practice_id, "client": imp.client},
    label=lambda imp: imp.file_name,
    description=(
        "One uploaded ledger file: recognised or mapped, previewed, imported by a worker, then "
        "done or failed with nothing written. A new upload starts again; nothing is retried."
    ),
)


class ColumnMapping(models.Model):
    """Which header holds which field, for a client's files from one source with one header."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=60)  # e.g. "bank:090" (a bank account's code)
    header_signature = models.CharField(max_length=64)  # SHA-256 of the normalised headers
    mapping = models.JSONField(default=dict)
    date_format = models.CharField(max_length=10, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "source", "header_signature"], name="column_mapping_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} ({self.header_signature[:8]})"
