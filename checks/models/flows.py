"""Check-based flows: templates of checks, flows over clients, and their runs.

A `FlowTemplate` is an ordered list of checks (built-in ones by key, the practice's custom
ones) a practice starts flows from; four built-in templates are copied into every practice
(`checks.flows.templates`). A `Flow` is made by the creator: its checks (`FlowCheck`), its
cadence (one-off: a reporting period and a due date; repeating: `checks.flows.cadence`), the
checks' rules, and its clients with their team (`FlowClient`). A `FlowRun` is one client's
run of a flow for one reporting period (unique per flow, client and period start), with one
`FlowRunCheck` per check that the assignee works. Runs move through `FLOW_RUN_MACHINE` (not
started → in progress → in review → complete; handed back goes to in progress again), their
checks through `FLOW_RUN_CHECK_MACHINE`; both are changed only in `checks/flows/engine.py`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from checks.models.findings import CustomCheck
from sodium.models import Client, Practice
from sodium.statemachine import Machine
from sodium.tenancy import TenantManager

_person = {
    "on_delete": models.SET_NULL,
    "null": True,
    "blank": True,
    "related_name": "+",
}


class Category(models.TextChoices):
    MONTH_END = "month_end", "Month end"
    YEAR_END = "year_end", "Year end"
    VAT = "vat", "VAT"
    ONBOARDING = "onboarding", "Onboarding"
    OTHER = "other", "Other"


class FlowTemplate(models.Model):
    """A named, ordered selection of checks that flows start from."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.OTHER)
    # The built-in template this is the practice's copy of ("month_end_review"), or "".
    builtin_key = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, **_person)
    created_at = models.DateTimeField(default=timezone.now)
    archived = models.BooleanField(default=False)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="flow_template_name_once")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class _CheckRef(models.Model):
    """A check in an ordered list: a built-in one by key, or a custom one."""

    position = models.PositiveSmallIntegerField(default=0)
    check_key = models.CharField(max_length=40, blank=True)  # a built-in check's key
    custom_check = models.ForeignKey(
        CustomCheck, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.ref

    @property
    def ref(self) -> str:
        """ "builtin:vat" or "custom:12": how the creator names a check."""
        return f"builtin:{self.check_key}" if self.check_key else f"custom:{self.custom_check_id}"


class FlowTemplateCheck(_CheckRef):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey(FlowTemplate, on_delete=models.CASCADE, related_name="checks")

    objects = TenantManager()

    class Meta(_CheckRef.Meta):
        pass


class Flow(models.Model):
    """One-off or repeating work over a set of clients: which checks, when, and who."""

    class Kind(models.TextChoices):
        ONE_OFF = "one_off", "One-off"
        REPEATING = "repeating", "Repeating"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    template = models.ForeignKey(
        FlowTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="flows"
    )
    # One-off: the reporting period and the due date.
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    # Repeating: `checks.flows.cadence.Cadence.to_json()`.
    cadence = models.JSONField(default=dict, blank=True)
    # The chosen checks' rules: {check key: {rule: value}} (only what differs from defaults).
    rules = models.JSONField(default=dict, blank=True)
    paused = models.BooleanField(default=False)
    # When the sweep next looks at this repeating flow (its earliest client's next date).
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, **_person)
    created_at = models.DateTimeField(default=timezone.now)
    # Bumped by every edit: a run keeps the version it was made from.
    version = models.PositiveIntegerField(default=1)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "kind"])]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class FlowCheck(_CheckRef):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="checks")

    objects = TenantManager()

    class Meta(_CheckRef.Meta):
        pass


class FlowClient(models.Model):
    """A client a flow covers, with the team that works its runs."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="flow_clients")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, **_person)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, **_person)
    second_reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, **_person)
    # Repeating flows: the latest scheduled date made into a run (or skipped) for this client;
    # the next run is the first scheduled date after it.
    generated_until = models.DateField(null=True, blank=True)
    next_date = models.DateField(null=True, blank=True)
    skip_reason = models.CharField(max_length=200, blank=True)  # e.g. "no year end"

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["flow", "client"], name="flow_client_once")]

    def __str__(self) -> str:
        return f"{self.flow} · {self.client}"


class FlowRun(models.Model):
    """One client's run of a flow for one reporting period."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        IN_REVIEW = "in_review", "In review"
        COMPLETE = "complete", "Complete"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="runs")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="flow_runs")
    flow_version = models.PositiveIntegerField(default=1)
    period_start = models.DateField()
    period_end = models.DateField()
    scheduled_date = models.DateField()  # when it appears (a one-off: the day it was made)
    due_date = models.DateField()
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.NOT_STARTED, db_index=True
    )
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, **_person)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, **_person)
    second_reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, **_person)
    # Which reviewer has it while in review: 1 or 2 (0 when not in review).
    review_stage = models.PositiveSmallIntegerField(default=0)
    # Whether the reviewers approved it (the assignee may complete it then).
    approved = models.BooleanField(default=False)
    checks_total = models.PositiveSmallIntegerField(default=0)
    checks_done = models.PositiveSmallIntegerField(default=0)
    rules = models.JSONField(default=dict, blank=True)  # the checks' rules for this period
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["flow", "client", "period_start", "period_end"],
                name="flow_run_once_per_period",
            )
        ]
        indexes = [
            models.Index(fields=["practice", "status", "due_date"]),
            models.Index(fields=["practice", "assignee", "status"]),
        ]
        ordering = ["due_date", "id"]

    def __str__(self) -> str:
        return f"{self.flow.name} · {self.client.name}"

    @property
    def progress_percent(self) -> int:
        return round(100 * self.checks_done / self.checks_total) if self.checks_total else 0

    @property
    def current_reviewer_id(self) -> int | None:
        if self.status != self.Status.IN_REVIEW:
            return None
        return self.second_reviewer_id if self.review_stage == 2 else self.reviewer_id


class FlowRunCheck(_CheckRef):
    """One check of a run, worked by the assignee: examined, then marked done one way."""

    class Status(models.TextChoices):
        PENDING = "pending", "To do"
        NO_ISSUES = "no_issues", "Complete – no issues"
        SOME_ISSUES = "some_issues", "Complete – some issues"
        NOT_APPLICABLE = "not_applicable", "Not applicable"

    DONE = frozenset({Status.NO_ISSUES, Status.SOME_ISSUES, Status.NOT_APPLICABLE})

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="run_checks")
    name = models.CharField(max_length=200)  # as it was when the run was made
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    comment = models.TextField(blank=True)  # required for "some issues"
    open_findings = models.PositiveIntegerField(default=0)  # when the run started
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, **_person)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta(_CheckRef.Meta):
        pass

    def __str__(self) -> str:
        return self.name


class FlowRunNote(models.Model):
    """A comment on a run or one of its checks (a hand-back's reason is one), or a file."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="notes")
    run_check = models.ForeignKey(
        FlowRunCheck, on_delete=models.CASCADE, null=True, blank=True, related_name="notes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, **_person)
    body = models.TextField(blank=True)
    file_name = models.CharField(max_length=255, blank=True)  # as uploaded, shown only
    stored_name = models.CharField(max_length=255, blank=True)  # random storage name
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:60] or self.file_name


class FlowRunSnapshot(models.Model):
    """The client's health score at a step of a run (started, submitted, handed back …)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="snapshots")
    step = models.CharField(max_length=30)  # the run's new status, or "approved"
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    open_findings = models.PositiveIntegerField(default=0)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, **_person)
    at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.step} ({self.score})"


_R = FlowRun.Status
FLOW_RUN_MACHINE = Machine(
    name="flow run",
    model=FlowRun,
    table={
        _R.NOT_STARTED: {_R.IN_PROGRESS},
        _R.IN_PROGRESS: {_R.IN_REVIEW, _R.COMPLETE},
        _R.IN_REVIEW: {_R.IN_PROGRESS, _R.COMPLETE},
        _R.COMPLETE: set(),
    },
    verb="flow_run.status",
    subject=lambda run: {"practice": run.practice_id, "client": run.client},
    label=lambda run: f"{run.flow.name} for {run.client.name}",
    description=(
        "One client's run of a check-based flow. Start needs an assignee; submit needs every "
        "check done; reviewers approve in order or hand it back (to in progress); only the "
        "assignee completes it — from in review once approved, or from in progress when the "
        "run has no reviewer."
    ),
)

_C = FlowRunCheck.Status
FLOW_RUN_CHECK_MACHINE = Machine(
    name="flow run check",
    model=FlowRunCheck,
    table={
        _C.PENDING: {_C.NO_ISSUES, _C.SOME_ISSUES, _C.NOT_APPLICABLE},
        _C.NO_ISSUES: {_C.PENDING},
        _C.SOME_ISSUES: {_C.PENDING},
        _C.NOT_APPLICABLE: {_C.PENDING},
    },
    verb="flow_run_check.status",
    subject=lambda check: {"practice": check.practice_id, "client": check.run.client},
    label=lambda check: check.name,
    description=(
        "One check of a flow run: marked complete with no issues, complete with some issues "
        "(a comment required) or not applicable, while the run is in progress; Undo puts it "
        "back to do."
    ),
)
