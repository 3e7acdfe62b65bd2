"""Reads for the staff side of the portal: a task's documents, requests, submissions,
approvals and confirmations. Every function looks only inside the given practice."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from portal.models import (
    Approval,
    ApprovalVersion,
    Confirmation,
    Document,
    DocumentRequest,
    Submission,
)
from portal.step_types import CHASE_TIMER, ClientStepType
from sodium.models import OutboundMessage, Practice, Task, Timer
from workflows.models import Step

CLIENT_FACING = (
    ClientStepType.DOCUMENT_REQUEST,
    ClientStepType.DOCUMENT_APPROVAL,
    ClientStepType.CLIENT_CONFIRMATION,
)
# How many files the approval page and the focus panel offer to pick from, newest first.
PICK_LIMIT = 50

# Status → chip colour (the words come from the models' labels).
REQUEST_TONE = {
    DocumentRequest.Status.OPEN: "warn",
    DocumentRequest.Status.SUBMITTED: "info",
    DocumentRequest.Status.ACCEPTED: "ok",
}
SUBMISSION_TONE = {
    Submission.Status.PENDING: "info",
    Submission.Status.ACCEPTED: "ok",
    Submission.Status.REJECTED: "danger",
}
VERSION_TONE = {
    ApprovalVersion.Status.PENDING: "warn",
    ApprovalVersion.Status.APPROVED: "ok",
    ApprovalVersion.Status.REJECTED: "danger",
    ApprovalVersion.Status.SUPERSEDED: "muted",
}


def get_document(practice: Practice, document_id: int) -> Document:
    """Return the practice's document `document_id`, or raise Http404."""
    return get_object_or_404(Document.objects.filter(practice=practice), pk=document_id)


def get_submission(practice: Practice, submission_id: int) -> Submission:
    """Return the practice's submission `submission_id` with its request and step, or 404."""
    return get_object_or_404(
        Submission.objects.filter(practice=practice).select_related("request", "request__step"),
        pk=submission_id,
    )


def get_approval_step(practice: Practice, step_id: int) -> Step:
    """Return the practice's document-approval step `step_id` with its task, or raise Http404."""
    return get_object_or_404(
        Step.objects.filter(
            practice=practice, type=ClientStepType.DOCUMENT_APPROVAL
        ).select_related("task", "task__client", "task__practice"),
        pk=step_id,
    )


@dataclass
class StepChases:
    """The chase emails a step sent (oldest first; each with its `number`) and when the next
    one is due (None: no more planned)."""

    sent: list[OutboundMessage] = field(default_factory=list)
    next_due: object = None  # a datetime


def chases_of_steps(practice: Practice, step_ids: list[int]) -> dict[int, StepChases]:
    """Return the chases of each of `step_ids`: two queries, none without steps."""
    out = {pk: StepChases() for pk in step_ids}
    if not step_ids:
        return out
    for message in (
        OutboundMessage.objects.filter(
            practice=practice,
            source_type="workflows.step",
            source_id__in=step_ids,
            idempotency_key__contains=":chase:",
        )
        .only("pk", "to", "status", "created_at", "source_id", "idempotency_key")
        .order_by("created_at", "id")
    ):
        message.number = message.idempotency_key.rpartition(":")[2]
        out[message.source_id].sent.append(message)
    for target_id, due_at in Timer.objects.filter(
        practice=practice, kind=CHASE_TIMER, target_id__in=step_ids
    ).values_list("target_id", "due_at"):
        out[target_id].next_due = due_at
    return out


def pickable_documents(practice: Practice, task: Task, search: str = "") -> QuerySet[Document]:
    """Return the files staff may pick to send for approval on `task`, newest first: the
    task's own files and everything its client uploaded, whose title, file name or category
    contains `search`."""
    documents = (
        Document.objects.filter(practice=practice, client_id=task.client_id)
        .filter(Q(task=task) | Q(uploaded_by_contact__isnull=False))
        .select_related("uploaded_by_contact", "uploaded_by_user", "task")
    )
    search = search.strip()
    if search:
        documents = documents.filter(
            Q(title__icontains=search)
            | Q(original_name__icontains=search)
            | Q(category__icontains=search)
        )
    return documents


def get_pickable_document(practice: Practice, task: Task, document_id: str) -> Document:
    """Return the pickable document `document_id` (see pickable_documents), or raise Http404:
    another practice's, another client's or another task's staff file is not offered."""
    try:
        pk = int(document_id)
    except (TypeError, ValueError):
        raise Http404("No such document.") from None
    return get_object_or_404(pickable_documents(practice, task), pk=pk)


def _versions() -> QuerySet[ApprovalVersion]:
    return ApprovalVersion.objects.select_related(
        "document",
        "document__uploaded_by_contact",
        "document__uploaded_by_user",
        "sent_by",
        "responded_by",
    )


def _with_tones(versions: list[ApprovalVersion]) -> list[ApprovalVersion]:
    for v in versions:
        v.tone = VERSION_TONE.get(v.status, "muted")
    return versions


@dataclass
class ApprovalState:
    """Where a document-approval step stands, for the send-for-approval page."""

    step: Step
    approval: Approval | None
    versions: list[ApprovalVersion]
    can_send: bool
    reason: str  # why it cannot be sent now (empty when it can)

    @property
    def latest(self) -> ApprovalVersion | None:
        return self.versions[0] if self.versions else None

    @property
    def is_resend(self) -> bool:
        return bool(self.versions)


def approval_state(practice: Practice, step: Step) -> ApprovalState:
    """Return the step's approval with every version (newest first) and whether a document
    can be sent now: when the step is ready, or in progress with its latest version answered
    (rejected). portal.engine.send_for_approval checks the same under a lock."""
    approval = (
        Approval.objects.filter(practice=practice, step=step)
        .prefetch_related(Prefetch("versions", queryset=_versions().order_by("-number")))
        .first()
    )
    versions = _with_tones(list(approval.versions.all())) if approval else []
    latest = versions[0] if versions else None
    if step.status == Step.Status.READY:
        can_send, reason = True, ""
    elif step.status == Step.Status.IN_PROGRESS and latest is not None:
        can_send = latest.status != ApprovalVersion.Status.PENDING
        reason = "" if can_send else "The client has not answered the current version yet."
    elif step.status == Step.Status.BLOCKED:
        can_send, reason = False, "This step is waiting for the steps it depends on."
    else:
        can_send = False
        reason = f"This step is {step.get_status_display().lower()}."
    return ApprovalState(step, approval, versions, can_send, reason)


def can_send_for_approval(step: Step) -> bool:
    """Return whether the approval page can send a document for `step`, from its status alone
    (the sub-status says the latest version was rejected); for links in lists."""
    if step.type != ClientStepType.DOCUMENT_APPROVAL:
        return False
    return step.status == Step.Status.READY or (
        step.status == Step.Status.IN_PROGRESS and step.sub_status == Step.SubStatus.REJECTED
    )


# --- the task page's "Documents & client responses" panel -------------------------------------


@dataclass
class RequestRow:
    step: Step
    request: DocumentRequest | None
    submissions: list[Submission] = field(default_factory=list)
    chases: StepChases = field(default_factory=StepChases)

    @property
    def tone(self) -> str:
        return REQUEST_TONE.get(self.request.status, "muted") if self.request else "muted"

    @property
    def is_overdue(self) -> bool:
        return bool(self.request and self.step.is_open and self.request.is_overdue)


@dataclass
class ApprovalRow:
    step: Step
    approval: Approval | None
    versions: list[ApprovalVersion] = field(default_factory=list)
    chases: StepChases = field(default_factory=StepChases)

    @property
    def can_send(self) -> bool:
        return can_send_for_approval(self.step)


@dataclass
class ConfirmationRow:
    step: Step
    confirmation: Confirmation | None
    chases: StepChases = field(default_factory=StepChases)


@dataclass
class TaskDocuments:
    requests: list[RequestRow]
    approvals: list[ApprovalRow]
    confirmations: list[ConfirmationRow]
    files: list[Document]

    @property
    def overdue(self) -> int:
        return sum(1 for r in self.requests if r.is_overdue)

    @property
    def to_review(self) -> int:
        return sum(
            1 for r in self.requests for s in r.submissions if s.status == Submission.Status.PENDING
        )


def task_documents(practice: Practice, task: Task) -> TaskDocuments | None:
    """Return the task's client-facing steps with their portal items, and every file of the
    task; None when the task has neither.

    A fixed number of queries whatever the number of steps, submissions, versions and files
    (at most ten).
    """
    steps = list(
        Step.objects.filter(practice=practice, task=task, type__in=CLIENT_FACING).order_by(
            "group__position", "position", "id"
        )
    )
    files = list(
        Document.objects.filter(practice=practice, task=task).select_related(
            "uploaded_by_contact", "uploaded_by_user"
        )
    )
    if not steps and not files:
        return None
    by_type: dict[str, list[Step]] = {t: [] for t in CLIENT_FACING}
    for step in steps:
        by_type[step.type].append(step)

    requests: dict[int, DocumentRequest] = {}
    if by_type[ClientStepType.DOCUMENT_REQUEST]:
        submissions = Submission.objects.select_related("contact", "reviewed_by").prefetch_related(
            Prefetch(
                "documents",
                queryset=Document.objects.filter(practice=practice).order_by("created_at", "id"),
            )
        )
        requests = {
            r.step_id: r
            for r in DocumentRequest.objects.filter(
                practice=practice, step__in=by_type[ClientStepType.DOCUMENT_REQUEST]
            ).prefetch_related(Prefetch("submissions", queryset=submissions))
        }
    approvals: dict[int, Approval] = {}
    if by_type[ClientStepType.DOCUMENT_APPROVAL]:
        approvals = {
            a.step_id: a
            for a in Approval.objects.filter(
                practice=practice, step__in=by_type[ClientStepType.DOCUMENT_APPROVAL]
            ).prefetch_related(Prefetch("versions", queryset=_versions().order_by("-number")))
        }
    confirmations: dict[int, Confirmation] = {}
    if by_type[ClientStepType.CLIENT_CONFIRMATION]:
        confirmations = {
            c.step_id: c
            for c in Confirmation.objects.filter(
                practice=practice, step__in=by_type[ClientStepType.CLIENT_CONFIRMATION]
            ).select_related("confirmed_by")
        }

    chases = chases_of_steps(practice, [s.pk for s in steps])
    request_rows = []
    for step in by_type[ClientStepType.DOCUMENT_REQUEST]:
        request = requests.get(step.pk)
        submissions = list(request.submissions.all()) if request else []
        for s in submissions:
            s.tone = SUBMISSION_TONE.get(s.status, "muted")
        request_rows.append(
            RequestRow(step, request, submissions, chases.get(step.pk, StepChases()))
        )
    approval_rows = []
    for step in by_type[ClientStepType.DOCUMENT_APPROVAL]:
        approval = approvals.get(step.pk)
        approval_rows.append(
            ApprovalRow(
                step,
                approval,
                _with_tones(list(approval.versions.all())) if approval else [],
                chases.get(step.pk, StepChases()),
            )
        )
    confirmation_rows = [
        ConfirmationRow(step, confirmations.get(step.pk), chases.get(step.pk, StepChases()))
        for step in by_type[ClientStepType.CLIENT_CONFIRMATION]
    ]
    return TaskDocuments(request_rows, approval_rows, confirmation_rows, files)
