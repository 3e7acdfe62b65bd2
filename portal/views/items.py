"""What a client does with one item: upload to a request, approve a document, confirm.

Every GET only shows; every change is a POST with CSRF, and doing it twice changes nothing.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import access, files, queries
from portal import engine as portal_engine
from portal.files import ACCEPT, UploadRejected, max_bytes
from portal.models import ApprovalVersion, Confirmation, Document, DocumentRequest
from portal.step_types import ClientStepType
from portal.views.common import portal_login_required, render_portal
from sodium.models import Contact
from sodium.tenancy import practice_scope
from workflows.models import Step

CLIENT_FACING = (ClientStepType.DOCUMENT_REQUEST, ClientStepType.DOCUMENT_APPROVAL)


def _step_for(request: HttpRequest, step_id: int) -> Step:
    """Return a client-facing step of one of the signed-in person's clients, or 404."""
    user = request.portal_user
    return get_object_or_404(
        Step.objects.filter(
            practice=user.practice,
            task__client_id__in=user.client_ids,
            type__in=(*CLIENT_FACING, ClientStepType.CLIENT_CONFIRMATION),
            status__in=(Step.Status.IN_PROGRESS, Step.Status.DONE),
        ).select_related("task", "task__client"),
        pk=step_id,
    )


def _contact(request: HttpRequest, step: Step) -> Contact:
    """The signed-in person as a contact of this step's client: the one they are shown as."""
    return Contact.objects.get(pk=request.portal_user.contact_for(step.task.client_id))


@require_GET
@portal_login_required
def item(request: HttpRequest, step_id: int) -> HttpResponse:
    step = _step_for(request, step_id)
    if step.type == ClientStepType.DOCUMENT_REQUEST:
        return _request_page(request, step)
    if step.type == ClientStepType.DOCUMENT_APPROVAL:
        return _approval_page(request, step)
    confirmation = get_object_or_404(Confirmation, step=step)
    return render_portal(
        request,
        "portal/items/confirmation.html",
        {
            "step": step,
            "title": queries.portal_title(step),
            "confirmation": confirmation,
            "token": None,
        },
        practice=request.portal_user.practice,
    )


def _request_page(
    request: HttpRequest, step: Step, *, error: str = "", message: str = "", status: int = 200
) -> HttpResponse:
    doc_request = get_object_or_404(DocumentRequest, step=step)
    submissions = list(doc_request.submissions.prefetch_related("documents"))
    return render_portal(
        request,
        "portal/items/request.html",
        {
            "step": step,
            "doc_request": doc_request,
            "submissions": submissions,
            "error": error,
            "message": message,
            "accept": ACCEPT,
            "max_mb": max_bytes() // (1024 * 1024),
        },
        practice=request.portal_user.practice,
        status=status,
    )


def _approval_page(
    request: HttpRequest, step: Step, *, error: str = "", status: int = 200
) -> HttpResponse:
    versions = list(
        ApprovalVersion.objects.filter(approval__step=step)
        .select_related("document", "approval")
        .order_by("-number")
    )
    if not versions:
        raise Http404("Nothing has been sent for approval yet.")
    return render_portal(
        request,
        "portal/items/approval.html",
        {"step": step, "current": versions[0], "older": versions[1:], "error": error},
        practice=request.portal_user.practice,
        status=status,
    )


@require_POST
@portal_login_required
def submit(request: HttpRequest, step_id: int) -> HttpResponse:
    step = _step_for(request, step_id)
    doc_request = get_object_or_404(DocumentRequest, step=step)
    message = request.POST.get("message", "")
    try:
        portal_engine.submit(
            doc_request,
            contact=_contact(request, step),
            uploads=request.FILES.getlist("files"),
            message=message,
        )
    except (UploadRejected, portal_engine.PortalError) as exc:
        return _request_page(request, step, error=str(exc), message=message, status=400)
    return redirect("portal:item", step_id=step.pk)


@require_POST
@portal_login_required
def respond(request: HttpRequest, step_id: int) -> HttpResponse:
    step = _step_for(request, step_id)
    version_id = request.POST.get("version", "")
    version = get_object_or_404(
        ApprovalVersion, approval__step=step, pk=int(version_id) if version_id.isdigit() else 0
    )
    approve = request.POST.get("decision") == "approve"
    try:
        portal_engine.respond_to_approval(
            version,
            contact=_contact(request, step),
            approve=approve,
            comment=request.POST.get("comment", ""),
        )
    except portal_engine.PortalError as exc:
        return _approval_page(request, step, error=str(exc), status=400)
    return redirect("portal:item", step_id=step.pk)


@require_GET
@portal_login_required
def document(request: HttpRequest, document_id: int) -> FileResponse:
    """Serve one of the person's clients' documents, always as a download."""
    doc = get_object_or_404(
        Document.objects.filter(
            practice=request.portal_user.practice, client_id__in=request.portal_user.client_ids
        ),
        pk=document_id,
    )
    return files.download_response(doc)


# --- the confirmation page, opened straight from the email -----------------------------------


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the message and the button (and changes nothing: mail scanners open links);
    POST confirms and shows the thank-you; a second POST changes nothing."""
    found = access.find_token(token)
    if (
        found is None
        or found.step is None
        or found.step.type != ClientStepType.CLIENT_CONFIRMATION
        or found.contact.client.status != "active"  # as the sign-in link refuses them
    ):
        return render_portal(
            request,
            "portal/link_refused.html",
            practice=found.practice if found else None,
            status=404,
        )
    with practice_scope(found.practice):
        confirmation = (
            Confirmation.objects.filter(step_id=found.step_id)
            .select_related("step", "step__task", "step__task__client")
            .first()
        )
        if confirmation is None:
            raise Http404("Nothing to confirm.")
        context = {
            "step": confirmation.step,
            "title": queries.portal_title(confirmation.step),
            "confirmation": confirmation,
            "token": token,
            "contact": found.contact,
        }
        if request.method == "POST":
            try:
                portal_engine.confirm(confirmation, contact=found.contact)
            except portal_engine.PortalError as exc:
                context["error"] = str(exc)
                return render_portal(
                    request,
                    "portal/items/confirmation.html",
                    context,
                    practice=found.practice,
                    status=409,
                )
            return redirect("portal:confirm", token=token)
        return render_portal(
            request, "portal/items/confirmation.html", context, practice=found.practice
        )


@require_POST
@portal_login_required
def confirm_signed_in(request: HttpRequest, step_id: int) -> HttpResponse:
    """The same confirmation from the portal home (signed in), for people who browse there."""
    step = _step_for(request, step_id)
    confirmation = get_object_or_404(Confirmation, step=step)
    try:
        portal_engine.confirm(confirmation, contact=_contact(request, step))
    except portal_engine.PortalError:
        pass  # already finished: the page shows what happened
    return redirect("portal:item", step_id=step.pk)
