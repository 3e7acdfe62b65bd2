"""The recurrence editor's form: the schedule's parts in, a schedule and recurrence fields out.

The form holds the schedule as separate fields (calendar or client date, frequency, weekdays …)
and `clean` builds the schedule through `sodium.schedules`, so a schedule that never fires is a
field error, then asks `services.recurrences.recurrence_errors` about the rest. `recurrence()`
gives an unsaved `Recurrence` for the preview; `fields()` gives what create / update take.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django import forms
from django.db import models

from sodium import formfields, recurring
from sodium.assignment import OWNER_RULE_CHOICES
from sodium.forms import PracticeForm
from sodium.models import Client, Recurrence, Service, Tag
from sodium.schedules import client_dates
from sodium.schedules.errors import ScheduleError
from sodium.schedules.rules import (
    LAST,
    WEEKDAY_CODES,
    Anchor,
    Frequency,
    OffsetUnit,
    Schedule,
    schedule_from_json,
)
from sodium.schedules.working_days import RULE_CHOICES

R = Recurrence

KIND_CHOICES = [("calendar", "On a calendar"), ("client_date", "On a client date")]
FREQUENCY_CHOICES = [
    (Frequency.DAILY, "Day"),
    (Frequency.WEEKLY, "Week"),
    (Frequency.MONTHLY, "Month"),
    (Frequency.YEARLY, "Year"),
]
WEEKDAY_CHOICES = [(code, calendar.day_abbr[i]) for i, code in enumerate(WEEKDAY_CODES)]
DAY_NAME_CHOICES = [(str(i), calendar.day_name[i]) for i in range(7)]
NTH_CHOICES = [
    ("1", "First"),
    ("2", "Second"),
    ("3", "Third"),
    ("4", "Fourth"),
    (str(LAST), "Last"),
]
MONTH_CHOICES = [(str(i), calendar.month_name[i]) for i in range(1, 13)]
ANCHOR_CHOICES = [
    (Anchor.VAT_PERIOD_END, "VAT period end"),
    (Anchor.YEAR_END, "Year end"),
    (Anchor.ACCOUNTS_DUE, "Accounts deadline"),
    (Anchor.CONFIRMATION_STATEMENT_DUE, "Confirmation statement deadline"),
    (Anchor.CUSTOM, "Another client date"),
]
UNIT_CHOICES = [(str(u), str(u).capitalize()) for u in OffsetUnit]
SIDE_CHOICES = [("after", "after"), ("before", "before")]
ENDS_CHOICES = [("never", "Never"), ("on", "On a date"), ("after", "After a number of times")]
MONTHLY_ON_CHOICES = [("day", "On a day of the month"), ("weekday", "On a weekday")]

# Schedule error keys → the form field showing them.
_SCHEDULE_FIELDS = {"rule": "working_day_rule", "field": "date_field"}
# Fields needed only for some choices (a weekday only for "the nth weekday" …).
_CONDITIONAL = (
    "frequency",
    "interval",
    "month",
    "month_day",
    "nth",
    "weekday",
    "anchor",
    "date_field",
    "end",
    "count",
    "tag",
    "owner",
)
# Dates the client-date anchors already cover, so "another date" does not offer them.
_ANCHORED_FIELDS = {client_dates.CONFIRMATION_STATEMENT_FIELD}


def client_date_fields() -> list[tuple[str, str]]:
    """Return the client's own date fields a custom client-date schedule can use."""
    return [
        (field.name, str(field.verbose_name).capitalize())
        for field in Client._meta.get_fields()
        if isinstance(field, models.DateField)
        and not isinstance(field, models.DateTimeField)
        and field.name not in _ANCHORED_FIELDS
    ]


def _int(choices: list[tuple[str, str]]) -> dict[str, Any]:
    return {"choices": choices, "coerce": int, "empty_value": None}


class RecurrenceForm(PracticeForm):
    name = forms.CharField(max_length=200, help_text="For your list, e.g. Quarterly VAT returns.")
    service = formfields.ModelChoiceField(
        queryset=Service.objects.none(),
        required=False,
        empty_label="Standalone (no service)",
        help_text="The service this work is for; its tasks carry it.",
    )
    # --- when ---
    kind = forms.ChoiceField(
        label="Repeats", choices=KIND_CHOICES, widget=forms.RadioSelect, initial="calendar"
    )
    frequency = forms.ChoiceField(
        label="Every", choices=FREQUENCY_CHOICES, initial=Frequency.MONTHLY, required=False
    )
    interval = forms.IntegerField(
        label="How many", min_value=1, max_value=99, initial=1, required=False
    )
    weekdays_only = forms.BooleanField(label="Weekdays only", required=False)
    weekdays = forms.MultipleChoiceField(
        label="On",
        choices=WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    monthly_on = forms.ChoiceField(
        label="Falls",
        choices=MONTHLY_ON_CHOICES,
        initial="day",
        widget=forms.RadioSelect,
        required=False,
    )
    month = forms.TypedChoiceField(label="Month", required=False, **_int(MONTH_CHOICES))
    month_day = forms.IntegerField(
        label="Day of the month",
        min_value=1,
        max_value=31,
        initial=1,
        required=False,
        help_text="31 means the last day of every month.",
    )
    nth = forms.TypedChoiceField(label="Which", required=False, **_int(NTH_CHOICES))
    weekday = forms.TypedChoiceField(label="Weekday", required=False, **_int(DAY_NAME_CHOICES))
    anchor = forms.ChoiceField(
        label="Client date",
        choices=ANCHOR_CHOICES,
        initial=Anchor.VAT_PERIOD_END,
        required=False,
        help_text="VAT periods follow each client's stagger; the accounts deadline is nine "
        "months after the year end.",
    )
    date_field = forms.ChoiceField(label="Which date", choices=(), required=False)
    offset = forms.IntegerField(label="Offset", min_value=0, max_value=999, initial=0)
    unit = forms.ChoiceField(label="Unit", choices=UNIT_CHOICES, initial=OffsetUnit.DAYS)
    side = forms.ChoiceField(label="Side", choices=SIDE_CHOICES, initial="after")
    start = forms.DateField(
        label="Starting",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="No date before this one. Empty: from today.",
    )
    ends = forms.ChoiceField(
        label="Ends", choices=ENDS_CHOICES, initial="never", widget=forms.RadioSelect
    )
    end = forms.DateField(
        label="Last date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    count = forms.IntegerField(label="Times", min_value=1, max_value=999, required=False)
    working_day_rule = forms.ChoiceField(
        label="When a date falls on a weekend or bank holiday", choices=RULE_CHOICES
    )
    # --- for whom ---
    client_selection = forms.ChoiceField(
        label="Clients", choices=R.Clients.choices, widget=forms.RadioSelect, initial=R.Clients.ALL
    )
    clients = formfields.ModelMultipleChoiceField(
        queryset=Client.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Chosen clients",
    )
    tag = formfields.ModelChoiceField(
        queryset=Tag.objects.none(), required=False, empty_label="Choose a tag…"
    )
    # --- the task ---
    task_name = forms.CharField(
        label="Task name",
        max_length=300,
        initial="{{ client.name }} – {{ period.label }}",
        help_text="Liquid: {{ client.name }}, {{ period.label }}, {{ period.end }}, "
        "{{ service.name }} …",
    )
    lead_days = forms.IntegerField(
        label="Create the task",
        min_value=0,
        max_value=365,
        initial=0,
        help_text="Days before its start date (0: on the day).",
    )
    due_rule = forms.ChoiceField(label="Due", choices=R.DueRule.choices, initial=R.DueRule.OFFSET)
    due_offset = forms.IntegerField(label="Due after", min_value=0, max_value=999, initial=14)
    due_unit = forms.ChoiceField(label="Due unit", choices=UNIT_CHOICES, initial=OffsetUnit.DAYS)
    owner_rule = forms.ChoiceField(
        label="Owner", choices=OWNER_RULE_CHOICES, initial=R.OwnerRule.CLIENT_MANAGER
    )
    owner = formfields.ModelChoiceField(
        queryset=Client.objects.none(), required=False, empty_label="Choose a member…"
    )
    workflow_template_id = forms.TypedChoiceField(
        label="Workflow", coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args: Any, for_preview: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        practice = self.practice
        # The preview needs the schedule, the clients and the task, not yet a name.
        self.fields["name"].required = not for_preview
        for name in _CONDITIONAL:  # needed for some choices only: not marked "optional"
            self.fields[name].conditional = True
        self.fields["service"].queryset = Service.objects.filter(practice=practice).order_by("name")
        self.fields["tag"].queryset = Tag.objects.filter(practice=practice).order_by("name")
        self.fields["clients"].queryset = Client.objects.filter(
            practice=practice, status=Client.Status.ACTIVE
        ).order_by("name")
        self.fields["owner"].queryset = self._members()
        self.fields["owner"].label_from_instance = lambda user: user.full_name or user.email
        dates = client_date_fields()
        self.fields["date_field"].choices = [("", "Choose…"), *dates]
        if not dates:  # no other date on the client to repeat on: do not offer it
            self.fields["anchor"].choices = [c for c in ANCHOR_CHOICES if c[0] != Anchor.CUSTOM]
        attacher = recurring.registered_attacher()
        templates = attacher.choices(practice.pk) if attacher else []
        self.fields["workflow_template_id"].choices = [("", "No workflow"), *templates]
        self.schedule: Schedule | None = None

    @classmethod
    def initial_for(cls, recurrence: Recurrence) -> dict[str, Any]:
        """Return the form's initial data for an existing recurrence."""
        data = dict(recurrence.schedule or {})
        initial: dict[str, Any] = {
            name: getattr(recurrence, name)
            for name in (
                "name",
                "service",
                "working_day_rule",
                "client_selection",
                "tag",
                "task_name",
                "lead_days",
                "due_rule",
                "due_offset",
                "due_unit",
                "owner_rule",
                "owner",
                "workflow_template_id",
            )
        }
        initial["clients"] = list(recurrence.clients.values_list("pk", flat=True))
        initial["kind"] = data.get("kind", "calendar")
        for key in ("frequency", "interval", "month_day", "month", "nth", "start", "end", "count"):
            if data.get(key) is not None:
                initial[key] = data[key]
        initial["weekdays"] = data.get("weekdays", [])
        initial["weekdays_only"] = data.get("weekdays_only", False)
        if data.get("weekday") in WEEKDAY_CODES:
            initial["weekday"] = WEEKDAY_CODES.index(data["weekday"])
            initial["monthly_on"] = "weekday"
        offset = int(data.get("offset") or 0)
        initial.update(
            anchor=data.get("anchor", Anchor.VAT_PERIOD_END),
            date_field=data.get("field", ""),
            offset=abs(offset),
            side="before" if offset < 0 else "after",
            unit=data.get("unit", OffsetUnit.DAYS),
        )
        initial["ends"] = "after" if data.get("count") else "on" if data.get("end") else "never"
        return initial

    # --- cleaning ---

    def _schedule_json(self, data: dict[str, Any], today: dt.date) -> dict[str, Any]:
        ends = data.get("ends")
        common = {
            "start": (data.get("start") or (today if data["kind"] == "calendar" else None)),
            "end": data.get("end") if ends == "on" else None,
            "count": data.get("count") if ends == "after" else None,
        }
        if ends == "on" and not common["end"]:
            self.add_error("end", "Enter the last date.")
        if ends == "after" and not common["count"]:
            self.add_error("count", "Enter how many times.")
        if data["kind"] == "client_date":
            offset = data.get("offset") or 0
            if common["count"] and not common["start"]:
                common["start"] = today  # counted from the next date on
            return {
                "kind": "client_date",
                "anchor": data.get("anchor") or Anchor.VAT_PERIOD_END,
                "offset": -offset if data.get("side") == "before" else offset,
                "unit": data.get("unit") or OffsetUnit.DAYS,
                "field": data.get("date_field") or "",
                **common,
            }
        frequency = data.get("frequency") or Frequency.MONTHLY
        schedule: dict[str, Any] = {
            "kind": "calendar",
            "frequency": frequency,
            "interval": data.get("interval") or 1,
            **common,
        }
        if frequency == Frequency.DAILY:
            schedule["weekdays_only"] = bool(data.get("weekdays_only"))
        elif frequency == Frequency.WEEKLY:
            schedule["weekdays"] = list(data.get("weekdays") or [])
        elif frequency == Frequency.MONTHLY and data.get("monthly_on") == "weekday":
            schedule.update(nth=data.get("nth"), weekday=_code(data.get("weekday")))
        else:
            schedule["month_day"] = data.get("month_day")
            if frequency == Frequency.YEARLY:
                schedule["month"] = data.get("month")
        return schedule

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "kind" not in data:
            return data
        from sodium.schedules.practice import today_for

        if data["kind"] == "client_date" and data.get("anchor") == Anchor.CUSTOM:
            if not data.get("date_field"):
                self.add_error("date_field", "Choose the client's date.")
        try:
            self.schedule = schedule_from_json(self._schedule_json(data, today_for(self.practice)))
        except ScheduleError as exc:
            for key, message in exc.errors.items():
                name = _SCHEDULE_FIELDS.get(key, key)
                self.add_error(name if name in self.fields else None, message)
            return data
        if self.errors:
            return data
        from sodium.services.recurrences import recurrence_errors

        for key, message in recurrence_errors(self.recurrence()).items():
            name = {"schedule": "kind"}.get(key, key)
            self.add_error(name if name in self.fields else None, message)
        return data

    # --- results ---

    def fields_for_save(self) -> dict[str, Any]:
        """Return the recurrence fields that create / update take (after is_valid)."""
        data = self.cleaned_data
        fields = {
            name: data[name]
            for name in (
                "name",
                "service",
                "working_day_rule",
                "client_selection",
                "tag",
                "task_name",
                "lead_days",
                "due_rule",
                "due_offset",
                "due_unit",
                "owner_rule",
                "owner",
                "workflow_template_id",
            )
        }
        if data["owner_rule"] != R.OwnerRule.SPECIFIC:
            fields["owner"] = None
        if data["client_selection"] != R.Clients.TAG:
            fields["tag"] = None
        fields["schedule"] = self.schedule.to_json() if self.schedule else {}
        return fields

    def chosen_clients(self) -> list[Client]:
        if self.cleaned_data.get("client_selection") != R.Clients.CHOSEN:
            return []
        return list(self.cleaned_data.get("clients") or [])

    def recurrence(self) -> Recurrence:
        """Return an unsaved recurrence from the cleaned data (for checks and the preview)."""
        return Recurrence(practice=self.practice, **self.fields_for_save())


def _code(weekday: int | None) -> str | None:
    return None if weekday is None else WEEKDAY_CODES[weekday]
