"""The five step types: what settings each takes and how a configuration is validated."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from sodium import liquid
from workflows.context import CONTACT_ROLES, KNOWN_PATHS
from workflows.models import AUTOMATIC_TYPES, Mode, StepType

MEMBER_RECIPIENTS = {
    "task_owner": "Task owner",
    "client_manager": "Client manager",
    "client_partner": "Client partner",
    "client_associate": "Client associate",
    "service_manager": "Service manager",
    "assignee": "Step assignee",
}
CONTACT_RECIPIENTS = {role: f"{role.capitalize()} contact" for role in CONTACT_ROLES}
CONTACT_RECIPIENTS["director"] = "Directors"

_TOKEN = re.compile(r"^(contact|member|email):(.+)$")


def recipient_choices() -> list[tuple[str, str]]:
    """Return (token, label) for every contact role and team role a step can send to."""
    return [(f"contact:{k}", v) for k, v in CONTACT_RECIPIENTS.items()] + [
        (f"member:{k}", v) for k, v in MEMBER_RECIPIENTS.items()
    ]


def recipient_label(token: str) -> str:
    kind, _, value = token.partition(":")
    if kind == "contact":
        return CONTACT_RECIPIENTS.get(value, token)
    if kind == "member":
        return MEMBER_RECIPIENTS.get(value, token)
    return value


def recipient_errors(tokens: Any) -> list[str]:
    if not isinstance(tokens, list):
        return ["Recipients must be a list."]
    problems = []
    for token in tokens:
        match = _TOKEN.match(str(token))
        if not match:
            problems.append(f"“{token}” is not a recipient.")
            continue
        kind, value = match.groups()
        if kind == "contact" and value not in CONTACT_RECIPIENTS:
            problems.append(f"There is no contact role “{value}”.")
        elif kind == "member" and value not in MEMBER_RECIPIENTS:
            problems.append(f"There is no team role “{value}”.")
        elif kind == "email":
            try:
                validate_email(value)
            except ValidationError:
                problems.append(f"“{value}” is not an email address.")
    return problems


def _int_between(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def settings_errors(step_type: str, data: dict) -> dict[str, list[str]]:
    """Return field → problems for a step type's `settings`."""
    errors: dict[str, list[str]] = {}

    def need_text(key: str, label: str) -> None:
        if not str(data.get(key) or "").strip():
            errors.setdefault(key, []).append(f"Give the {label}.")

    if step_type == StepType.DOCUMENT_REQUEST:
        need_text("title", "request title")
        days = data.get("deadline_days")
        if days is not None and not _int_between(days, 0, 365):
            errors["deadline_days"] = ["The deadline is a number of days from 0 to 365."]
    elif step_type == StepType.CLIENT_CONFIRMATION:
        need_text("message", "message the client confirms")
        need_text("button_text", "button text")
        need_text("thank_you", "thank-you message")
        chase = data.get("chase") or {}
        if chase.get("enabled"):
            if not _int_between(chase.get("every_days"), 1, 90):
                errors["chase.every_days"] = ["Chase every 1 to 90 days."]
            if not _int_between(chase.get("max_times"), 1, 20):
                errors["chase.max_times"] = ["Chase at most 1 to 20 times."]
            # Without content of its own, a chase uses the practice's built-in reminder.
            if bool(str(chase.get("subject") or "").strip()) != bool(
                str(chase.get("body") or "").strip()
            ):
                errors["chase.body"] = ["Write both the chase subject and body, or neither."]
            for key in ("subject", "body"):
                problems = liquid.validate(str(chase.get(key) or ""), KNOWN_PATHS)
                if problems:
                    errors.setdefault(f"chase.{key}", []).extend(problems)
    return errors


def config_errors(config) -> dict[str, list[str]]:
    """Return field → problems for a step configuration (template step or task step)."""
    errors: dict[str, list[str]] = {}
    if config.type not in StepType.values:
        return {"type": ["Choose a step type."]}
    if config.mode == Mode.AUTOMATIC and config.type not in AUTOMATIC_TYPES:
        if config.type == StepType.DOCUMENT_APPROVAL:
            errors["mode"] = [
                "Document approval steps are always manual: someone picks the document."
            ]
        else:
            errors["mode"] = ["Simple steps are done by a person, so they are manual."]
    if not str(config.name or "").strip():
        errors["name"] = ["Give the step a name."]
    if config.sends_email:
        inline = config.subject.strip() and config.body.strip()
        # Client-facing types fall back to the practice's built-in email for their type.
        needs_content = config.type == StepType.EMAIL
        if needs_content and not config.content_block_id and not inline:
            errors["body"] = ["Choose a content block or write the subject and body."]
        elif bool(config.subject.strip()) != bool(config.body.strip()):
            errors["body"] = ["Write both the subject and the body, or neither."]
        for field in ("subject", "body"):
            problems = liquid.validate(getattr(config, field) or "", KNOWN_PATHS)
            if problems:
                errors.setdefault(field, []).extend(problems)
        to_problems = recipient_errors(config.to_recipients)
        if not config.to_recipients:
            to_problems.append("Choose at least one recipient.")
        if to_problems:
            errors["to_recipients"] = to_problems
        cc_problems = recipient_errors(config.cc_recipients)
        if cc_problems:
            errors["cc_recipients"] = cc_problems
    for key, problems in settings_errors(config.type, config.settings or {}).items():
        errors.setdefault(f"settings.{key}", []).extend(problems)
    return errors


def content_block_errors(subject: str, body: str) -> dict[str, list[str]]:
    """Return field → problems for a content block's Liquid."""
    errors = {}
    for field, source in (("subject", subject), ("body", body)):
        problems = liquid.validate(source, KNOWN_PATHS)
        if problems:
            errors[field] = problems
    return errors
