"""Forms for the template editor and the content block library.

Forms only parse and shape input; `workflows.building` decides what is allowed and raises
TemplateError, whose field errors `add_building_errors` puts back next to the right inputs.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from django import forms

from sodium import formfields
from workflows import step_types
from workflows.building import TemplateError
from workflows.models import (
    AssignmentRule,
    ContentBlock,
    DueRule,
    Mode,
    SendRule,
    StepType,
    TemplateStep,
)
from workflows.step_types import recipient_choices

# Fields the token picker inserts into (see static/js/sodium.js).
_TOKEN_FIELD = {"data-token-field": True, "autocomplete": "off"}
_TOKEN_DEFAULT = {"data-token-field": True, "data-token-default": True}


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Shown in the list."
    )

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()


class GroupForm(forms.Form):
    name = forms.CharField(max_length=200, label="Group name")

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()


_EMAIL_SPLIT = re.compile(r"[\s,;]+")


def _email_tokens(text: str) -> list[str]:
    return [f"email:{part}" for part in _EMAIL_SPLIT.split(text.strip()) if part]


def _conditional(field: forms.Field) -> forms.Field:
    # Its rule has a "none"/"now" choice (and the days follow the rule): no "optional" beside it.
    field.conditional = True
    return field


def _rule_field(label: str, choices: list, initial: str, invalid: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        required=False,
        initial=initial,
        error_messages={"invalid_choice": invalid},
    )


def _days_field(label: str, most: int, unit: str) -> forms.IntegerField:
    message = f"Give a number of {unit} from 0 to {most}."
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=most,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": message, "min_value": message, "max_value": message},
    )


class TimingFields(forms.Form):
    """A step's due rule and send rule (workflows.timing): the template editor's and the step
    wizard's inputs, one definition (shown by templates/workflows/_timing_fields.html).
    timing_errors checks what they give; its messages are the fields' own, so a problem found
    by either shows once."""

    due_rule = _conditional(
        _rule_field("Due", DueRule.choices, DueRule.NONE, "Choose when the step is due.")
    )
    due_days = _conditional(_days_field("Working days", 250, "working days"))
    send_rule = _conditional(
        _rule_field("Goes out", SendRule.choices, SendRule.NOW, "Choose when the step goes out.")
    )
    send_days = _conditional(_days_field("Days", 365, "days"))


def timing_values(cleaned: dict[str, Any]) -> dict[str, Any]:
    """Return the step fields of TimingFields' cleaned values (a rule left out: none, now)."""
    return {
        "due_rule": cleaned.get("due_rule") or DueRule.NONE,
        "due_days": cleaned.get("due_days") or 0,
        "send_rule": cleaned.get("send_rule") or SendRule.NOW,
        "send_days": cleaned.get("send_days") or 0,
    }


class StepForm(TimingFields):
    """Edit one template step: everything but its type (chosen in the wizard).

    Its timing inputs are TimingFields'."""

    CONTENT_BLOCK = "block"
    CONTENT_INLINE = "inline"
    CONTENT_DEFAULT = "default"

    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    mode = forms.ChoiceField(choices=Mode.choices, widget=forms.RadioSelect)
    # Content (steps that send email)
    content_source = forms.ChoiceField(label="Content", widget=forms.RadioSelect)
    content_block = forms.TypedChoiceField(
        label="Content block", required=False, coerce=int, empty_value=None
    )
    subject = forms.CharField(
        max_length=300, required=False, widget=forms.TextInput(attrs=_TOKEN_FIELD)
    )
    body = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 9, "class": "mono", **_TOKEN_DEFAULT}),
    )
    # Recipients
    to_recipients = forms.MultipleChoiceField(
        label="To", required=False, widget=forms.CheckboxSelectMultiple
    )
    to_extra = forms.CharField(
        label="Other addresses (To)",
        required=False,
        help_text="Email addresses, separated by commas.",
    )
    cc_recipients = forms.MultipleChoiceField(
        label="CC", required=False, widget=forms.CheckboxSelectMultiple
    )
    cc_extra = forms.CharField(
        label="Other addresses (CC)",
        required=False,
        help_text="Email addresses, separated by commas.",
    )
    # Assignment
    assignment_rule = forms.ChoiceField(label="Assigned to", choices=AssignmentRule.choices)
    specific_assignee = forms.TypedChoiceField(
        label="Member", required=False, coerce=int, empty_value=None
    )
    # Structure
    depends_on = forms.TypedMultipleChoiceField(
        label="Starts after", required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    checklist = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One item per line.",
    )

    def __init__(
        self,
        *args,
        step: TemplateStep,
        siblings: Iterable[TemplateStep],
        members: Iterable,
        blocks: Iterable[ContentBlock],
        checklist: Iterable[str],
        depends_on: Iterable[int],
        **kwargs,
    ) -> None:
        self.step = step
        self.type_spec = step_types.get(step.type)
        members, blocks = list(members), list(blocks)
        self.members = {m.pk: m for m in members}
        self.blocks = {b.pk: b for b in blocks}
        kwargs.setdefault("prefix", f"s{step.pk}")
        kwargs.setdefault("initial", self._initial(step, checklist, depends_on))
        super().__init__(*args, **kwargs)
        # The type's own inputs (its declaration's edit_fields), before the structure ones.
        fields = {}
        for name, f in self.fields.items():
            if name == "depends_on":
                fields.update({k: copy.deepcopy(v) for k, v in self.type_spec.edit_fields.items()})
            fields[name] = f
        self.fields = fields
        self.siblings = {s.pk: s for s in siblings if s.pk != step.pk}
        self.fields["depends_on"].choices = [(pk, s.name) for pk, s in self.siblings.items()]
        self.fields["specific_assignee"].choices = [("", "Choose a member")] + [
            (m.pk, m.full_name or m.email) for m in members
        ]
        own = [(b.pk, b.name) for b in blocks if not b.system_key]
        builtin = [(b.pk, b.name) for b in blocks if b.system_key]
        self.fields["content_block"].choices = [("", "Choose a content block")] + [
            (label, group) for label, group in (("Yours", own), ("Built-in", builtin)) if group
        ]
        choices = recipient_choices()
        self.fields["to_recipients"].choices = choices
        self.fields["cc_recipients"].choices = choices
        sources = [
            (self.CONTENT_BLOCK, "Use a content block"),
            (self.CONTENT_INLINE, "Write it here"),
        ]
        if self.type_spec.default_content:
            sources.append((self.CONTENT_DEFAULT, "The practice's built-in email for this type"))
        self.fields["content_source"].choices = sources
        if not self.type_spec.may_run_automatically:
            del self.fields["mode"]
        if not (self.type_spec.may_run_automatically and self.type_spec.sends_email):
            del self.fields["send_rule"], self.fields["send_days"]
        if not self.type_spec.sends_email:
            for name in self.EMAIL_FIELDS:
                del self.fields[name]

    # Which inputs a step type has; the template shows the same sections.
    EMAIL_FIELDS = (
        "content_source",
        "content_block",
        "subject",
        "body",
        "to_recipients",
        "to_extra",
        "cc_recipients",
        "cc_extra",
    )

    @classmethod
    def _initial(
        cls, step: TemplateStep, checklist: Iterable[str], depends_on: Iterable[int]
    ) -> dict[str, Any]:
        settings = step.settings or {}
        known = {token for token, _label in recipient_choices()}
        if step.content_block_id:
            source = cls.CONTENT_BLOCK
        elif step.subject.strip() or step.body.strip() or not step.type_spec.default_content:
            source = cls.CONTENT_INLINE
        else:
            source = cls.CONTENT_DEFAULT
        return {
            "name": step.name,
            "description": step.description,
            "mode": step.mode,
            "content_source": source,
            "content_block": step.content_block_id,
            "subject": step.subject,
            "body": step.body,
            "to_recipients": [t for t in step.to_recipients if t in known],
            "to_extra": ", ".join(
                t.partition(":")[2] for t in step.to_recipients if t.startswith("email:")
            ),
            "cc_recipients": [t for t in step.cc_recipients if t in known],
            "cc_extra": ", ".join(
                t.partition(":")[2] for t in step.cc_recipients if t.startswith("email:")
            ),
            "assignment_rule": step.assignment_rule,
            "specific_assignee": step.specific_assignee_id,
            "due_rule": step.due_rule,
            "due_days": step.due_days,
            "send_rule": step.send_rule,
            "send_days": step.send_days,
            **step.type_spec.edit_initial(settings),
            "depends_on": list(depends_on),
            "checklist": "\n".join(checklist),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("content_source") == self.CONTENT_BLOCK and not data.get("content_block"):
            self.add_error("content_block", "Choose a content block.")
        return data

    # --- what the building functions receive -------------------------------------------------

    def step_fields(self) -> dict[str, Any]:
        """Return the keyword arguments for building.update_step."""
        data = self.cleaned_data
        fields: dict[str, Any] = {
            "name": data["name"].strip(),
            "description": data["description"].strip(),
            "mode": data.get("mode", Mode.MANUAL),
            "assignment_rule": data["assignment_rule"],
            "specific_assignee": (
                self.members.get(data.get("specific_assignee"))
                if data["assignment_rule"] == AssignmentRule.SPECIFIC
                else None
            ),
            "settings": self._settings(),
            **timing_values(data),
        }
        if "content_source" in self.fields:
            source = data["content_source"]
            fields["content_block"] = (
                self.blocks.get(data.get("content_block")) if source == self.CONTENT_BLOCK else None
            )
            inline = source == self.CONTENT_INLINE
            fields["subject"] = data["subject"].strip() if inline else ""
            fields["body"] = data["body"] if inline else ""
            fields["to_recipients"] = self._recipients("to")
            fields["cc_recipients"] = self._recipients("cc")
        else:
            fields.update(content_block=None, subject="", body="")
            fields.update(to_recipients=[], cc_recipients=[])
        return fields

    def _recipients(self, kind: str) -> list[str]:
        picked = set(self.cleaned_data[f"{kind}_recipients"])
        ordered = [token for token, _label in recipient_choices() if token in picked]
        return ordered + _email_tokens(self.cleaned_data[f"{kind}_extra"])

    def _settings(self) -> dict[str, Any]:
        # The type words its settings; keys the form does not show are kept as they were.
        return self.type_spec.edit_settings(dict(self.step.settings or {}), self.cleaned_data)

    def checklist_items(self) -> list[str]:
        return self.cleaned_data["checklist"].splitlines()

    def dependencies(self) -> list[TemplateStep]:
        return [self.siblings[pk] for pk in self.cleaned_data["depends_on"] if pk in self.siblings]

    def add_building_errors(self, exc: TemplateError) -> None:
        add_building_errors(self, exc)


def add_building_errors(form: forms.Form, exc: TemplateError) -> None:
    """Attach a TemplateError's field errors to the form fields they concern."""
    if not exc.errors:
        form.add_error(None, str(exc))
        return
    for key, problems in exc.errors.items():
        name = key.removeprefix("settings.").replace(".", "_")
        if name not in form.fields:
            name = None
        for problem in problems:
            if name is None:
                form.add_error(None, problem)
            else:
                form.add_error(name, problem)


# --- Per-task customisation (a task's own copy; the template is untouched) ---------------------


class ReassignStepForm(forms.Form):
    assignee = formfields.ModelChoiceField(queryset=None, required=False, empty_label="Nobody")
    team = formfields.ModelChoiceField(queryset=None, required=False, empty_label="No team")

    def __init__(self, *args, practice, **kwargs) -> None:
        from sodium import queries as core_queries
        from sodium.models import Team

        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = core_queries.members_of(practice)
        self.fields["team"].queryset = Team.objects.filter(practice=practice)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("assignee") and cleaned.get("team"):
            raise forms.ValidationError("Choose a person or a team, not both.")
        return cleaned


def _recipient_field(label: str, required: bool) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        required=required,
        choices=recipient_choices(),
        widget=forms.CheckboxSelectMultiple,
    )


class TaskStepContentForm(forms.Form):
    """Edit an open step's wording and recipients for this task only."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    subject = forms.CharField(
        max_length=300, required=False, widget=forms.TextInput(attrs=_TOKEN_FIELD)
    )
    body = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 10, **_TOKEN_DEFAULT})
    )
    to_recipients = _recipient_field("To", required=False)
    cc_recipients = _recipient_field("CC", required=False)
    extra_to = forms.CharField(
        required=False, label="Other addresses in To", help_text="Comma-separated email addresses."
    )

    def __init__(self, *args, sends_email: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not sends_email:
            for name in ("subject", "body", "to_recipients", "cc_recipients", "extra_to"):
                del self.fields[name]

    def engine_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if "to_recipients" in data:
            to = list(data.pop("to_recipients")) + _email_tokens(data.pop("extra_to", ""))
            data["to_recipients"] = to
            data["cc_recipients"] = list(data.pop("cc_recipients"))
        return data


class OneOffStepForm(forms.Form):
    """Add a step to one task: a simple step, or an email written here."""

    group = formfields.ModelChoiceField(queryset=None, empty_label=None)
    name = forms.CharField(max_length=200)
    type = forms.ChoiceField(
        choices=[(StepType.SIMPLE, "Simple step"), (StepType.EMAIL, "Send email")]
    )
    mode = forms.ChoiceField(
        choices=Mode.choices, initial=Mode.MANUAL, help_text="Only emails can run automatically."
    )
    subject = forms.CharField(max_length=300, required=False)
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}))
    to_recipients = _recipient_field("To", required=False)
    depends_on = formfields.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Starts after",
        help_text="Steps of the chosen group it waits for.",
    )
    assignee = formfields.ModelChoiceField(queryset=None, required=False, empty_label="Nobody")

    def __init__(self, *args, task, **kwargs) -> None:
        from sodium import queries as core_queries
        from workflows.models import Step, StepGroup

        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = StepGroup.objects.filter(
            practice_id=task.practice_id, task=task
        )
        self.fields["depends_on"].queryset = Step.objects.filter(
            practice_id=task.practice_id, task=task
        ).order_by("group__position", "position")
        self.fields["assignee"].queryset = core_queries.members_of(task.practice)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("type") == StepType.SIMPLE:
            cleaned["mode"] = Mode.MANUAL
        group = cleaned.get("group")
        if group and any(d.group_id != group.pk for d in cleaned.get("depends_on") or []):
            self.add_error("depends_on", "Choose steps from the same group.")
        return cleaned
