"""The builder's forms: a workflow's general settings, and one action's fields by kind.

They parse input only: which choices exist (the practice's workflows, blocks, statuses,
members), numbers and required fields. What may be saved is `rules.action_errors`'s call,
reached through `editing`.
"""

from __future__ import annotations

from typing import Any

from django import forms

from collections_ar.builder.rules import FIELDS
from collections_ar.models import ARAction, ARWorkflow, CollectionStatus
from collections_ar.models.workflows import MAX_DAYS
from sodium.models import ContentBlock, User
from sodium.sms.forms import sms_textarea

K = ARAction.Kind
_TOKEN = {"data-token-field": "", "autocomplete": "off"}


class WorkflowForm(forms.Form):
    """Create a workflow: its name and description."""

    name = forms.CharField(max_length=120, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    description = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class GeneralSettingsForm(WorkflowForm):
    """The builder's General settings: name, description, and the workflow to continue with."""

    continue_with = forms.TypedChoiceField(
        label="Continue with another workflow",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="When the last action has run, the customer moves on to this workflow.",
    )

    def __init__(self, *args, workflow: ARWorkflow, others: list[ARWorkflow], **kwargs) -> None:
        kwargs.setdefault(
            "initial",
            {
                "name": workflow.name,
                "description": workflow.description,
                "continue_with": workflow.continue_with_id,
            },
        )
        super().__init__(*args, **kwargs)
        self.others = {w.pk: w for w in others}
        self.fields["continue_with"].choices = [("", "No — stop after the last action")] + [
            (w.pk, f"{w.name} ({w.get_state_display()})") for w in others
        ]

    def target(self) -> ARWorkflow | None:
        return self.others.get(self.cleaned_data.get("continue_with"))


class ActionForm(forms.Form):
    """One action of one kind: its timing and its own fields."""

    base = forms.ChoiceField(label="Timing", choices=ARAction.Base.choices)
    days = forms.IntegerField(
        label="Days",
        min_value=0,
        max_value=MAX_DAYS,
        initial=0,
        widget=forms.NumberInput(attrs={"class": "input-narrow"}),
    )
    content_block = forms.TypedChoiceField(
        label="Template from the content library",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="Or leave this empty and write it below.",
    )
    subject = forms.CharField(max_length=300, required=False, widget=forms.TextInput(attrs=_TOKEN))
    body = forms.CharField(
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 8, "class": "mono", **_TOKEN}),
    )
    collection_status = forms.TypedChoiceField(
        label="Set the collection status to", required=False, coerce=int, empty_value=None
    )
    user = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)

    BODY_LABELS = {
        K.NOTE: "Note",
        K.CALL: "What to say on the call",
        K.EMAIL: "Email",
        K.SMS: "Text",
        K.NOTIFY: "Message",
    }

    def __init__(
        self,
        *args,
        kind: str,
        blocks: list[ContentBlock],
        statuses: list[CollectionStatus],
        members: list[User],
        action: ARAction | None = None,
        **kwargs,
    ) -> None:
        if action is not None:
            kwargs.setdefault(
                "initial",
                {
                    "base": action.base,
                    "days": action.days,
                    "content_block": action.content_block_id,
                    "subject": action.subject,
                    "body": action.body,
                    "collection_status": action.collection_status_id,
                    "user": action.user_id,
                },
            )
        super().__init__(*args, **kwargs)
        self.kind = kind
        own = set(FIELDS[kind])
        for name in ("content_block", "subject", "body", "collection_status", "user"):
            if name not in own:
                del self.fields[name]
        channel = ContentBlock.Channel.SMS if kind == K.SMS else ContentBlock.Channel.EMAIL
        self.blocks = {b.pk: b for b in blocks if b.channel == channel}
        self.statuses = {s.pk: s for s in statuses}
        self.members = {m.pk: m for m in members}
        if "content_block" in self.fields:
            self.fields["content_block"].choices = [("", "None: write it here")] + [
                (b.pk, b.name) for b in self.blocks.values()
            ]
        if "body" in self.fields:
            self.fields["body"].label = self.BODY_LABELS[kind]
            if kind == K.SMS:
                self.fields["body"].widget = sms_textarea(rows=4)
            elif kind != K.EMAIL:
                self.fields["body"].widget.attrs["rows"] = 4
            if kind in (K.EMAIL, K.SMS):
                # Required unless a content block is chosen: shown without "optional".
                self.fields["body"].conditional = True
        if "subject" in self.fields:
            self.fields["subject"].conditional = True
        if "collection_status" in self.fields:
            self.fields["collection_status"].choices = [("", "Choose a status")] + [
                (s.pk, s.name) for s in statuses
            ]
        if "user" in self.fields:
            field = self.fields["user"]
            people = [(m.pk, m.full_name or m.email) for m in members]
            if kind == K.NOTIFY:
                field.label = "Notify"
                field.choices = [("", "The customer's AR specialist")] + people
            else:
                field.label = "New AR specialist"
                field.choices = [("", "Choose a member")] + people

    def action_fields(self) -> dict[str, Any]:
        """Return the fields for `editing.add_action` / `update_action`."""
        data = self.cleaned_data
        return {
            "kind": self.kind,
            "base": data["base"],
            "days": data["days"],
            "subject": data.get("subject", ""),
            "body": data.get("body", ""),
            "content_block": self.blocks.get(data.get("content_block")),
            "collection_status": self.statuses.get(data.get("collection_status")),
            "user": self.members.get(data.get("user")),
        }
