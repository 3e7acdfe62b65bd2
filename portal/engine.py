"""Every change of a portal item's state: requests, submissions, approvals, confirmations.

Each item's status moves through its Machine (portal.models), never by assignment.

Client responses arrive here from portal views (POST only); each one runs in a transaction
that locks the item, checks the move, records it, and tells the workflow engine — which alone
changes the step's status. Doing the same thing twice changes nothing the second time.
The emails and notices around these moves are portal.notices; storing uploads, portal.files.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from portal import chasing, files, notices
from portal.errors import PortalError
from portal.models import (
    CONFIRMATION_MACHINE,
    REQUEST_MACHINE,
    SUBMISSION_MACHINE,
    VERSION_MACHINE,
    Approval,
    ApprovalVersion,
    Confirmation,
    Document,
    DocumentRequest,
    Submission,
)
from sodium import activity
from sodium.models import Contact, User
from workflows import engine as wf_engine
from workflows.context import client_title
from workflows.handlers import Draft, StepFailure
from workflows.models import Step

SS = Step.SubStatus


# --- document requests -------------------------------------------------------------------------


def open_request(step: Step) -> DocumentRequest:
    """Open (or re-open) the document request of a step that is being run.

    Submissions still pending from an earlier run are closed, so nobody reviews stale ones.
    Runs inside the engine's transaction that sends the step; the step's own event ("Emailed
    …") tells the story, so the request's and submissions' moves record none of their own.
    """
    _close_unreviewed(step, reason="Replaced: the request was sent again.")
    settings = step.settings or {}
    request, created = DocumentRequest.objects.update_or_create(
        step=step,
        defaults={
            "practice_id": step.practice_id,
            "client_id": step.task.client_id,
            "title": client_title(step),
            "description": settings.get("request_description", ""),
            "deadline": step.deadline,
        },
    )
    if not created and request.status != DocumentRequest.Status.OPEN:
        request = REQUEST_MACHINE.transition(
            request, to=DocumentRequest.Status.OPEN, actor=None, record=False
        )
    return request


def _close_unreviewed(step: Step, *, reason: str) -> int:
    """Reject the step's submissions nobody reviewed, one transition each (a request has a
    handful at most); return how many. Their request's or step's event tells the story."""
    pending = Submission.objects.select_for_update().filter(
        request__step=step, status=Submission.Status.PENDING
    )
    closed = 0
    for submission in pending:
        submission.rejection_reason, submission.reviewed_at = reason, timezone.now()
        SUBMISSION_MACHINE.transition(
            submission,
            to=Submission.Status.REJECTED,
            actor=None,
            locked=True,
            fields=["rejection_reason", "reviewed_at"],
            record=False,
        )
        closed += 1
    return closed


def close_request(step: Step) -> DocumentRequest | None:
    """Close the document request of a step that was skipped: the client is no longer asked.

    Submissions nobody reviewed are closed with it (restoring the step and sending it again
    opens the request afresh). Runs inside the engine's skip transaction.
    """
    request = DocumentRequest.objects.select_for_update().filter(step=step).first()
    if request is None or DocumentRequest.Status.CLOSED not in REQUEST_MACHINE.allowed(
        request.status
    ):
        return request  # accepted or already closed: nothing to withdraw
    old_status = request.status
    unreviewed = _close_unreviewed(step, reason="The step was skipped.")
    # The close is told by the established `request.closed` event below (the timeline and
    # its tests key on that verb), which also counts the submissions closed with it.
    request = REQUEST_MACHINE.transition(
        request, to=DocumentRequest.Status.CLOSED, actor=None, locked=True, record=False
    )
    summary = f"“{request.title}” closed: the client is no longer asked for it"
    if unreviewed:
        summary += f" ({unreviewed} submission{'s' if unreviewed > 1 else ''} closed unreviewed)"
    activity.record(
        practice=step.practice_id,
        actor=None,
        actor_label="System",
        verb="request.closed",
        task=step.task,
        obj=request,
        old_status=old_status,
        new_status=request.status,
        summary=summary,
    )
    return request


@transaction.atomic
def submit(
    request: DocumentRequest, *, contact: Contact, uploads: Sequence[UploadedFile], message: str
) -> Submission:
    """Store the client's files and message and hand them to staff for review.

    Raises PortalError when the request is not open or nothing was given, and
    files.UploadRejected for a refused file (nothing is stored then).
    """
    request = (
        DocumentRequest.objects.select_for_update(of=("self",))
        .select_related(
            "step", "step__task", "step__task__practice", "step__task__client", "step__assignee"
        )
        .get(pk=request.pk)
    )
    REQUEST_MACHINE.check(request, DocumentRequest.Status.SUBMITTED)  # before storing any file
    if not uploads:
        raise PortalError("Choose at least one file to upload.")
    if len(uploads) > 20:
        raise PortalError("Upload at most 20 files at a time.")
    step = request.step
    documents = files.store_all(
        uploads,
        practice_id=request.practice_id,
        client_id=request.client_id,
        contact=contact,
        task=step.task,
        category="Client upload",
    )
    submission = Submission.objects.create(
        practice_id=request.practice_id,
        request=request,
        contact=contact,
        message=message.strip()[:5000],
    )
    submission.documents.set(documents)
    # The step's sub-status event below ("… submitted n file(s)") tells it.
    REQUEST_MACHINE.transition(
        request, to=DocumentRequest.Status.SUBMITTED, actor=None, locked=True, record=False
    )
    chasing.stop(step)  # the client answered; a returned submission starts a new round
    wf_engine.set_sub_status(
        step,
        sub_status=SS.SUBMITTED,
        actor=None,
        note=f"{contact.full_name} submitted {len(documents)} file(s)",
    )
    notices.tell_assignee(
        step,
        f"{contact.full_name} submitted documents for “{step.name}” ({step.task.client.name})",
        key=f"submission:{submission.pk}:notify",
    )
    return submission


@transaction.atomic
def accept_submission(submission: Submission, *, actor: User) -> Submission:
    """Accept a submission: the step is done and its dependents go ahead."""
    submission = (
        Submission.objects.select_for_update(of=("self",))
        .select_related("request", "request__step")
        .get(pk=submission.pk)
    )
    # The step's own event ("… Done · Submission accepted") tells both moves.
    submission.reviewed_by, submission.reviewed_at = actor, timezone.now()
    SUBMISSION_MACHINE.transition(
        submission,
        to=Submission.Status.ACCEPTED,
        actor=actor,
        locked=True,
        fields=["reviewed_by", "reviewed_at"],
        record=False,
    )
    request = REQUEST_MACHINE.transition(
        submission.request, to=DocumentRequest.Status.ACCEPTED, actor=actor, record=False
    )
    wf_engine.finish_client_step(
        request.step, actor=actor, sub_status=SS.ACCEPTED, note="Submission accepted"
    )
    return submission


@transaction.atomic
def reject_submission(submission: Submission, *, actor: User, reason: str) -> Submission:
    """Return a submission with a reason: the request re-opens and the client is emailed."""
    reason = reason.strip()
    if not reason:
        raise PortalError("Say what is missing, so the client knows what to send.")
    submission = (
        Submission.objects.select_for_update(of=("self",))
        .select_related(
            "request",
            "request__step",
            "request__step__task",
            "request__step__task__practice",
            "request__step__task__client",
            "contact",
        )
        .get(pk=submission.pk)
    )
    # The step's sub-status event ("Submission returned: …") tells both moves.
    submission.reviewed_by, submission.reviewed_at = actor, timezone.now()
    submission.rejection_reason = reason[:5000]
    SUBMISSION_MACHINE.transition(
        submission,
        to=Submission.Status.REJECTED,
        actor=actor,
        locked=True,
        fields=["reviewed_by", "reviewed_at", "rejection_reason"],
        record=False,
    )
    request = submission.request
    if request.status != DocumentRequest.Status.OPEN:  # it is, for a submission made there
        request = REQUEST_MACHINE.transition(
            request, to=DocumentRequest.Status.OPEN, actor=actor, record=False
        )
    step = wf_engine.set_sub_status(
        request.step,
        sub_status=SS.REJECTED,
        actor=actor,
        note=f"Submission returned: {reason[:120]}",
    )
    chasing.start(step)  # the client is asked again: chase them again
    if submission.contact and submission.contact.email:
        notices.email_contact(
            step,
            submission.contact,
            f"submission:{submission.pk}:rejected",
            "portal.submission_rejected",
            {"reason": reason},
        )
    return submission


# --- document approvals ------------------------------------------------------------------------


def send_document_for_approval(
    step: Step,
    *,
    actor: User,
    title: str,
    category: str = "",
    upload: UploadedFile | None = None,
    document: Document | None = None,
    note: str = "",
) -> ApprovalVersion:
    """Send a new upload, or a copy of a document picked from the task's files and the
    client's uploads, for approval (the approval page and the focus panel both send through
    here).

    The upload (or the picked file's copy) is checked and stored like any upload
    (files.atomic_with_upload) in the transaction that creates the version, so a refused file
    or a refused send leaves no row; the bytes already written to storage are removed then
    too. Raises files.UploadRejected for a refused file, PortalError for a refused send (the
    message is for people).
    """
    if (upload is None) == (document is None):
        raise PortalError("Upload a file, or pick one the client already has.")
    if document is not None:
        if (document.practice_id, document.client_id) != (step.practice_id, step.task.client_id):
            raise PortalError("Choose a document of this client.")
        upload = files.copy_as_upload(document)
    try:
        with files.atomic_with_upload(
            upload,
            practice_id=step.practice_id,
            client_id=step.task.client_id,
            user=actor,
            task=step.task,
            title=title,
            category=category,
        ) as stored:
            return send_for_approval(
                step,
                actor=actor,
                document=stored,
                title=title,
                category=category,
                note=note,
            )
    except (StepFailure, wf_engine.InvalidTransition) as exc:
        raise PortalError(str(exc)) from None


@transaction.atomic
def send_for_approval(
    step: Step,
    *,
    actor: User,
    document: Document,
    title: str,
    category: str = "",
    note: str = "",
    draft: Draft | None = None,
) -> ApprovalVersion:
    """Send a document (new, or a new version after a rejection) to the client for approval.

    Raises PortalError when the step cannot take a document now, or the document belongs to
    another client.
    """
    step = wf_engine.lock_step(step)  # held still while its approval rows change
    if step.type != "document_approval":
        raise PortalError("This step does not send documents for approval.")
    if document.client_id != step.task.client_id:
        raise PortalError("Choose a document of this client.")
    title = title.strip() or document.title
    approval = Approval.objects.filter(step=step).first()
    if step.status == Step.Status.READY:
        first = True
    elif step.status == Step.Status.IN_PROGRESS and approval is not None:
        latest = approval.versions.order_by("-number").first()
        if latest and latest.status == ApprovalVersion.Status.PENDING:
            raise PortalError("The client has not answered the current version yet.")
        first = False
    else:
        raise PortalError(f"“{step.name}” is {step.get_status_display().lower()}.")
    if approval is None:
        approval = Approval.objects.create(
            practice_id=step.practice_id,
            step=step,
            client_id=step.task.client_id,
            title=title,
            category=category,
        )
    else:
        approval.title, approval.category = title, category
        approval.save(update_fields=["title", "category"])
        # At most one version is pending; the step's event ("Sent version n …") tells it.
        for pending in approval.versions.select_for_update().filter(
            status=ApprovalVersion.Status.PENDING
        ):
            VERSION_MACHINE.transition(
                pending,
                to=ApprovalVersion.Status.SUPERSEDED,
                actor=actor,
                locked=True,
                record=False,
            )
    number = (
        approval.versions.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    version = ApprovalVersion.objects.create(
        practice_id=step.practice_id,
        approval=approval,
        number=number,
        document=document,
        note=note,
        sent_by=actor,
    )
    if document.uploaded_by_contact_id is None:  # a client's own upload keeps its labels
        Document.objects.filter(pk=document.pk).update(title=title, category=category)
    notices.email_approval(step, approval, version, draft)
    chasing.start(step)  # each version is chased until the client answers it
    if first:
        wf_engine.mark_in_progress(
            step, actor=actor, sub_status=SS.AWAITING_RESPONSE, note=f"Sent {title} for approval"
        )
    else:
        wf_engine.set_sub_status(
            step,
            sub_status=SS.AWAITING_RESPONSE,
            actor=actor,
            note=f"Sent version {number} of {title}",
        )
    return version


@transaction.atomic
def respond_to_approval(
    version: ApprovalVersion, *, contact: Contact, approve: bool, comment: str = ""
) -> ApprovalVersion:
    """Record the client's approval or rejection of the current version.

    Approve: the step is done. Reject (a comment is required): the step stays open showing the
    feedback. Answering a version that was already answered changes nothing.
    """
    version = (
        ApprovalVersion.objects.select_for_update(of=("self",))
        .select_related(
            "approval",
            "approval__step",
            "approval__step__task",
            "approval__step__task__practice",
            "approval__step__task__client",
            "approval__step__assignee",
        )
        .get(pk=version.pk)
    )
    if not VERSION_MACHINE.allowed(version.status):
        return version  # already answered: the second click changes nothing
    comment = comment.strip()[:5000]
    if not approve and not comment:
        raise PortalError("Tell us what should change, so we can fix it.")
    step = version.approval.step
    title = version.approval.title
    chasing.stop(step)  # answered: no more chases for this version
    version.responded_by, version.responded_at, version.comment = contact, timezone.now(), comment
    # The client's answer is the version's own event (verb portal.approval), as before.
    VERSION_MACHINE.transition(
        version,
        to=ApprovalVersion.Status.APPROVED if approve else ApprovalVersion.Status.REJECTED,
        actor=None,
        actor_label=contact.full_name,
        locked=True,
        fields=["responded_by", "responded_at", "comment"],
        summary=f"{'Approved' if approve else 'Rejected'} {title} (version {version.number})",
    )
    if approve:
        wf_engine.finish_client_step(
            step, actor=None, sub_status=SS.APPROVED, note=f"{contact.full_name} approved {title}"
        )
        notices.tell_assignee(
            step,
            f"{contact.full_name} approved {title} ({step.task.client.name})",
            key=f"approval:{version.pk}:notify",
        )
    else:
        wf_engine.set_sub_status(
            step,
            sub_status=SS.REJECTED,
            actor=None,
            note=f"{contact.full_name} rejected {title}: {comment[:120]}",
        )
        notices.tell_assignee(
            step,
            f"{contact.full_name} rejected {title}: {comment[:150]}",
            key=f"approval:{version.pk}:notify",
        )
    return version


# --- confirmations -----------------------------------------------------------------------------


def open_confirmation(step: Step) -> Confirmation:
    settings = step.settings or {}
    confirmation, _ = Confirmation.objects.update_or_create(
        step=step,
        defaults={
            "practice_id": step.practice_id,
            "client_id": step.task.client_id,
            "message": settings.get("message", ""),
            "button_text": settings.get("button_text") or "Confirm",
            "thank_you": settings.get("thank_you") or "Thank you.",
        },
    )
    return confirmation


@transaction.atomic
def confirm(confirmation: Confirmation, *, contact: Contact) -> bool:
    """Record the client's confirmation; return False when it was already confirmed."""
    confirmation = (
        Confirmation.objects.select_for_update(of=("self",))
        .select_related(
            "step", "step__task", "step__task__practice", "step__task__client", "step__assignee"
        )
        .get(pk=confirmation.pk)
    )
    if not CONFIRMATION_MACHINE.allowed(confirmation.status):
        return False  # already confirmed: the second click changes nothing
    step = confirmation.step
    if step.status != Step.Status.IN_PROGRESS:
        raise PortalError("This confirmation is no longer needed.")
    confirmation.confirmed_at, confirmation.confirmed_by = timezone.now(), contact
    # The step's own event ("… Done · <contact> confirmed") tells it.
    CONFIRMATION_MACHINE.transition(
        confirmation,
        to=Confirmation.Status.CONFIRMED,
        actor=None,
        locked=True,
        fields=["confirmed_at", "confirmed_by"],
        record=False,
    )
    wf_engine.finish_client_step(
        step, actor=None, sub_status=SS.CONFIRMED, note=f"{contact.full_name} confirmed"
    )
    if (step.settings or {}).get("notify_assignee"):
        notices.tell_assignee(
            step,
            f"{contact.full_name} confirmed “{step.name}” ({step.task.client.name})",
            key=f"confirmation:{confirmation.pk}",
        )
    return True
