"""The step composer: the core composer (sodium.messaging.composer) for a manual step.

For manual email, document-request and client-confirmation steps that are ready. The draft
is workflows.engine.draft_step_message (recipients resolved, Liquid rendered); what the user
sends is exactly what they edited, through engine.send_step_message. For the client-facing
types the body carries a placeholder that the client's own secure link replaces when it is
sent. Works inside the focus panel (htmx) and as a page of its own.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from sodium.messaging import composer as core
from sodium.messaging.composer import Message
from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest
from workflows import engine, queries
from workflows.handlers import LINK_PLACEHOLDER, Draft, StepFailure
from workflows.models import Mode, Step
from workflows.step_types import recipient_label
from workflows.views import focus

TEMPLATE = "workflows/composer.html"
LINK_HELP = (
    "where the client's link should go: it becomes their own secure link when you send "
    "(without it, the link is added at the end)."
)


def unavailable_reason(step: Step) -> str:
    """Return why this step's email is not written here ("" when it is)."""
    if not focus.is_composable_type(step.type):
        return f"“{step.name}” does not send an email from the composer."
    if step.mode != Mode.MANUAL:
        return f"“{step.name}” sends its email automatically."
    return ""


def _back_url(request: HtmxHttpRequest, step: Step) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("sodium:task-detail", kwargs={"task_id": step.task_id})


def _draft(step: Step) -> Message:
    d = engine.draft_step_message(step)
    return Message(
        to=d.to, cc=d.cc, subject=d.subject, body=d.body, missing=d.missing, problems=d.problems
    )


def step_composer(request: HtmxHttpRequest, step: Step) -> core.Composer:
    """Return the core composer for `step`: its draft, its send and where it goes after."""
    reason = unavailable_reason(step)
    if not reason and request.method == "GET" and step.status != Step.Status.READY:
        reason = f"“{step.name}” is {step.get_status_display().lower()}: there is nothing to send."

    def send(message: Message) -> str:
        draft = Draft(to=message.to, cc=message.cc, subject=message.subject, body=message.body)
        engine.send_step_message(step, draft, actor=request.user)
        return f"Sent “{step.name}” to {', '.join(draft.to)}."

    def done(flash: str) -> HttpResponse:
        if request.htmx:
            return focus.render_panel(request, step.task, flash=flash)
        messages.success(request, flash)
        return focus.back(request, step.task)

    return core.Composer(
        draft=lambda: _draft(step),
        send=send,
        done=done,
        action_url=reverse("workflows:compose", kwargs={"step_id": step.pk}),
        back_url=_back_url(request, step),
        template=TEMPLATE,
        unavailable=reason,
        missing_label=recipient_label,
        placeholder=LINK_PLACEHOLDER if step.is_client_facing else "",
        placeholder_help=LINK_HELP,
        refused=(StepFailure, engine.InvalidTransition),
        context={
            "step": step,
            "task": step.task,
            "back_hx": reverse("workflows:focus", kwargs={"task_id": step.task_id}),
        },
    )


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@role_required(Perm.EDIT_TASKS)
def compose(request: HtmxHttpRequest, step_id: int) -> HttpResponse:
    """Show the step's drafted email; Preview renders it, Send sends what was edited."""
    step = queries.get_step(request.practice, step_id)
    return core.compose(request, step_composer(request, step))
