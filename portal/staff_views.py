"""Staff views of the portal's items: download files, review submissions, send documents for
approval, and the task page's "Documents & client responses" panel."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import engine, files, staff_queries
from portal.staff_forms import SendForApprovalForm
from sodium.models import Task
from sodium.roles import Perm, role_can
from sodium.tenancy import role_required
from workflows import engine as wf_engine


def task_documents_panel(request: HttpRequest, task: Task) -> tuple[str, dict[str, Any]] | None:
    """The "Documents & client responses" card on the task page (registered with
    sodium.panels); nothing for tasks without client-facing steps or files."""
    data = staff_queries.task_documents(request.practice, task)
    if data is None:
        return None
    return (
        "portal/staff/_task_documents.html",
        {
            "task": task,
            "docs": data,
            "can_edit": role_can(request.membership.role, Perm.EDIT_TASKS),
        },
    )


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def document_download(request: HttpRequest, document_id: int) -> FileResponse:
    """Serve a document as an attachment under its original name, never inline."""
    return files.download_response(staff_queries.get_document(request.practice, document_id))


@require_POST
@role_required(Perm.EDIT_TASKS)
def submission_accept(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = staff_queries.get_submission(request.practice, submission_id)
    step = submission.request.step
    try:
        engine.accept_submission(submission, actor=request.user)
    except (engine.PortalError, wf_engine.InvalidTransition) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Accepted the documents for “{step.name}”.")
    return redirect("sodium:task-detail", task_id=step.task_id)


@require_POST
@role_required(Perm.EDIT_TASKS)
def submission_reject(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = staff_queries.get_submission(request.practice, submission_id)
    step = submission.request.step
    try:
        submission = engine.reject_submission(
            submission, actor=request.user, reason=request.POST.get("reason", "")
        )
    except (engine.PortalError, wf_engine.InvalidTransition) as exc:
        messages.error(request, str(exc))
    else:
        contact = submission.contact
        if contact and contact.email:  # the engine emails only the contact who submitted
            told = f"we emailed {contact.full_name} the reason."
        else:
            told = "the client has no email address, so tell them another way."
        messages.success(request, f"Returned the documents for “{step.name}”; {told}")
    return redirect("sodium:task-detail", task_id=step.task_id)


@require_http_methods(["GET", "POST"])
@role_required(Perm.EDIT_TASKS)
def approval_send(request: HttpRequest, step_id: int) -> HttpResponse:
    """Send a document for approval: a new upload, or a copy of a file picked from the task's
    files and the client's uploads, searched with ?q= (engine.send_document_for_approval
    stores the file and creates the version)."""
    practice = request.practice
    step = staff_queries.get_approval_step(practice, step_id)
    state = staff_queries.approval_state(practice, step)
    search = request.GET.get("q", "").strip()[:100]
    documents = staff_queries.pickable_documents(practice, step.task, search)
    if request.method == "POST" and request.POST.get("document"):
        # Another practice's, client's or task's file answers 404, like any id from outside.
        staff_queries.get_pickable_document(practice, step.task, request.POST["document"])
    # The first version starts from the category the step suggests (set in the wizard).
    initial = {"category": (step.settings or {}).get("category", "")}
    if state.approval is not None:
        initial = {"title": state.approval.title, "category": state.approval.category}
    form = SendForApprovalForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        documents=staff_queries.pickable_documents(practice, step.task),
        initial=initial,
    )
    # When it cannot be sent now, the page says why instead of showing the form.
    if request.method == "POST" and state.can_send and form.is_valid():
        data = form.cleaned_data
        try:
            version = engine.send_document_for_approval(
                step,
                actor=request.user,
                upload=data["file"] or None,
                document=data["document"],
                title=data["title"],
                category=data["category"],
            )
        except files.UploadRejected as exc:
            form.add_error("file", str(exc))
        except engine.PortalError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Sent “{version.approval.title}” (version {version.number}) to the client "
                "for approval.",
            )
            return redirect("sodium:task-detail", task_id=step.task_id)
    return render(
        request,
        "portal/staff/approval_send.html",
        {
            "step": step,
            "task": step.task,
            "state": state,
            "form": form,
            "documents": documents[: staff_queries.PICK_LIMIT],
            "search": search,
            "accept": files.ACCEPT,
        },
    )
