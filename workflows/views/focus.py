"""The focus panel: a task's steps in a slide-out panel, worked through without leaving a list.

The panel is loaded by hx-get into the `#focus-panel` container of the task list, My steps and
the task page. Every action in it (done, checklist, skip, retry, review a submission, send a
document for approval, send from the composer) answers an htmx request with the re-rendered
panel, an out-of-band swap of the task row's progress (`#task-<id>-progress`) and an
`HX-Trigger: {"task-progress": {"task": <id>}}` header that other parts of the page (My steps,
the task page's workflow card) refresh on. Without htmx the same URLs redirect back (PRG).

The client-facing parts (submissions to review, documents to send for approval) come from the
portal's public reads and engine: the issue asks for them here, in the panel.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from portal import engine as portal_engine
from portal import files as portal_files
from portal import staff_queries as portal_queries
from portal.models import ApprovalVersion, Document, Submission
from sodium import queries as core_queries
from sodium.models import Task
from sodium.roles import Perm, role_can
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest
from workflows import engine, queries
from workflows.handlers import StepFailure
from workflows.models import Mode, Step, StepType

PANEL = "workflows/focus/panel.html"
PROGRESS = "workflows/focus/_progress.html"
# Manual steps whose email is reviewed and sent from the composer.
COMPOSABLE = (StepType.EMAIL, StepType.DOCUMENT_REQUEST, StepType.CLIENT_CONFIRMATION)
CATEGORIES = ["Accounts", "Tax", "Payroll", "VAT", "Engagement letter", "Other"]


def can_compose(step: Step) -> bool:
    """Return whether the step's email is sent by a person from the composer, now."""
    return step.type in COMPOSABLE and step.mode == Mode.MANUAL and step.status == Step.Status.READY


def task_changed_header(task: Task) -> str:
    return json.dumps({"task-progress": {"task": task.pk}})


# --- reading the panel -------------------------------------------------------------------------


def panel_context(request: HtmxHttpRequest, task: Task, **extra: Any) -> dict[str, Any]:
    """Return everything the panel shows, in a fixed number of queries whatever the steps."""
    practice = request.practice
    groups, steps = queries.focus_panel(practice, task)
    can_edit = role_can(request.membership.role, Perm.EDIT_TASKS)
    pending = _pending_submissions(practice, steps)
    versions = _approval_versions(practice, steps)
    for step in steps:
        step.composable = can_compose(step)
        step.can_send_approval = portal_queries.can_send_for_approval(step)
        step.pending_submissions = pending.get(step.pk, [])
        step.approval_versions = versions.get(step.pk, [])
    pick = []
    if can_edit and any(s.can_send_approval for s in steps):
        pick = list(
            portal_queries.documents_of_client(practice, task.client_id)[
                : portal_queries.PICK_LIMIT
            ]
        )
    return {
        "task": task,
        "groups": groups,
        "step_count": len(steps),
        "progress": queries.progress_of_steps(steps),
        "can_edit": can_edit,
        "pick_documents": pick,
        "categories": CATEGORIES,
        "accept": portal_files.ACCEPT,
        "next_url": reverse("workflows:focus", kwargs={"task_id": task.pk}),
        **extra,
    }


def _pending_submissions(practice, steps: list[Step]) -> dict[int, list[Submission]]:
    """Return the submissions waiting for review, per document-request step (two queries,
    only when a request has been answered)."""
    submitted = [
        s.pk
        for s in steps
        if s.type == StepType.DOCUMENT_REQUEST and s.sub_status == Step.SubStatus.SUBMITTED
    ]
    out: dict[int, list[Submission]] = defaultdict(list)
    if not submitted:
        return out
    files = Document.objects.filter(practice=practice).order_by("created_at", "id")
    for submission in (
        Submission.objects.filter(
            practice=practice, request__step_id__in=submitted, status=Submission.Status.PENDING
        )
        .select_related("request", "contact")
        .prefetch_related(Prefetch("documents", queryset=files))
        .order_by("submitted_at", "id")
    ):
        out[submission.request.step_id].append(submission)
    return out


def _approval_versions(practice, steps: list[Step]) -> dict[int, list[ApprovalVersion]]:
    """Return the versions sent for approval, newest first, per approval step (one query,
    only when an approval step has started)."""
    started = [
        s.pk
        for s in steps
        if s.type == StepType.DOCUMENT_APPROVAL and s.status != Step.Status.BLOCKED
    ]
    out: dict[int, list[ApprovalVersion]] = defaultdict(list)
    if not started:
        return out
    for version in (
        ApprovalVersion.objects.filter(practice=practice, approval__step_id__in=started)
        .select_related("approval", "document")
        .order_by("-number")
    ):
        version.tone = portal_queries.VERSION_TONE.get(version.status, "muted")
        out[version.approval.step_id].append(version)
    return out


def render_panel(
    request: HtmxHttpRequest, task: Task, *, changed: bool = True, **extra: Any
) -> HttpResponse:
    """Render the panel partial; after a change, add the row's progress (out of band) and the
    task-progress event."""
    context = panel_context(request, task, **extra)
    response = render(request, f"{PANEL}#focus-panel", context)
    if changed:
        oob = render_to_string(
            PROGRESS,
            {"task_id": task.pk, "progress": context["progress"], "oob": True},
            request=request,
        )
        response.content += oob.encode()
        response["HX-Trigger"] = task_changed_header(task)
    return response


def back(request: HtmxHttpRequest, task: Task) -> HttpResponse:
    """Redirect to the form's `next` (a page of this site), else to the task page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("sodium:task-detail", task_id=task.pk)


def respond(
    request: HtmxHttpRequest, task: Task, *, flash: str = "", error: str = ""
) -> HttpResponse:
    """Answer a step action: the re-rendered panel for htmx, else a redirect back (PRG)."""
    if request.htmx:
        return render_panel(request, task, changed=not error, flash=flash, error=error)
    if error:
        messages.error(request, error)
    elif flash:
        messages.success(request, flash)
    return back(request, task)


@require_GET
@vary_on_headers("HX-Request")
@role_required(Perm.VIEW_PRACTICE)
def focus(request: HtmxHttpRequest, task_id: int) -> HttpResponse:
    """Show a task's steps: the slide-out panel for htmx, a page of its own otherwise."""
    task = core_queries.get_task(request.practice, task_id)
    if request.htmx and not request.htmx.history_restore_request:
        return render_panel(request, task, changed=False)
    return render(request, PANEL, panel_context(request, task, as_page=True))


# --- actions -----------------------------------------------------------------------------------


@require_POST
@role_required(Perm.EDIT_TASKS)
def checklist_tick(request: HtmxHttpRequest, step_id: int) -> HttpResponse:
    """Tick (done=1) or untick a checklist item; htmx gets the step's fragment back."""
    step = queries.get_step(request.practice, step_id)
    try:
        item_id = int(request.POST.get("item", ""))
    except ValueError:
        raise Http404("No such checklist item.") from None
    item = queries.get_checklist_item(step, item_id)
    item = engine.set_checklist_item(item, actor=request.user, done=request.POST.get("done") == "1")
    if not request.htmx:
        return back(request, step.task)
    context = panel_context(request, step.task)
    context["step"] = next(s for g in context["groups"] for s in g.step_list if s.pk == step.pk)
    return render(request, f"{PANEL}#focus-step", context)


@require_POST
@role_required(Perm.EDIT_TASKS)
def submission_review(request: HtmxHttpRequest, step_id: int) -> HttpResponse:
    """Accept a pending submission of a document request, or return it with a reason."""
    step = queries.get_step(request.practice, step_id)
    try:
        submission_id = int(request.POST.get("submission", ""))
    except ValueError:
        raise Http404("No such submission.") from None
    submission = portal_queries.get_submission(request.practice, submission_id)
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


class ApprovalForm(forms.Form):
    """Upload a new file or pick one of the client's, with the title the client sees."""

    file = forms.FileField(required=False)
    document = forms.IntegerField(required=False)
    title = forms.CharField(
        max_length=200, error_messages={"required": "Give the document a title."}
    )
    category = forms.CharField(max_length=60, required=False)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("file") and data.get("document"):
            raise forms.ValidationError(
                "Upload a new file or pick one the client already has, not both."
            )
        if not data.get("file") and not data.get("document"):
            raise forms.ValidationError("Upload a file, or pick one the client already has.")
        return data


@require_POST
@role_required(Perm.EDIT_TASKS)
def approval_send(request: HtmxHttpRequest, step_id: int) -> HttpResponse:
    """Send a document (a new upload or one of the client's files) for the client's approval.

    The upload and the engine call share one transaction: a refused file or send leaves no
    row behind, and the stored bytes are removed.
    """
    step = queries.get_step(request.practice, step_id)
    if step.type != StepType.DOCUMENT_APPROVAL:
        raise Http404("This step does not send documents for approval.")
    form = ApprovalForm(request.POST, request.FILES)
    if not form.is_valid():
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        return _approval_refused(request, step, " ".join(errors))
    data = form.cleaned_data
    document = None
    if data["document"]:
        document = (
            portal_queries.documents_of_client(request.practice, step.task.client_id)
            .filter(pk=data["document"])
            .first()
        )
        if document is None:
            return _approval_refused(request, step, "Choose a document of this client.")
    stored = []
    try:
        with transaction.atomic():
            if data["file"]:
                document = portal_files.store(
                    data["file"],
                    practice_id=step.practice_id,
                    client_id=step.task.client_id,
                    user=request.user,
                    task=step.task,
                    title=data["title"],
                    category=data["category"],
                )
                stored.append(document)
            version = portal_engine.send_for_approval(
                step,
                actor=request.user,
                document=document,
                title=data["title"],
                category=data["category"],
            )
    except portal_files.UploadRejected as exc:
        error = str(exc)
    except (portal_engine.PortalError, StepFailure, engine.InvalidTransition) as exc:
        error = str(exc)
    else:
        flash = (
            f"Sent “{version.approval.title}” (version {version.number}) to the client for "
            "approval."
        )
        return respond(request, step.task, flash=flash)
    for d in stored:  # the rows rolled back; the bytes written to storage did not
        d.file.delete(save=False)
    return _approval_refused(request, step, error)


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
