"""The portal's part of the focus panel (registered with workflows.panels in PortalConfig.ready):
the submissions of a document request to review, the versions of a document sent for approval,
and the two actions on them — accept or return a submission, send a document (a new upload or
one of the client's files) for approval.

Both actions answer like every other action of the panel (workflows.views.focus.respond): for
htmx the re-rendered panel, the task row's progress out of band and the task-progress event;
otherwise a redirect back (PRG).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_POST

from portal import engine as portal_engine
from portal import files, staff_queries
from portal.models import ApprovalVersion, Document, Submission
from portal.staff_forms import CATEGORIES, SendForApprovalForm
from portal.step_types import ClientStepType
from sodium.models import Practice, Task
from sodium.roles import Perm, role_can
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest
from workflows import engine, queries
from workflows.models import Step
from workflows.views.focus import back, render_panel, respond

# The client-facing part of each step type in the panel is its declaration's focus_template
# (portal/step_types.py).


# --- reading the panel -------------------------------------------------------------------------


def focus_extension(request: HtmxHttpRequest, task: Task, steps: list[Step]) -> dict[str, Any]:
    """Give the panel's steps what the portal shows of them (`can_send_approval`,
    `pending_submissions`, `approval_versions`, `chases`) and return the files of the client
    the approval form offers to pick; a fixed number of queries whatever the steps."""
    practice = request.practice
    pending = _pending_submissions(practice, steps)
    versions = _approval_versions(practice, steps)
    # Two queries, only when a step has chased or may chase now.
    chases = staff_queries.chases_of_steps(
        practice,
        [
            s.pk
            for s in steps
            if s.chase_count
            or (s.status == Step.Status.IN_PROGRESS and ((s.settings or {}).get("chase") or {}))
        ],
    )
    for step in steps:
        step.chases = chases.get(step.pk)
        step.can_send_approval = staff_queries.can_send_for_approval(step)
        step.pending_submissions = pending.get(step.pk, [])
        step.approval_versions = versions.get(step.pk, [])
        step.approval_category = _category_to_start_with(step)
    pick = []
    if role_can(request.membership.role, Perm.EDIT_TASKS) and any(
        s.can_send_approval for s in steps
    ):
        pick = list(staff_queries.pickable_documents(practice, task)[: staff_queries.PICK_LIMIT])
    return {"pick_documents": pick, "categories": CATEGORIES, "accept": files.ACCEPT}


def _category_to_start_with(step: Step) -> str:
    # The category of the version sent last, else the one the step suggests (the wizard's).
    if step.approval_versions:
        return step.approval_versions[0].approval.category
    return (step.settings or {}).get("category", "")


def _pending_submissions(practice: Practice, steps: list[Step]) -> dict[int, list[Submission]]:
    """Return the submissions waiting for review, per document-request step (two queries,
    only when a request has been answered)."""
    submitted = [
        s.pk
        for s in steps
        if s.type == ClientStepType.DOCUMENT_REQUEST and s.sub_status == Step.SubStatus.SUBMITTED
    ]
    out: dict[int, list[Submission]] = defaultdict(list)
    if not submitted:
        return out
    documents = Document.objects.filter(practice=practice).order_by("created_at", "id")
    for submission in (
        Submission.objects.filter(
            practice=practice, request__step_id__in=submitted, status=Submission.Status.PENDING
        )
        .select_related("request", "contact")
        .prefetch_related(Prefetch("documents", queryset=documents))
        .order_by("submitted_at", "id")
    ):
        out[submission.request.step_id].append(submission)
    return out


def _approval_versions(practice: Practice, steps: list[Step]) -> dict[int, list[ApprovalVersion]]:
    """Return the versions sent for approval, newest first, per approval step (one query,
    only when an approval step has started)."""
    started = [
        s.pk
        for s in steps
        if s.type == ClientStepType.DOCUMENT_APPROVAL and s.status != Step.Status.BLOCKED
    ]
    out: dict[int, list[ApprovalVersion]] = defaultdict(list)
    if not started:
        return out
    for version in (
        ApprovalVersion.objects.filter(practice=practice, approval__step_id__in=started)
        .select_related("approval", "document")
        .order_by("-number")
    ):
        version.tone = staff_queries.VERSION_TONE.get(version.status, "muted")
        out[version.approval.step_id].append(version)
    return out


# --- actions -----------------------------------------------------------------------------------


@require_POST
@role_required(Perm.EDIT_TASKS)
def submission_review(request: HtmxHttpRequest, step_id: int) -> HttpResponse:
    """Accept a pending submission of a document request, or return it with a reason."""
    step = queries.get_step(request.practice, step_id)
    try:
        submission_id = int(request.POST.get("submission", ""))
    except ValueError:
        raise Http404("No such submission.") from None
    submission = staff_queries.get_submission(request.practice, submission_id)
    if submission.request.step_id != step.pk:
        raise Http404("No such submission.")
    decision = request.POST.get("decision")
    flash = error = ""
    try:
        if decision == "accept":
            portal_engine.accept_submission(submission, actor=request.user)
            flash = f"Accepted the documents for “{step.name}”."
        elif decision == "reject":
            portal_engine.reject_submission(
                submission, actor=request.user, reason=request.POST.get("reason", "")
            )
            flash = f"Returned the documents for “{step.name}”; the client was emailed."
        else:
            error = "Accept the documents or return them with a reason."
    except (portal_engine.PortalError, engine.InvalidTransition) as exc:
        error = str(exc)
    return respond(request, step.task, flash=flash, error=error)


@require_POST
@role_required(Perm.EDIT_TASKS)
def approval_send(request: HtmxHttpRequest, step_id: int) -> HttpResponse:
    """Send a document (a new upload or one of the client's files) for the client's approval,
    with the approval page's form and engine function (its short form: `panel=True`)."""
    step = queries.get_step(request.practice, step_id)
    if step.type != ClientStepType.DOCUMENT_APPROVAL:
        raise Http404("This step does not send documents for approval.")
    if request.POST.get("document"):
        # Another practice's, client's or task's file answers 404, like any id from outside.
        staff_queries.get_pickable_document(request.practice, step.task, request.POST["document"])
    documents = staff_queries.pickable_documents(request.practice, step.task)
    form = SendForApprovalForm(request.POST, request.FILES, documents=documents, panel=True)
    if not form.is_valid():
        return _approval_refused(request, step, form.error_text())
    data = form.cleaned_data
    try:
        version = portal_engine.send_document_for_approval(
            step,
            actor=request.user,
            upload=data["file"] or None,
            document=data["document"],
            title=data["title"],
            category=data["category"],
        )
    except (files.UploadRejected, portal_engine.PortalError) as exc:
        return _approval_refused(request, step, str(exc))
    flash = (
        f"Sent “{version.approval.title}” (version {version.number}) to the client for approval."
    )
    return respond(request, step.task, flash=flash)


def _approval_refused(request: HtmxHttpRequest, step: Step, error: str) -> HttpResponse:
    if request.htmx:
        return render_panel(
            request,
            step.task,
            changed=False,
            approval_error={"step": step.pk, "message": error},
            approval_values=request.POST,
        )
    messages.error(request, error)
    return back(request, step.task)
