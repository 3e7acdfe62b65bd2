"""What the data-health checks found: runs, findings, health scores, per-client settings.

A `CheckRun` is one run of every built-in check over one client's ledger (`checks.runs`).
"Run now" queues one for a worker (`request_check_run`); it moves through `CHECK_RUN_MACHINE`
(queued → running → done / failed) and counts the checks done as it goes, for the page's
progress bar. A run made in-process (`run_checks(client)`) is stored done.
Each flagged thing is a `Finding`, keyed by (client, check, fingerprint): the fingerprint
names what it concerns ("contact:42", "duplicate:tx:17,tx:29"), so the next run finds the
same row again and a dismissed finding stays dismissed. Its status moves only through
`FINDING_MACHINE` (`checks.runs`): staff dismiss (with a reason) and restore; a run resolves
an open finding it no longer finds and reopens a resolved one it finds again. Each run stores
a `HealthScore` (0–100 and its band) so the score's history can be drawn.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from sodium.models import Client, Practice
from sodium.statemachine import Machine
from sodium.tenancy import TenantManager


class CheckRun(models.Model):
    """One run of the built-in checks over a client's ledger."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="check_runs")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    # When it was requested, then when a worker claimed it (the sweep's staleness counts
    # from here in both states).
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The practice's day the run was for (its "today": windows and ages count from it).
    run_date = models.DateField()
    ran_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    # {check key: {"found": n, "open": n, "dismissed": n, "new": n, "resolved": n,
    #  "truncated": bool, "ms": n}}
    counts = models.JSONField(default=dict, blank=True)
    # Progress: the built-in checks to go through and how many are done (skipped ones count).
    checks_total = models.PositiveSmallIntegerField(default=0)
    checks_done = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)  # why a failed run failed, for the page

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "client", "started_at"])]
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"check run {self.pk} ({self.run_date})"


class Finding(models.Model):
    """One flagged thing: a transaction, a pair of contacts, an account, a group of duplicates."""

    class Severity(models.TextChoices):
        RED = "red", "Red"
        AMBER = "amber", "Amber"
        INFO = "info", "Info"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DISMISSED = "dismissed", "Dismissed"
        RESOLVED = "resolved", "Resolved"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="findings")
    check_key = models.CharField(max_length=40)
    fingerprint = models.CharField(max_length=255)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    title = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    # The rows it concerns, for links: {"checks.transaction": [17, 29]} (model label → ids).
    rows = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    first_seen_run = models.ForeignKey(
        CheckRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_seen_run = models.ForeignKey(
        CheckRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_reason = models.TextField(blank=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "check_key", "fingerprint"], name="finding_once"
            )
        ]
        indexes = [models.Index(fields=["practice", "client", "status", "check_key"])]
        ordering = ["check_key", "id"]

    def __str__(self) -> str:
        return self.title


_R = CheckRun.Status
CHECK_RUN_MACHINE = Machine(
    name="data-health check run",
    model=CheckRun,
    table={
        _R.QUEUED: {_R.RUNNING, _R.FAILED},
        _R.RUNNING: {_R.DONE, _R.FAILED},
        _R.DONE: set(),
        _R.FAILED: set(),
    },
    verb="check_run.status",
    subject=lambda run: {"practice": run.practice_id, "client": run.client},
    description=(
        "One run of the built-in checks over a client's ledger. Run now queues it; a worker "
        "claims it (a compare-and-set, so a second delivery does nothing) and runs every check "
        "in one transaction, counting the checks done for the page; it ends done, or failed "
        "with the error and the findings as they were. The sweep enqueues a run left queued "
        "over a minute again, and fails one left running past the task's time limit (its "
        "worker died). A run made in-process is stored done; `checks.run` records a done run."
    ),
)


_F = Finding.Status
FINDING_MACHINE = Machine(
    name="data-health finding",
    model=Finding,
    table={
        _F.OPEN: {_F.DISMISSED, _F.RESOLVED},
        _F.DISMISSED: {_F.OPEN},
        _F.RESOLVED: {_F.OPEN},
    },
    verb="finding.status",
    subject=lambda finding: {"practice": finding.practice_id, "client": finding.client},
    label=lambda finding: finding.title,
    description=(
        "One thing a data-health check flagged. Staff dismiss an open finding (with a reason) "
        "and restore a dismissed one; a run resolves an open finding it no longer finds and "
        "reopens a resolved one it finds again (a compare-and-set update, one activity event "
        "per run); a dismissed finding stays dismissed however often it is found."
    ),
)


class HealthScore(models.Model):
    """A client's health score after one run: the history the page draws."""

    class Band(models.TextChoices):
        GOOD = "good", "Good"
        ATTENTION = "attention", "Needs attention"
        POOR = "poor", "Poor"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="health_scores")
    run = models.OneToOneField(CheckRun, on_delete=models.CASCADE, related_name="health_score")
    score = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=10, choices=Band.choices)
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "client", "recorded_at"])]
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.score} ({self.band})"


class ClientCheckSetting(models.Model):
    """One client's settings of one built-in check: on or off, rule overrides, exclusions.

    `rules` overrides the check's default rules (validated by the check's rules class);
    `exclusions` holds what the client accepts, e.g. multi-coded contacts' code pairs
    `{"code_pairs": [["200", "260"]]}`.
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    check_key = models.CharField(max_length=40)
    enabled = models.BooleanField(default=True)
    rules = models.JSONField(default=dict, blank=True)
    exclusions = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "check_key"], name="client_check_setting_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.check_key} for client {self.client_id}"


class CustomCheck(models.Model):
    """A practice's own check: a name and a description (with links), no data; for flows."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    archived = models.BooleanField(default=False)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="custom_check_name_once")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
