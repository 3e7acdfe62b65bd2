"""The portal's three client-facing step types, each declared once and registered on load.

Workflows knows nothing of these types: their label, description, automatic-or-manual rule,
settings and their validation, wizard fields and review lines, template-editor fields,
built-in email, Liquid variables, focus-panel part, sub-statuses and timer live here.
`PortalConfig.ready` calls `register_step_types()`. The stored values ("document_request" …)
are what the database holds; they never change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db import models
from django.utils import timezone

from portal import chase_settings as chase
from workflows import step_types
from workflows.context import CHASE
from workflows.models import Step
from workflows.step_types import StepTypeSpec, int_between


class ClientStepType(models.TextChoices):
    DOCUMENT_REQUEST = "document_request", "Document request"
    DOCUMENT_APPROVAL = "document_approval", "Document approval"
    CLIENT_CONFIRMATION = "client_confirmation", "Client confirmation"


CHASE_TIMER = "step.chase"
_WHOLE_NUMBER = {"invalid": "Enter a whole number."}
SS = Step.SubStatus


def _text(data: dict[str, Any], key: str) -> str:
    return (data.get(key) or "").strip()


def _quote(text: str) -> str:
    return f"‘{text}’"


def _need_text(errors: dict, data: dict, key: str, label: str) -> None:
    if not str(data.get(key) or "").strip():
        errors.setdefault(key, []).append(f"Give the {label}.")


# --- document request -------------------------------------------------------------------------


def _request_errors(data: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    _need_text(errors, data, "title", "request title")
    days = data.get("deadline_days")
    if days is not None and not int_between(days, 0, 365):
        errors["deadline_days"] = ["The deadline is a number of days from 0 to 365."]
    return chase.chase_errors(data, errors)


def _request_wizard_settings(name: dict, behaviour: dict) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "title": _text(name, "title"),
        "request_description": _text(name, "request_description"),
    }
    if behaviour.get("deadline_days") is not None:
        settings["deadline_days"] = behaviour["deadline_days"]
    if behaviour.get("chase_enabled"):  # stored only when on (confirmations always store it)
        settings["chase"] = chase.wizard_chase(behaviour)
    return settings


def _request_name_lines(settings: dict) -> list[str]:
    lines = [f"The client is asked for {_quote(settings.get('title', ''))}."]
    if settings.get("request_description"):
        lines.append(f"They read: {settings['request_description']}")
    return lines


def _request_behaviour_lines(settings: dict) -> list[str]:
    days = settings.get("deadline_days")
    if days is None:
        lines = ["No deadline for the client."]
    else:
        lines = [f"The client has {days} day{'s' if days != 1 else ''} to upload."]
    return [*lines, chase.review_line(settings, "upload")]


def _request_preview(settings: dict) -> dict[str, Any]:
    days = settings.get("deadline_days")
    deadline = timezone.localdate() + dt.timedelta(days=days) if isinstance(days, int) else None
    return {"step": {"deadline": f"{deadline.day} {deadline:%B %Y}" if deadline else ""}}


def _request_edit_initial(settings: dict) -> dict[str, Any]:
    return {
        "title": settings.get("title", ""),
        "request_description": settings.get("request_description", ""),
        "deadline_days": settings.get("deadline_days"),
        **chase.edit_initial(settings),
    }


def _request_edit_settings(old: dict, data: dict) -> dict[str, Any]:
    settings = dict(old)
    settings["title"] = data["title"].strip()
    settings["request_description"] = data["request_description"].strip()
    if data["deadline_days"] is None:
        settings.pop("deadline_days", None)
    else:
        settings["deadline_days"] = data["deadline_days"]
    if data["chase_enabled"] or "chase" in old:  # stored once chasing was ever on
        settings["chase"] = chase.edit_chase(old, data)
    return settings


DOCUMENT_REQUEST = StepTypeSpec(
    value=ClientStepType.DOCUMENT_REQUEST,
    label=ClientStepType.DOCUMENT_REQUEST.label,
    description="Asks the client for documents through the portal, then waits for their upload.",
    kind_phrase="a document request",
    icon="⇪",
    icon_template="portal/step_types/_icon_request.html",
    handler="portal.handlers.DocumentRequestHandler",
    may_run_automatically=True,
    client_facing=True,
    composable=True,
    compose_label="Request the documents",
    default_content="portal.request_opened",
    settings_errors=_request_errors,
    name_fields={
        "title": forms.CharField(
            max_length=200,
            label="Request title",
            help_text="What the client sees, e.g. “Bank statements for the year”.",
            error_messages={"required": "Give the request title."},
        ),
        "request_description": forms.CharField(
            required=False,
            label="What the client should send",
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text="Shown to the client with the request.",
        ),
    },
    behaviour_fields={
        "deadline_days": forms.IntegerField(
            required=False,
            label="Client's deadline, in days",
            help_text="Counted from when the request goes out. Leave empty for no deadline.",
            error_messages=_WHOLE_NUMBER,
            widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        ),
        **chase.wizard_fields("upload"),
    },
    field_stages={"settings.title": "name", "settings.request_description": "name"},
    wizard_settings=_request_wizard_settings,
    name_heading="Name and request",
    name_intro="What your team calls the step, and what the client is asked for.",
    manual_email="request email",
    behaviour_template="portal/step_types/_wizard_request.html",
    review_name_lines=_request_name_lines,
    review_behaviour_lines=_request_behaviour_lines,
    preview_values=_request_preview,
    edit_fields={
        "title": forms.CharField(label="Request title", max_length=200, required=False),
        "request_description": forms.CharField(
            label="What to upload",
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text="Shown to the client on the request page.",
        ),
        "deadline_days": forms.IntegerField(
            label="Deadline (days after the step runs)",
            required=False,
            min_value=0,
            max_value=365,
        ),
        **chase.edit_fields("upload"),
    },
    edit_initial=_request_edit_initial,
    edit_settings=_request_edit_settings,
    edit_template="portal/step_types/_edit_request.html",
    variables=("step.title", "step.deadline", "action_link"),
    behaviour_use=CHASE,  # the chase subject and body
    focus_template="portal/focus/_request.html",
    sub_statuses=(SS.AWAITING_RESPONSE, SS.SUBMITTED, SS.REJECTED, SS.ACCEPTED),
    waits_when_rejected=True,
    timers=(CHASE_TIMER,),
)


# --- document approval ------------------------------------------------------------------------


def _approval_errors(data: dict) -> dict[str, list[str]]:
    return chase.chase_errors(data, {})


def _approval_wizard_settings(name: dict, behaviour: dict) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if behaviour.get("chase_enabled"):
        settings["chase"] = chase.wizard_chase(behaviour)
    if _text(behaviour, "category"):
        settings["category"] = _text(behaviour, "category")
    return settings


def _approval_behaviour_lines(settings: dict) -> list[str]:
    lines = [f"Usual category: {settings['category']}."] if settings.get("category") else []
    return [*lines, chase.review_line(settings, "answer")]


def _approval_edit_initial(settings: dict) -> dict[str, Any]:
    return {"category": settings.get("category", ""), **chase.edit_initial(settings)}


def _approval_edit_settings(old: dict, data: dict) -> dict[str, Any]:
    settings = dict(old)
    if data["category"].strip():
        settings["category"] = data["category"].strip()
    else:
        settings.pop("category", None)
    if data["chase_enabled"] or "chase" in old:  # stored once chasing was ever on
        settings["chase"] = chase.edit_chase(old, data)
    return settings


def _approval_preview(settings: dict) -> dict[str, Any]:
    # Chosen when the step runs; say so rather than leave a gap.
    return {
        "document": {
            "title": "(the document you send)",
            "category": settings.get("category", ""),
        }
    }


def _approval_task_action(step: Step) -> tuple[str, str] | None:
    from django.urls import reverse

    from portal.staff_queries import can_send_for_approval  # it imports this module

    if not can_send_for_approval(step):
        return None
    label = "Send for approval" if step.status == Step.Status.READY else "Send a new version"
    return label, reverse("portal_staff:approval-send", args=[step.pk])


DOCUMENT_APPROVAL = StepTypeSpec(
    value=ClientStepType.DOCUMENT_APPROVAL,
    label=ClientStepType.DOCUMENT_APPROVAL.label,
    description="Sends a document to the client to approve or reject in the portal.",
    kind_phrase="a document approval",
    icon="✍",
    icon_template="portal/step_types/_icon_approval.html",
    handler="portal.handlers.ApprovalHandler",
    manual_reason="Document approval steps are always manual: someone picks the document.",
    client_facing=True,
    default_content="portal.approval_waiting",
    settings_errors=_approval_errors,
    behaviour_fields={
        "category": forms.CharField(
            max_length=60,
            required=False,
            label="Usual category",
            help_text="A hint for whoever sends the document, e.g. “Accounts”.",
        ),
        **chase.wizard_fields("answer"),
    },
    wizard_settings=_approval_wizard_settings,
    manual_note="<strong>Always manual.</strong> When the step is ready, the assignee uploads "
    "or picks the document, gives it a title and category, and sends it to the client. It "
    "can't go out by itself because the document is chosen at that moment.",
    behaviour_template="portal/step_types/_wizard_approval.html",
    manual_doing="the assignee picks the document and sends it (approval steps are always manual)",
    edit_manual="someone picks the document to send",
    review_behaviour_lines=_approval_behaviour_lines,
    preview_values=_approval_preview,
    edit_fields={
        "category": forms.CharField(label="Usual category", max_length=60, required=False),
        **chase.edit_fields("answer"),
    },
    edit_initial=_approval_edit_initial,
    edit_settings=_approval_edit_settings,
    edit_template="portal/step_types/_edit_approval.html",
    variables=("document.title", "document.category", "action_link"),
    behaviour_use=CHASE,  # the chase subject and body
    focus_template="portal/focus/_approval.html",
    sub_statuses=(SS.AWAITING_RESPONSE, SS.APPROVED, SS.REJECTED),
    task_action=_approval_task_action,
    timers=(CHASE_TIMER,),
)


# --- client confirmation ----------------------------------------------------------------------


def _confirmation_errors(data: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    _need_text(errors, data, "message", "message the client confirms")
    _need_text(errors, data, "button_text", "button text")
    _need_text(errors, data, "thank_you", "thank-you message")
    return chase.chase_errors(data, errors)


def _confirmation_wizard_settings(name: dict, behaviour: dict) -> dict[str, Any]:
    return {
        "message": _text(behaviour, "message"),
        "button_text": _text(behaviour, "button_text"),
        "thank_you": _text(behaviour, "thank_you"),
        "notify_assignee": bool(behaviour.get("notify_assignee")),
        "chase": chase.wizard_chase(behaviour),
    }


def _confirmation_behaviour_lines(settings: dict) -> list[str]:
    lines = [
        f"Asks the client: {_quote(settings['message'])} with the button "
        f"{_quote(settings['button_text'])}, then thanks them: "
        f"{_quote(settings['thank_you'])}"
    ]
    lines.append(chase.review_line(settings, "confirm"))
    if settings.get("notify_assignee"):
        lines.append("Tells the assignee when the client confirms.")
    return lines


def _confirmation_preview(settings: dict) -> dict[str, Any]:
    return {"confirmation": {"message": settings.get("message", "")}}


def _confirmation_edit_initial(settings: dict) -> dict[str, Any]:
    return {
        "message": settings.get("message", ""),
        "button_text": settings.get("button_text", ""),
        "thank_you": settings.get("thank_you", ""),
        "notify_assignee": bool(settings.get("notify_assignee")),
        **chase.edit_initial(settings),
    }


def _confirmation_edit_settings(old: dict, data: dict) -> dict[str, Any]:
    # Keys the form does not show (e.g. a chase content block) are kept as they were.
    settings = dict(old)
    settings["message"] = data["message"].strip()
    settings["button_text"] = data["button_text"].strip()
    settings["thank_you"] = data["thank_you"].strip()
    settings["notify_assignee"] = data["notify_assignee"]
    settings["chase"] = chase.edit_chase(old, data)
    return settings


CLIENT_CONFIRMATION = StepTypeSpec(
    value=ClientStepType.CLIENT_CONFIRMATION,
    label=ClientStepType.CLIENT_CONFIRMATION.label,
    description="Emails the client something to confirm, then waits for them to click the "
    "confirmation link.",
    kind_phrase="a client confirmation",
    icon="☑",
    icon_template="portal/step_types/_icon_confirmation.html",
    handler="portal.handlers.ConfirmationHandler",
    may_run_automatically=True,
    client_facing=True,
    composable=True,
    compose_label="Ask the client to confirm",
    default_content="portal.confirmation",
    settings_errors=_confirmation_errors,
    behaviour_fields={
        "message": forms.CharField(
            label="What the client confirms",
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text="Shown on the confirmation page, e.g. “Please confirm all accounting "
            "entries have been made.”",
            error_messages={"required": "Give the message the client confirms."},
        ),
        "button_text": forms.CharField(
            max_length=60,
            label="Button text",
            initial="Confirm",
            error_messages={"required": "Give the button text."},
        ),
        "thank_you": forms.CharField(
            label="Thank-you message",
            widget=forms.Textarea(attrs={"rows": 2}),
            initial="Thank you. We have your confirmation.",
            error_messages={"required": "Give the thank-you message."},
        ),
        "notify_assignee": forms.BooleanField(
            required=False, label="Tell the assignee when the client confirms", initial=True
        ),
        **chase.wizard_fields("confirm"),
    },
    wizard_settings=_confirmation_wizard_settings,
    behaviour_intro="How and when the step runs, what the client confirms, and how they are "
    "chased.",
    manual_email="confirmation email",
    behaviour_template="portal/step_types/_wizard_confirmation.html",
    review_behaviour_lines=_confirmation_behaviour_lines,
    preview_values=_confirmation_preview,
    edit_fields={
        "message": forms.CharField(
            label="What the client confirms",
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
        ),
        "button_text": forms.CharField(label="Button text", max_length=60, required=False),
        "thank_you": forms.CharField(
            label="Thank-you message", required=False, widget=forms.Textarea(attrs={"rows": 2})
        ),
        "notify_assignee": forms.BooleanField(
            label="Tell the assignee when the client confirms", required=False
        ),
        **chase.edit_fields("confirm"),
    },
    edit_initial=_confirmation_edit_initial,
    edit_settings=_confirmation_edit_settings,
    edit_template="portal/step_types/_edit_confirmation.html",
    variables=("confirmation.message", "action_link"),
    behaviour_use=CHASE,  # the chase subject and body
    focus_template="portal/focus/_confirmation.html",
    sub_statuses=(SS.AWAITING_RESPONSE, SS.CONFIRMED),
    timers=(CHASE_TIMER,),
)

SPECS = (DOCUMENT_REQUEST, DOCUMENT_APPROVAL, CLIENT_CONFIRMATION)


def register_step_types() -> None:
    """Register the portal's three step types with workflows (PortalConfig.ready)."""
    for spec in SPECS:
        step_types.register(spec)
