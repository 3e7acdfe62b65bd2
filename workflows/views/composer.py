"""The composer: review, edit, preview and send the email of a manual step.

For manual email, document-request and client-confirmation steps that are ready. The form is
pre-filled from workflows.engine.draft_step_message (recipients resolved, Liquid rendered);
what the user sends is exactly what they edited, through engine.send_step_message. For the
client-facing types the body carries a placeholder that the client's own secure link replaces
when it is sent. Works inside the focus panel (htmx) and as a page of its own.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from sodium import liquid
from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest
from workflows import engine, queries
from workflows.handlers import LINK_PLACEHOLDER, Draft, StepFailure
from workflows.models import Mode, Step
from workflows.step_types import recipient_label
from workflows.views import focus

TEMPLATE = "workflows/composer.html"
_SEPARATORS = re.compile(r"[,;\s]+")


def parse_addresses(value: str) -> list[str]:
    """Split comma-, semicolon- or space-separated addresses, keeping the first of repeats."""
    seen, out = set(), []
    for address in _SEPARATORS.split(value or ""):
        if address and address.lower() not in seen:
            seen.add(address.lower())
            out.append(address)
    return out


class AddressesField(forms.CharField):
    def clean(self, value: str) -> list[str]:
        value = super().clean(value)
        addresses = parse_addresses(value)
        bad = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValidationError("Not an email address: " + ", ".join(f"“{a}”" for a in bad) + ".")
        return addresses


class ComposerForm(forms.Form):
    to = AddressesField(
        label="To",
        help_text="Separate addresses with commas.",
        error_messages={"required": "Add at least one recipient."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    cc = AddressesField(
        label="CC", required=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    subject = forms.CharField(
        max_length=300, error_messages={"required": "Give the email a subject."}
    )
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12}),
        strip=False,
        error_messages={"required": "Write the email."},
    )

    def draft(self) -> Draft:
        data = self.cleaned_data
        return Draft(to=data["to"], cc=data["cc"], subject=data["subject"], body=data["body"])


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


def preview_of(step: Step, data: dict[str, Any]) -> dict[str, Any]:
    """Return what the email will look like from the form's (possibly invalid) data."""
    body = data.get("body", "")
    html = liquid.text_to_html(liquid.escape(body))
    placeholder = liquid.escape(LINK_PLACEHOLDER)
    if step.is_client_facing and placeholder in html:
        html = html.replace(placeholder, f"<mark>{placeholder}</mark>")
    document = liquid.preview_document(html)
    return {
        "to": parse_addresses(data.get("to", "")),
        "cc": parse_addresses(data.get("cc", "")),
        "subject": " ".join(data.get("subject", "").split()),
        "document": document,
        "has_placeholder": step.is_client_facing and LINK_PLACEHOLDER in body,
    }


def _render(request: HtmxHttpRequest, step: Step, **context: Any) -> HttpResponse:
    as_page = not request.htmx
    context = {
        "step": step,
        "task": step.task,
        "as_page": as_page,
        "back_url": _back_url(request, step),
        "link_placeholder": LINK_PLACEHOLDER,
        **context,
    }
    return render(request, TEMPLATE if as_page else f"{TEMPLATE}#composer", context)


def _draft_notes(step: Step) -> tuple[Draft, list[str]]:
    draft = engine.draft_step_message(step)
    return draft, [recipient_label(token) for token in draft.missing]


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@role_required(Perm.EDIT_TASKS)
def compose(request: HtmxHttpRequest, step_id: int) -> HttpResponse:
    """Show the step's drafted email; Preview renders it, Send sends what was edited."""
    step = queries.get_step(request.practice, step_id)
    reason = unavailable_reason(step)
    if not reason and request.method == "GET" and step.status != Step.Status.READY:
        reason = f"“{step.name}” is {step.get_status_display().lower()}: there is nothing to send."
    if reason:
        return _render(request, step, unavailable=reason)

    if request.method == "GET":
        draft, missing = _draft_notes(step)
        form = ComposerForm(
            initial={
                "to": ", ".join(draft.to),
                "cc": ", ".join(draft.cc),
                "subject": draft.subject,
                "body": draft.body,
            }
        )
        return _render(request, step, form=form, missing=missing, problems=draft.problems)

    form = ComposerForm(request.POST)
    if request.POST.get("action") == "preview":
        preview = preview_of(step, request.POST)
        if request.htmx:
            return render(request, f"{TEMPLATE}#composer-preview", {"preview": preview})
        form.is_valid()
        return _render(request, step, form=form, preview=preview)

    if form.is_valid():
        draft = form.draft()
        try:
            engine.send_step_message(step, draft, actor=request.user)
        except (StepFailure, engine.InvalidTransition) as exc:
            form.add_error(None, str(exc))
        else:
            flash = f"Sent “{step.name}” to {', '.join(draft.to)}."
            if request.htmx:
                return focus.render_panel(request, step.task, flash=flash)
            messages.success(request, flash)
            return focus.back(request, step.task)
    _draft, missing = _draft_notes(step)
    return _render(request, step, form=form, missing=missing)
