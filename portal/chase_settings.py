"""The chase settings every client-facing step type shares (portal/step_types.py declares them
on each type): wizard and editor fields, validation, the wizard's and editor's settings, and
the review line. Stored as `settings["chase"]` = {enabled, every_days, max_times, subject,
body}; portal.chasing reads it and workflows.timeline plans from it.
"""

from __future__ import annotations

from typing import Any

from django import forms

from sodium import liquid
from sodium.formfields import NeededInt
from sodium.messaging.variables import known_paths
from workflows.context import CHASE
from workflows.step_types import int_between

_WHOLE_NUMBER = {"invalid": "Enter a whole number."}
_TOKEN_FIELD = {"data-token-field": True, "autocomplete": "off"}

# What the client does that stops the chasing, per type ("until they …").
UNTIL = {
    "document_request": "upload",
    "document_approval": "answer",
    "client_confirmation": "confirm",
}


def chase_errors(data: dict, errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Add the problems of `data["chase"]` to `errors` (keys "chase.<field>"); return it."""
    chase = data.get("chase") or {}
    if not chase.get("enabled"):
        return errors
    if not int_between(chase.get("every_days"), 1, 90):
        errors["chase.every_days"] = ["Chase every 1 to 90 days."]
    if not int_between(chase.get("max_times"), 1, 20):
        errors["chase.max_times"] = ["Chase at most 1 to 20 times."]
    # Without content of its own, a chase uses the practice's built-in reminder.
    if bool(str(chase.get("subject") or "").strip()) != bool(str(chase.get("body") or "").strip()):
        errors["chase.body"] = ["Write both the chase subject and body, or neither."]
    chase_paths = known_paths(CHASE)
    for key in ("subject", "body"):
        problems = liquid.validate(str(chase.get(key) or ""), chase_paths)
        if problems:
            errors.setdefault(f"chase.{key}", []).extend(problems)
    return errors


def wizard_fields(until: str) -> dict[str, forms.Field]:
    """Return the wizard's behaviour-stage chase fields ("Chase the client until they …")."""
    return {
        "chase_enabled": forms.BooleanField(
            required=False, label=f"Chase the client until they {until}"
        ),
        "chase_every_days": NeededInt(
            label="Every (days)", initial=3, error_messages=_WHOLE_NUMBER
        ),
        "chase_max_times": NeededInt(
            label="At most (times)", initial=3, error_messages=_WHOLE_NUMBER
        ),
        "chase_subject": forms.CharField(
            max_length=300,
            required=False,
            label="Chase subject",
            widget=forms.TextInput(attrs={"data-token-field": ""}),
        ),
        "chase_body": forms.CharField(
            required=False,
            label="Chase body",
            widget=forms.Textarea(
                attrs={"rows": 5, "data-token-field": "", "data-token-default": ""}
            ),
            help_text="Leave both empty to send the practice's built-in reminder.",
        ),
    }


def edit_fields(until: str) -> dict[str, forms.Field]:
    """Return the template editor's chase fields."""
    return {
        "chase_enabled": forms.BooleanField(
            label=f"Chase the client until they {until}", required=False
        ),
        "chase_every_days": forms.IntegerField(label="Every (days)", required=False),
        "chase_max_times": forms.IntegerField(label="At most (times)", required=False),
        "chase_subject": forms.CharField(
            label="Chase subject",
            max_length=300,
            required=False,
            widget=forms.TextInput(attrs=_TOKEN_FIELD),
        ),
        "chase_body": forms.CharField(
            label="Chase body",
            required=False,
            widget=forms.Textarea(attrs={"rows": 5, "class": "mono", "data-token-field": True}),
            help_text="Leave both empty to use the practice's built-in reminder.",
        ),
    }


def _text(data: dict[str, Any], key: str) -> str:
    return (data.get(key) or "").strip()


def wizard_chase(behaviour: dict) -> dict[str, Any]:
    """Return `settings["chase"]` from the wizard's behaviour stage."""
    chase: dict[str, Any] = {
        "enabled": bool(behaviour.get("chase_enabled")),
        "every_days": behaviour.get("chase_every_days"),
        "max_times": behaviour.get("chase_max_times"),
    }
    if _text(behaviour, "chase_subject") or _text(behaviour, "chase_body"):
        chase["subject"] = _text(behaviour, "chase_subject")
        chase["body"] = _text(behaviour, "chase_body")
    return chase


def review_line(settings: dict, until: str) -> str:
    """Return the wizard's review sentence about chasing."""
    chase = settings.get("chase") or {}
    if not chase.get("enabled"):
        return "Does not chase the client."
    content = "its own chase email" if chase.get("subject") else "the built-in reminder"
    what = {"upload": "uploads", "answer": "answers", "confirm": "confirms"}.get(until, until)
    return (
        f"Chases every {chase.get('every_days')} days, at most {chase.get('max_times')} "
        f"times, with {content}; chasing stops when the client {what}."
    )


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def edit_initial(settings: dict) -> dict[str, Any]:
    """Return the template editor's initial chase values."""
    chase = settings.get("chase") or {}
    return {
        "chase_enabled": bool(chase.get("enabled")),
        "chase_every_days": chase.get("every_days"),
        "chase_max_times": chase.get("max_times"),
        "chase_subject": chase.get("subject", ""),
        "chase_body": chase.get("body", ""),
    }


def edit_chase(old: dict, data: dict) -> dict[str, Any]:
    """Return `settings["chase"]` from the template editor's form; keys the form does not
    show (e.g. a chase content block) are kept as they were."""
    chase = dict(old.get("chase") or {})
    chase["enabled"] = data["chase_enabled"]
    chase["every_days"] = _int_or_none(data["chase_every_days"])
    chase["max_times"] = _int_or_none(data["chase_max_times"])
    chase["subject"] = data["chase_subject"].strip()
    chase["body"] = data["chase_body"]
    return chase
