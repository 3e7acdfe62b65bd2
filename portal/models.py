"""What clients see and do: access tokens, documents, requests, approvals, confirmations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from portal.errors import ItemRefused
from sodium.models import Client, Contact, Practice
from sodium.statemachine import Machine
from sodium.tenancy import TenantManager
from workflows.models import Step

# Each item's status moves only through its Machine, declared under its model (tables shown
# in docs/state-machines.md). Most moves are told by the step's own event — the step's
# sub-status changes with them — so the engine records the item's move only where no step
# event says it (a request closed, a client's answer to a version).


class AccessToken(models.Model):
    """A link a contact received by email. Only the SHA-256 of the token is stored.

    The token is HMAC(SECRET_KEY, nonce) (portal.access): the nonce alone opens nothing.
    """

    class Purpose(models.TextChoices):
        SIGN_IN = "sign_in", "Sign-in link"
        STEP = "step", "Link in a step email"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="tokens")
    step = models.ForeignKey(
        Step, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    # Blank on tokens issued before tokens were derived (their links cannot be re-sent).
    nonce = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # A spent sign-in link: SHA-256 of the CSRF cookie of the browser that spent it, so that
    # browser's second click (a double-click) still gets in for a moment.
    spent_by = models.CharField(max_length=64, blank=True, default="")

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "contact"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} for {self.contact_id}"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class Document(models.Model):
    """A stored file: uploaded by a client, or sent by staff for approval."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(upload_to="documents/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    title = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=60, blank=True)
    uploaded_by_contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    task = models.ForeignKey(
        "sodium.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="documents"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        indexes = [
            models.Index(fields=["practice", "client", "-created_at"]),
            models.Index(fields=["practice", "task", "-created_at"]),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title or self.original_name


class DocumentRequest(models.Model):
    """A request for documents opened by a document-request step."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for the client"
        SUBMITTED = "submitted", "Submitted, to review"
        ACCEPTED = "accepted", "Accepted"
        CLOSED = "closed", "No longer needed"  # its step was skipped

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    step = models.OneToOneField(Step, on_delete=models.CASCADE, related_name="document_request")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    deadline = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    # Chases since the client was last asked (the request sent, or a submission returned);
    # portal.chasing counts them against the step's "at most" and starts again at 0.
    chases_sent = models.PositiveSmallIntegerField(default=0)
    last_chased_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "client", "status"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return bool(
            self.status == self.Status.OPEN
            and self.deadline
            and self.deadline < timezone.localdate()
        )


_R = DocumentRequest.Status

REQUEST_MACHINE = Machine(
    name="portal document request",
    model=DocumentRequest,
    table={
        _R.OPEN: {_R.SUBMITTED, _R.CLOSED},
        _R.SUBMITTED: {_R.ACCEPTED, _R.OPEN, _R.CLOSED},  # OPEN: returned, or sent again
        _R.ACCEPTED: set(),
        _R.CLOSED: {_R.OPEN},  # its step was restored and sent again
    },
    verb="request.status",
    subject=lambda request: {"practice": request.practice_id, "task": request.step.task},
    error=ItemRefused,
    label=lambda request: request.title,
    refusal=lambda request, to: (
        "This request is not waiting for documents any more."
        if to == _R.SUBMITTED
        else f"“{request.title}” is {request.get_status_display().lower()}."
    ),
    description="What a document-request step asks the client for; `portal.engine` moves it.",
)


class Submission(models.Model):
    """One answer from the client to a document request: files and a message."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(
        DocumentRequest, on_delete=models.CASCADE, related_name="submissions"
    )
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, related_name="+")
    message = models.TextField(blank=True)
    documents = models.ManyToManyField(Document, related_name="submissions", blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    submitted_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "request", "submitted_at"])]
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return f"Submission {self.pk} to {self.request_id}"


_S = Submission.Status

SUBMISSION_MACHINE = Machine(
    name="portal submission",
    model=Submission,
    table={_S.PENDING: {_S.ACCEPTED, _S.REJECTED}, _S.ACCEPTED: set(), _S.REJECTED: set()},
    verb="submission.status",
    subject=lambda submission: {
        "practice": submission.practice_id,
        "task": submission.request.step.task,
    },
    error=ItemRefused,
    refusal=lambda submission, to: "This submission has already been reviewed.",
    description=(
        "One answer to a document request. Reviewed once: accepted, or rejected (by staff "
        "with a reason, or closed unreviewed when the request is sent again or its step "
        "skipped)."
    ),
)


class Approval(models.Model):
    """A document sent to the client for approval by a document-approval step."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    step = models.OneToOneField(Step, on_delete=models.CASCADE, related_name="approval")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Chases of the version waiting for the client (portal.chasing); 0 again with each version.
    chases_sent = models.PositiveSmallIntegerField(default=0)
    last_chased_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "client"])]

    def __str__(self) -> str:
        return self.title


class ApprovalVersion(models.Model):
    """One version of the document under approval; every version is kept."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the client"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Replaced by a newer version"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    approval = models.ForeignKey(Approval, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField()
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)
    responded_by = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["approval", "number"], name="approval_version_unique")
        ]
        indexes = [models.Index(fields=["practice", "approval", "number"])]
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.approval} v{self.number}"


_V = ApprovalVersion.Status

VERSION_MACHINE = Machine(
    name="portal approval version",
    model=ApprovalVersion,
    table={
        _V.PENDING: {_V.APPROVED, _V.REJECTED, _V.SUPERSEDED},
        _V.APPROVED: set(),
        _V.REJECTED: set(),
        _V.SUPERSEDED: set(),
    },
    verb="portal.approval",
    subject=lambda version: {"practice": version.practice_id, "task": version.approval.step.task},
    error=ItemRefused,
    label=lambda version: f"{version.approval.title} (version {version.number})",
    refusal=lambda version, to: "This version has already been answered.",
    description=(
        "One version of a document sent for approval: the client approves or rejects it, "
        "or staff send a newer one first."
    ),
)


class Confirmation(models.Model):
    """A question the client confirms by clicking a button (client-confirmation step)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    step = models.OneToOneField(Step, on_delete=models.CASCADE, related_name="confirmation")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the client"
        CONFIRMED = "confirmed", "Confirmed"

    message = models.TextField()
    button_text = models.CharField(max_length=60)
    thank_you = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    chases_sent = models.PositiveSmallIntegerField(default=0)
    last_chased_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "client"])]

    def __str__(self) -> str:
        return self.message[:60]


_C = Confirmation.Status

CONFIRMATION_MACHINE = Machine(
    name="portal confirmation",
    model=Confirmation,
    table={_C.PENDING: {_C.CONFIRMED}, _C.CONFIRMED: set()},
    verb="confirmation.status",
    subject=lambda confirmation: {
        "practice": confirmation.practice_id,
        "task": confirmation.step.task,
    },
    error=ItemRefused,
    refusal=lambda confirmation, to: "This was already confirmed.",
    description="A question a client-confirmation step asks; the client confirms it once.",
)
