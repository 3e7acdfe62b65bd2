"""The flow creator's stage forms: one per stage, bound to what was typed (kept raw in the
draft) and checked by the same rules Go checks (`engine` and `cadence`)."""

from __future__ import annotations

import dataclasses
import typing
from decimal import Decimal
from typing import Any

from django import forms

from checks.flows import creator
from checks.flows.cadence import (
    EVENT_WORDS,
    Event,
    Mode,
    PeriodKind,
    Unit,
    one_off_errors,
)
from checks.flows.making import BUILTIN, team_errors
from checks.flows.templates import period_rules
from checks.models import Category
from checks.rules.duplicate_contacts import LEVELS
from checks.rules.duplicate_transactions import WINDOWS
from checks.rules.multi_coded_contacts import BY, SIDES
from sodium.schedules.working_days import RULE_LABELS, Rule

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NUMBER = forms.NumberInput(attrs={"class": "input-short"})

# Rules that are the client's own, not a flow's (exclusions).
SKIPPED_RULES = {("multi_coded_contacts", "code_pairs")}
RULE_CHOICES: dict[tuple[str, str], list[tuple[Any, str]]] = {
    ("duplicate_contacts", "level"): [(k, k.capitalize()) for k in LEVELS],
    ("duplicate_transactions", "window_days"): [(str(w), f"{w} days") for w in WINDOWS],
    ("multi_coded_contacts", "by"): [(b, f"By {b}") for b in BY],
    ("multi_coded_contacts", "sides"): [(s, s.capitalize()) for s in SIDES],
}
RULE_LABELS_TEXT = {
    "history_months": "Transactions since (months back)",
    "since": "Or since this date",
}


class StageForm(forms.Form):
    def __init__(self, *args: Any, draft: dict, ctx: creator.CreatorContext, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.draft, self.ctx = draft, ctx


# --- Set checks --------------------------------------------------------------------------------


class ChecksForm(StageForm):
    name = forms.CharField(
        max_length=200,
        label="Flow name",
        help_text="For example “Month-end review”; each run shows it with the client's name.",
        error_messages={"required": "Give the flow a name."},
    )
    template = forms.ChoiceField(required=False, label="Start from a template")
    checks = forms.MultipleChoiceField(
        required=False,
        label="Checks",
        error_messages={"invalid_choice": "One of the chosen checks no longer exists."},
    )

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["template"].choices = [("", "No template: pick the checks")] + [
            (str(t.pk), t.name) for t in self.ctx.templates
        ]
        self.fields["checks"].choices = [(o.ref, o.name) for o in self.ctx.check_options]

    def clean_checks(self) -> list[str]:
        refs = self.cleaned_data["checks"]
        if not refs:
            raise forms.ValidationError("Choose at least one check.")
        return list(dict.fromkeys(refs))


def check_picker(form: forms.Form, ctx: creator.CreatorContext) -> list[dict[str, Any]]:
    """Return the picker's rows: the chosen checks in their order, then the others."""
    chosen = [r for r in (form["checks"].value() or []) if r in ctx.check_names]
    chosen = list(dict.fromkeys(chosen))
    options = {o.ref: o for o in ctx.check_options}
    rows = [
        {
            "option": options[r],
            "chosen": True,
            "position": i,
            "first": i == 1,
            "last": i == len(chosen),
        }
        for i, r in enumerate(chosen, start=1)
    ]
    rows += [
        {"option": o, "chosen": False, "position": None, "first": False, "last": False}
        for o in ctx.check_options
        if o.ref not in chosen
    ]
    return rows


def moved(refs: list[str], move: str) -> list[str]:
    """Return the refs with the one in `move` ("up:builtin:vat") moved one place."""
    direction, _, ref = move.partition(":")
    refs = list(refs)
    if ref not in refs or direction not in ("up", "down"):
        return refs
    i = refs.index(ref)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(refs):
        refs[i], refs[j] = refs[j], refs[i]
    return refs


# --- Set cadence -------------------------------------------------------------------------------


class OneOffForm(StageForm):
    period_start = forms.DateField(
        label="Reporting period from",
        widget=DATE,
        required=False,
        error_messages={"invalid": "Give a date."},
    )
    period_end = forms.DateField(
        label="Reporting period to",
        widget=DATE,
        required=False,
        error_messages={"invalid": "Give a date."},
    )
    due_date = forms.DateField(
        label="Due date", widget=DATE, required=False, error_messages={"invalid": "Give a date."}
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        for field, message in one_off_errors(
            data.get("period_start"), data.get("period_end"), data.get("due_date")
        ).items():
            self.add_error(field, message)
        return data


UNIT_CHOICES = [(Unit.DAYS.value, "days"), (Unit.WEEKS.value, "weeks")]


class RepeatingForm(StageForm):
    mode = forms.ChoiceField(
        label="When each run appears",
        widget=forms.RadioSelect,
        choices=[(Mode.SCHEDULED.value, "Scheduled date"), (Mode.EVENT.value, "Specific event")],
        error_messages={"required": "Choose a scheduled date or a specific event."},
    )
    offset = forms.IntegerField(
        label="How long after", widget=NUMBER, error_messages={"required": "Give a number."}
    )
    offset_unit = forms.ChoiceField(label="Unit", choices=UNIT_CHOICES)
    period = forms.ChoiceField(
        label="After each",
        choices=[
            (PeriodKind.MONTH.value, "month ends"),
            (PeriodKind.QUARTER.value, "quarter ends"),
            (PeriodKind.YEAR.value, "year ends"),
        ],
    )
    every = forms.IntegerField(
        label="Repeat every",
        widget=NUMBER,
        required=False,
        help_text="Periods: 1 for every month (or quarter, or year), 2 for every other one.",
    )
    event = forms.ChoiceField(
        label="After each client's",
        choices=[(e.value, EVENT_WORDS[e]) for e in Event],
    )
    within = forms.IntegerField(
        label="Complete within", widget=NUMBER, error_messages={"required": "Give a number."}
    )
    within_unit = forms.ChoiceField(label="Unit", choices=UNIT_CHOICES)
    rule = forms.ChoiceField(
        label="When the date is not a working day",
        choices=[(r.value, RULE_LABELS[r]) for r in Rule],
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        if data.get("every") is None:
            data["every"] = 1
        cadence = creator.cadence_of({k: str(v) for k, v in data.items()})
        if cadence is None:
            raise forms.ValidationError("Set the cadence.")
        for field, message in cadence.errors().items():
            self.add_error(field, message)
        return data


# --- Set rules ---------------------------------------------------------------------------------


def _rule_field(key: str, f: dataclasses.Field, default: Any, hints: dict) -> forms.Field | None:
    if (key, f.name) in SKIPPED_RULES:
        return None
    label = RULE_LABELS_TEXT.get(f.name, f.name.replace("_", " ").capitalize())
    kind = hints.get(f.name, type(default))
    choices = RULE_CHOICES.get((key, f.name))
    if kind is bool:
        return forms.BooleanField(label=label, required=False)
    if choices and isinstance(default, tuple):
        return forms.MultipleChoiceField(
            label=label, choices=choices, required=False, widget=forms.CheckboxSelectMultiple
        )
    if choices:
        return forms.ChoiceField(label=label, choices=choices)
    if kind is int:
        return forms.IntegerField(
            label=label, widget=NUMBER, error_messages={"required": "Give a number."}
        )
    if kind is Decimal:
        return forms.DecimalField(
            label=f"{label} (£)",
            decimal_places=2,
            widget=NUMBER,
            error_messages={"required": "Give an amount."},
        )
    if f.name == "since":
        return forms.DateField(label=label, required=False, widget=DATE)
    return forms.CharField(label=label, required=False)


def rule_defaults(draft: dict, ctx: creator.CreatorContext) -> dict[str, dict[str, Any]]:
    """Return each chosen built-in check's rules as the stage shows them first: the
    dataclass defaults, with those that follow the reporting period set from it."""
    keys = creator.chosen_builtin_keys(draft)
    start, end = creator.sample_period(draft, ctx)
    from_period = period_rules(keys, start, end)
    out = {}
    for key in keys:
        rules = BUILTIN[key].default_rules()
        values = {f.name: getattr(rules, f.name) for f in dataclasses.fields(rules)}
        values.update(from_period.get(key, {}))
        out[key] = values
    return out


def _initial(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if value == "" or value is None:
        return None
    return value


class RulesForm(StageForm):
    """One group of fields per chosen built-in check: `<check key>__<rule>`."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.defaults = rule_defaults(self.draft, self.ctx)
        self.groups: list[dict[str, Any]] = []
        for key, values in self.defaults.items():
            check = BUILTIN[key]
            hints = typing.get_type_hints(check.rules_class)
            names = []
            for f in dataclasses.fields(check.rules_class):
                field = _rule_field(key, f, values[f.name], hints)
                if field is None:
                    continue
                name = f"{key}__{f.name}"
                field.initial = _initial(values[f.name])
                self.fields[name] = field
                names.append(name)
            self.groups.append({"key": key, "name": check.name, "names": names})

    def bound_groups(self) -> list[dict[str, Any]]:
        return [{**g, "fields": [self[n] for n in g["names"]]} for g in self.groups]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self.changed_rules: dict[str, dict[str, Any]] = {}
        for group in self.groups:
            key = group["key"]
            check = BUILTIN[key]
            values = dict(self.defaults[key])
            for name in group["names"]:
                rule = name.split("__", 1)[1]
                if name not in data:
                    continue  # the field's own error is shown
                value = data[name]
                if isinstance(value, list):
                    value = tuple(value)
                if rule == "since":
                    value = value.isoformat() if value else ""
                if rule == "window_days":
                    value = int(value)
                values[rule] = value
            missing = [n for n in group["names"] if n not in data]
            if missing:
                continue
            errors = check.rules_class(**values).errors()
            for rule, messages in errors.items():
                target = f"{key}__{rule}"
                for message in messages:
                    self.add_error(target if target in self.fields else None, message)
            changed = {
                rule: _json(value)
                for rule, value in values.items()
                if value != self.defaults[key][rule] and (key, rule) not in SKIPPED_RULES
            }
            if changed:
                self.changed_rules[key] = changed
        return data


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


# --- Add clients -------------------------------------------------------------------------------


class ClientsForm(StageForm):
    clients = forms.MultipleChoiceField(
        required=False,
        label="By client",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "One of the chosen clients is no longer active."},
    )
    tags = forms.MultipleChoiceField(
        required=False,
        label="By tag",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "One of the chosen tags no longer exists."},
    )

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["clients"].choices = [(str(c.pk), c.name) for c in self.ctx.clients]
        self.fields["tags"].choices = [
            (str(t.pk), f"{t.name} ({t.active_clients})") for t in self.ctx.tags
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        draft = {**self.draft, "values": {**self.draft["values"], "clients": data}}
        ids = creator.chosen_client_ids(draft, self.ctx)
        self.client_ids = ids
        if not ids:
            raise forms.ValidationError("Add at least one client, by client or by tag.")
        missing = creator.missing_dates(self.draft, self.ctx, ids)
        if missing:
            names = [
                f"{self.ctx.clients_by_id[pk].name} ({why})"
                for pk, why in list(missing.items())[:8]
            ]
            more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
            raise forms.ValidationError(
                "These clients have no date for this cadence: "
                + "; ".join(names)
                + more
                + ". Add their year end or VAT stagger on the client's page, or leave them out."
            )
        return data


# --- Team --------------------------------------------------------------------------------------


class TeamForm(StageForm):
    """A row per chosen client (`a_<id>`, `r_<id>`, `s_<id>`), and a "set all" row."""

    ROLES = (("a", "Assignee"), ("r", "Reviewer"), ("s", "Second reviewer"))

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.client_ids = creator.chosen_client_ids(self.draft, self.ctx)
        people = [(str(m.pk), str(m)) for m in self.ctx.members]
        choices = [("", "Nobody")] + people
        for prefix, label in self.ROLES:
            field = forms.ChoiceField(
                label=f"{label} for every client", choices=[("", "Keep as it is")] + people,
                required=False,
            )  # fmt: skip
            field.conditional = True  # only used with "Set for all": not marked optional
            self.fields[f"all_{prefix}"] = field
        for team in creator.team_of(self.draft, self.ctx, self.client_ids):
            pk = team.client_id
            initial = [team.assignee_id, team.reviewer_id, team.second_reviewer_id]
            for (prefix, label), value in zip(self.ROLES, initial, strict=True):
                field = forms.ChoiceField(
                    label=label,
                    choices=choices,
                    required=False,
                    error_messages={"invalid_choice": "Choose members of the practice."},
                )
                field.initial = str(value) if value else ""
                self.fields[f"{prefix}_{pk}"] = field

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "client": self.ctx.clients_by_id[pk],
                "fields": [self[f"{p}_{pk}"] for p, _ in self.ROLES],
                "errors": self[f"a_{pk}"].errors,
            }
            for pk in self.client_ids
        ]

    def set_all(self) -> list[forms.BoundField]:
        return [self[f"all_{p}"] for p, _ in self.ROLES]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.client_ids:
            raise forms.ValidationError("Add clients first.")
        teams = []
        for pk in self.client_ids:
            people = [creator._int(data.get(f"{p}_{pk}")) for p, _ in self.ROLES]
            teams.append(creator.ClientTeam(pk, *people))
            if people[0] is None:
                self.add_error(f"a_{pk}", "Choose who works this client's runs.")
        for pk, message in team_errors(self.ctx.practice, teams).items():
            if not self[f"a_{pk}"].errors:
                self.add_error(f"a_{pk}", message)
        return data


FORMS = {
    "checks": ChecksForm,
    "rules": RulesForm,
    "clients": ClientsForm,
    "team": TeamForm,
}


# --- flow templates ----------------------------------------------------------------------------


class TemplateForm(forms.Form):
    """A flow template: name, description, category and its ordered checks."""

    name = forms.CharField(
        max_length=200,
        label="Template name",
        error_messages={"required": "Give the template a name."},
    )
    description = forms.CharField(
        required=False, label="Description", widget=forms.Textarea(attrs={"rows": 3})
    )
    category = forms.ChoiceField(label="Category")
    checks = forms.MultipleChoiceField(
        required=False,
        label="Checks",
        error_messages={"invalid_choice": "One of the chosen checks no longer exists."},
    )

    def __init__(self, *args: Any, ctx: creator.CreatorContext, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.ctx = ctx
        self.fields["category"].choices = Category.choices
        self.fields["checks"].choices = [(o.ref, o.name) for o in ctx.check_options]

    def clean_checks(self) -> list[str]:
        refs = self.cleaned_data["checks"]
        if not refs:
            raise forms.ValidationError("Choose at least one check.")
        return list(dict.fromkeys(refs))
