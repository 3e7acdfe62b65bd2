"""Forms of the checks app."""

from __future__ import annotations

from django import forms
from django.utils.html import escape
from django.utils.safestring import mark_safe

from checks.models import CustomCheck


class CustomCheckForm(forms.ModelForm):
    class Meta:
        model = CustomCheck
        fields = ["name", "description"]
        labels = {"name": "Name", "description": "What to check"}
        help_texts = {
            "description": "Say what to look at and what good looks like. Web addresses become "
            "links, so you can point to the guidance or the client's software."
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, practice, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice
        self.fields["name"].widget.attrs["maxlength"] = 200

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Give the check a name.")
        taken = CustomCheck.objects.filter(practice=self.practice, name__iexact=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("The practice already has a custom check of that name.")
        return name

    def clean_description(self) -> str:
        description = self.cleaned_data["description"].strip()
        if len(description) > 4000:
            raise forms.ValidationError("Keep the description under 4,000 characters.")
        return description


# --- flow-dashboard: the dashboard's filters and editing a repeating flow -----------------------


class FlowFilterForm(forms.Form):
    """The flows dashboard's filters (GET): assignee, reviewer, template, client and tag.

    The choices are kept as plain (id, label) lists rather than in choice fields: a practice
    has a thousand clients, and Django normalises every choice of a field each request.
    """

    LABELS = {
        "assignee": "Anyone",
        "reviewer": "Anyone",
        "template": "Any template",
        "client": "Any client",
        "tag": "Any tag",
    }
    assignee = forms.IntegerField(required=False, label="Assignee")
    reviewer = forms.IntegerField(required=False, label="Reviewer")
    template = forms.IntegerField(required=False, label="Template")
    client = forms.IntegerField(required=False, label="Client")
    tag = forms.IntegerField(required=False, label="Tag")

    def __init__(self, *args, members, templates, clients, tags, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        members = list(members)
        self.choices = {
            "assignee": members,
            "reviewer": members,
            "template": list(templates),
            "client": list(clients),
            "tag": list(tags),
        }

    def clean(self):
        data = super().clean()
        for name, choices in self.choices.items():
            value = data.get(name)
            if value is not None and value not in {pk for pk, _ in choices}:
                self.add_error(name, "That choice is no longer there.")
        return data

    def options(self, name: str) -> str:
        """Return the field's <option>s as HTML (the "any" one first, the chosen one
        selected)."""
        value = str(self.data.get(name, "")) if self.is_bound else ""
        options = [("", self.LABELS[name]), *self.choices[name]]
        return mark_safe(
            "".join(
                f'<option value="{escape(key)}"{" selected" if str(key) == value else ""}>'
                f"{escape(label)}</option>"
                for key, label in options
            )
        )

    @property
    def chosen(self) -> dict[str, int | None]:
        """The valid choices ({field: id or None}); a bad value counts as none chosen."""
        data = getattr(self, "cleaned_data", {})
        return {name: data.get(name) for name in self.fields}


def _int_choice(label: str, low: int, high: int) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=low,
        max_value=high,
        error_messages={
            "min_value": f"Give {low} to {high}.",
            "max_value": f"Give {low} to {high}.",
            "invalid": "Give a whole number.",
            "required": "Give a number.",
        },
    )


class FlowEditForm(forms.Form):
    """Edit a repeating flow: name, checks (ticked, in the order given), cadence, and its
    clients (remove, team per client, add more by client or tag).

    Fields per check: `check-<ref>` (ticked) and `order-<ref>` (a number); per client of the
    flow: `remove-<id>`, `assignee-<id>`, `reviewer-<id>`, `second-<id>`.
    """

    name = forms.CharField(max_length=200, error_messages={"required": "Give the flow a name."})
    mode = forms.ChoiceField(
        label="Repeat on",
        choices=[("scheduled", "A scheduled date"), ("event", "A specific event")],
        widget=forms.RadioSelect,
    )
    period = forms.ChoiceField(
        label="Reporting period",
        choices=[("month", "Month"), ("quarter", "Quarter"), ("year", "Year")],
    )
    every = _int_choice("Every how many periods", 1, 12)
    event = forms.ChoiceField(
        label="Event", choices=[("year_end", "Year end"), ("vat_period_end", "VAT period end")]
    )
    offset = _int_choice("Days or weeks after the period ends", 0, 365)
    offset_unit = forms.ChoiceField(label="Unit", choices=[("days", "days"), ("weeks", "weeks")])
    within = _int_choice("Complete within", 1, 365)
    within_unit = forms.ChoiceField(label="Unit", choices=[("days", "days"), ("weeks", "weeks")])
    rule = forms.ChoiceField(label="When a date is not a working day")
    add_clients = forms.TypedMultipleChoiceField(label="Add clients", required=False, coerce=int)
    add_tag = forms.TypedChoiceField(
        label="Add the clients tagged", required=False, coerce=int, empty_value=None
    )

    def __init__(
        self, *args, check_options, chosen_refs, flow_clients, members, other_clients, tags,
        rules, **kwargs,
    ) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = rules
        order = {ref: i + 1 for i, ref in enumerate(chosen_refs)}
        self.check_rows = []
        spare = len(order)
        for ref, label in check_options:
            if ref not in order:
                spare += 1
            self.fields[f"check-{ref}"] = forms.BooleanField(
                label=label, required=False, initial=ref in order
            )
            self.fields[f"order-{ref}"] = forms.IntegerField(
                label=f"Order of {label}",
                required=False,
                min_value=1,
                max_value=999,
                initial=order.get(ref, spare),
            )
            self.check_rows.append((self[f"check-{ref}"], self[f"order-{ref}"]))
        people = [("", "Nobody"), *((str(pk), name) for pk, name in members)]
        self.client_rows = []
        for fc in flow_clients:
            cid = fc.client_id
            self.fields[f"remove-{cid}"] = forms.BooleanField(
                label=f"Remove {fc.client.name}", required=False
            )
            for key, attr, label in (
                ("assignee", "assignee_id", "Assignee"),
                ("reviewer", "reviewer_id", "Reviewer"),
                ("second", "second_reviewer_id", "Second reviewer"),
            ):
                self.fields[f"{key}-{cid}"] = forms.TypedChoiceField(
                    label=f"{label} for {fc.client.name}",
                    required=False,
                    coerce=int,
                    empty_value=None,
                    choices=people,
                    initial=getattr(fc, attr),
                )
            self.client_rows.append(
                (
                    fc,
                    self[f"remove-{cid}"],
                    self[f"assignee-{cid}"],
                    self[f"reviewer-{cid}"],
                    self[f"second-{cid}"],
                )
            )
        self.fields["add_clients"].choices = [(str(pk), name) for pk, name in other_clients]
        self.fields["add_tag"].choices = [("", "No tag"), *((str(pk), n) for pk, n in tags)]

    def clean(self):
        data = super().clean()
        ticked = [
            (data.get(f"order-{ref}") or 999, i, ref)
            for i, ref in enumerate(
                name.removeprefix("check-") for name in self.fields if name.startswith("check-")
            )
            if data.get(f"check-{ref}")
        ]
        if not ticked:
            self.add_error(None, "Tick at least one check.")
        data["checks"] = tuple(ref for *_, ref in sorted(ticked))
        return data


class FlowSettingsForm(forms.Form):
    """The practice's flow settings: how long overdue runs stay in the daily digest."""

    overdue_reminder_days = forms.IntegerField(
        label="Stop overdue reminders after",
        min_value=0,
        max_value=90,
        help_text="Days after a run's due date (0 to 90). An overdue run is in its people's "
        "morning digest until then; 0 stops the reminders on the due date.",
    )
