"""The wizard's stage forms: one per screen, parsing what was typed into step fields."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.datastructures import MultiValueDict

from sodium import formfields
from sodium.formfields import NeededChar
from sodium.messaging.composer import validate_addresses
from sodium.models import Client, User
from workflows import step_types
from workflows.forms import TimingFields
from workflows.models import AssignmentRule, ContentBlock, Mode
from workflows.step_types import CONTACT_RECIPIENTS, MEMBER_RECIPIENTS
from workflows.wizard.drafts import WizardContext, saved_mode, spec, step_type


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _addresses(text: str) -> list[str]:
    found = [a.strip() for a in text.replace(";", ",").replace("\n", ",").split(",")]
    return [a for a in found if a]


class StageForm(forms.Form):
    """A stage's fields. Required fields use config_errors' own messages, so a problem the
    form finds and the same one found by config_errors show once."""

    def __init__(self, *args: Any, draft: dict, ctx: WizardContext, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.draft, self.ctx, self.step_type = draft, ctx, step_type(draft)
        self.type_spec = spec(draft)
        self.type_field_names: list[str] = []

    def type_fields(self) -> list[forms.BoundField]:
        """Return the step type's own fields on this stage, in order."""
        return [self[name] for name in self.type_field_names]

    def add_type_fields(self, extra: dict[str, forms.Field], *, before: str | None = None) -> None:
        """Add the step type's own fields (copies), before the field `before` if given."""
        if not extra:
            return
        fields = {}
        for name, f in self.fields.items():
            if name == before:
                fields.update({k: copy.deepcopy(v) for k, v in extra.items()})
            fields[name] = f
        if before is None:
            fields.update({k: copy.deepcopy(v) for k, v in extra.items()})
        self.fields = fields
        self.type_field_names = list(extra)


def type_choices() -> list[tuple[str, str]]:
    """Return (value, label) of every registered step type."""
    return [(t.value, t.label) for t in step_types.all_types()]


class TypeForm(StageForm):
    type = forms.ChoiceField(
        choices=type_choices,
        error_messages={"required": "Choose a step type.", "invalid_choice": "Choose a step type."},
    )


class NameForm(StageForm):
    name = forms.CharField(
        max_length=200,
        label="Step name",
        help_text="For example “Prepare draft accounts”.",
        error_messages={"required": "Give the step a name."},
    )
    description = forms.CharField(
        required=False,
        label="Notes for your team",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_type_fields(dict(self.type_spec.name_fields), before="description")


class ContentForm(StageForm):
    source = forms.ChoiceField(
        label="Where the email comes from",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose where the email comes from."},
    )
    content_block = formfields.ModelChoiceField(
        queryset=ContentBlock.objects.none(),
        required=False,
        label="Content block",
        empty_label="Choose a content block",
        error_messages={"invalid_choice": "Choose one of your content blocks."},
    )
    subject = NeededChar(max_length=300, label="Subject")
    body = NeededChar(label="Body", widget=forms.Textarea(attrs={"rows": 10}))
    preview_client = formfields.ModelChoiceField(
        queryset=Client.objects.none(),
        required=False,
        label="Preview for",
        empty_label="Sample client (example values)",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("block", "A content block"), ("inline", "Written here")]
        if self.type_spec.default_content:
            choices.append(("default", "The built-in email"))
        self.fields["source"].choices = choices
        self.fields["content_block"].queryset = self.ctx.content_blocks()
        self.fields["preview_client"].queryset = self.ctx.clients()
        # For the token picker: it inserts at the cursor of the field last focused.
        self.fields["subject"].widget.attrs["data-token-field"] = ""
        self.fields["body"].widget.attrs.update({"data-token-field": "", "data-token-default": ""})


class RecipientsForm(StageForm):
    to_recipients = forms.MultipleChoiceField(
        required=False,
        label="To",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose recipients from the list."},
    )
    to_emails = forms.CharField(
        required=False,
        label="Other addresses in To",
        help_text="Separate addresses with commas.",
    )
    cc_recipients = forms.MultipleChoiceField(
        required=False,
        label="CC",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose recipients from the list."},
    )
    cc_emails = forms.CharField(
        required=False,
        label="Other addresses in CC",
        help_text="Separate addresses with commas.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = recipient_options()
        self.fields["to_recipients"].choices = choices
        self.fields["cc_recipients"].choices = choices

    def _clean_emails(self, name: str) -> list[str]:
        return validate_addresses(_addresses(self.cleaned_data[name]))

    def clean_to_emails(self) -> list[str]:
        return self._clean_emails("to_emails")

    def clean_cc_emails(self) -> list[str]:
        return self._clean_emails("cc_emails")


def recipient_options() -> list[tuple[str, list[tuple[str, str]]]]:
    """Return the recipient tokens in two labelled groups, client contacts and your team."""
    return [
        ("Client contacts", [(f"contact:{k}", v) for k, v in CONTACT_RECIPIENTS.items()]),
        ("Your team", [(f"member:{k}", v) for k, v in MEMBER_RECIPIENTS.items()]),
    ]


class BehaviourForm(StageForm):
    mode = forms.ChoiceField(
        choices=Mode.choices,
        required=False,
        widget=forms.RadioSelect,
        label="How it runs",
        error_messages={"invalid_choice": "Choose automatic or manual."},
    )
    # Every type
    depends_on = forms.MultipleChoiceField(
        required=False,
        label="Runs after",
        widget=forms.CheckboxSelectMultiple,
        help_text="The step starts once these steps of the group are done or skipped.",
        error_messages={"invalid_choice": "Choose steps from this group."},
    )
    checklist = forms.CharField(
        required=False,
        label="Items to check off",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One item per line.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_type_fields(dict(self.type_spec.behaviour_fields), before="depends_on")
        self.fields["depends_on"].choices = [(str(s.pk), s.name) for s in self.ctx.group_steps]
        self.offers_mode = self.type_spec.may_run_automatically

    def clean_checklist(self) -> list[str]:
        items = _lines(self.cleaned_data["checklist"])
        if any(len(i) > 300 for i in items):
            raise ValidationError("Checklist items can be at most 300 characters.")
        return items


class AssignmentForm(StageForm, TimingFields):
    """Who does the step, and by when: the assignment rule, and the template editor's timing
    inputs (TimingFields). The send rule is offered to an automatic step that sends; it is
    always read, so one posted for any other step is refused (timing_errors) and shown."""

    assignment_rule = forms.ChoiceField(
        choices=AssignmentRule.choices,
        widget=forms.RadioSelect,
        label="Who does this step",
        initial=AssignmentRule.TASK_OWNER,
        error_messages={"required": "Choose who the step is assigned to."},
    )
    specific_assignee = formfields.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="Member",
        empty_label="Choose a member",
        error_messages={"invalid_choice": "Choose a member of your practice."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["specific_assignee"].queryset = self.ctx.members()
        sends = self.type_spec.sends_email and self.type_spec.may_run_automatically
        self.may_send_later = sends
        self.offers_send_rule = sends and saved_mode(self.draft) == Mode.AUTOMATIC

    @property
    def shows_send_rule(self) -> bool:
        """Whether the page shows the send rule: offered, or refused and to be changed."""
        refused = self.is_bound and bool(self["send_rule"].errors or self["send_days"].errors)
        return self.offers_send_rule or refused


ASSIGNMENT_HELP: dict[str, str] = {
    AssignmentRule.TASK_OWNER: "Whoever the task is assigned to.",
    AssignmentRule.SPECIFIC: "The same person on every task.",
    AssignmentRule.CLIENT_MANAGER: "The client's manager, from the client's page.",
    AssignmentRule.CLIENT_PARTNER: "The client's partner.",
    AssignmentRule.CLIENT_ASSOCIATE: "The client's associate.",
    AssignmentRule.SERVICE_MANAGER: "The manager of the client's service the task is for.",
    AssignmentRule.TASK_TEAM: "The task's team; anyone in it can pick it up.",
    AssignmentRule.UNASSIGNED: "Left for anyone to pick up.",
}

FORMS: dict[str, type[StageForm]] = {
    "type": TypeForm,
    "name": NameForm,
    "content": ContentForm,
    "recipients": RecipientsForm,
    "behaviour": BehaviourForm,
    "assignment": AssignmentForm,
}


def _initial(draft: dict, stage: str) -> dict[str, Any]:
    """Return the values a stage starts with before anything was typed into it."""
    if stage == "content":
        if spec(draft).default_content:
            return {"source": "default"}
        return {"source": "inline"}
    if stage == "behaviour":
        return {"mode": Mode.MANUAL}
    return {}


def raw_values(data: Any, form: forms.Form) -> dict[str, Any]:
    """Return the form's submitted values as plain JSON (lists for multiple choices)."""
    raw: dict[str, Any] = {}
    for name, f in form.fields.items():
        if isinstance(f, forms.MultipleChoiceField):
            values = data.getlist(name) if hasattr(data, "getlist") else data.get(name) or []
            raw[name] = [str(v) for v in values]
        elif name in data:
            raw[name] = str(data.get(name))
    return raw


def _as_data(raw: dict[str, Any]) -> MultiValueDict:
    return MultiValueDict({k: v if isinstance(v, list) else [v] for k, v in raw.items()})


def _unbound_values(form: forms.Form, initial: dict[str, Any]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for name, f in form.fields.items():
        value = initial.get(name, f.initial)
        if value is None or value is False:
            continue
        if isinstance(f, forms.MultipleChoiceField):
            raw[name] = [str(v) for v in value]
        elif value is True:
            raw[name] = "on"
        else:
            raw[name] = str(value)
    return raw


def saved_values(draft: dict, stage: str, ctx: WizardContext) -> dict[str, Any]:
    """Return the stage's values: what was saved, or its starting values."""
    if stage in draft["values"]:
        return draft["values"][stage]
    form = FORMS[stage](draft=draft, ctx=ctx)
    return _unbound_values(form, _initial(draft, stage))


def display_form(draft: dict, stage: str, ctx: WizardContext) -> StageForm:
    """Return the stage's form showing its saved values, without checking them."""
    form = FORMS[stage](initial=dict(saved_values(draft, stage, ctx)), draft=draft, ctx=ctx)
    if stage in draft["values"]:
        # A box left unticked is absent from the saved values; don't show its default.
        for name, f in form.fields.items():
            if name not in form.initial:
                form.initial[name] = (
                    []
                    if isinstance(f, forms.MultipleChoiceField)
                    else (False if isinstance(f, forms.BooleanField) else "")
                )
    return form


def bound_form(draft: dict, stage: str, ctx: WizardContext, data: Any = None) -> StageForm:
    """Return the stage's form bound to `data`, or to its saved values."""
    if data is None:
        data = _as_data(saved_values(draft, stage, ctx))
    return FORMS[stage](data, draft=draft, ctx=ctx)
