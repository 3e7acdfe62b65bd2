"""Correct a bounced address and resend, from a step on the task page or in the focus panel.

The form sits under the step's "Bounced · address — reason" line (`workflows/_step_bounce.html`).
With htmx the answer is the step's fragment again: the focus panel's step (`focus-step`), or the
task page's workflow card body (the card has no fragment per step), with the form's error or,
once sent, the new email's status. Without JavaScript it redirects back (PRG) with a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from sodium import bounces
from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest
from workflows import queries
from workflows.models import Step
from workflows.views import focus, task_panel


@require_POST
@role_required(Perm.VIEW_PRACTICE)
def step_resend(request: HtmxHttpRequest, step_id: int) -> HttpResponse:
    """Save the corrected address of a step's bounced email and send the email again to it.

    The step's assignee (or its team's members) or a manager; others get 403, another
    practice's step 404.
    """
    step, message = queries.get_bounced_step_for_user(
        request.practice, request.user, request.membership, step_id
    )
    typed = request.POST.get("email", "")[:300]
    flash = error = ""
    if message is None:
        error = "This step's email has not bounced, or it was sent again already."
    else:
        try:
            new = bounces.resend_bounced(message, new_address=typed, actor=request.user)
        except bounces.BounceError as exc:
            error = str(exc)
        else:
            flash = f"Saved {new.to[0]} and sent “{message.subject}” again."
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, flash)
        return focus.back(request, step.task)
    return _fragment(request, step, error=error, typed=typed if error else "", note=flash)


def _fragment(
    request: HtmxHttpRequest, step: Step, *, error: str, typed: str, note: str
) -> HttpResponse:
    if request.POST.get("from") == "card":
        context = task_panel._card_context(request, step.task)
        _annotate(context, step, error, typed, note)
        return render(request, f"{task_panel.CARD}#workflow-body", context)
    context = focus.panel_context(request, step.task)
    context["step"] = _annotate(context, step, error, typed, note)
    response = render(request, f"{focus.PANEL}#focus-step", context)
    if not error:  # the task page's workflow card (under the panel) shows the new email too
        response["HX-Trigger"] = focus.task_changed_header(step.task)
    return response


def _annotate(context: dict, step: Step, error: str, typed: str, note: str) -> Step:
    # The form's error and what was typed, or the note that it was sent, on the step shown.
    shown = next(s for g in context["groups"] for s in g.step_list if s.pk == step.pk)
    shown.bounce_error, shown.bounce_typed, shown.resent_note = error, typed, note
    return shown
