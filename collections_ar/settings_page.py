"""The practice's AR settings: the sending window, what resuming does with what fell due
while paused, and the grace days after a promised date. One row per practice, made the
first time it is saved (until then the defaults apply)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db import transaction

from collections_ar.errors import ARError
from collections_ar.models import ARSettings
from sodium import activity
from sodium.models import Practice, User

MAX_GRACE_DAYS = 30


class ARSettingsForm(forms.Form):
    send_from = forms.TimeField(
        label="Send from", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    send_until = forms.TimeField(
        label="Send until", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    resume = forms.ChoiceField(
        label="When a paused workflow is resumed",
        choices=ARSettings.Resume.choices,
        widget=forms.RadioSelect,
    )
    promise_grace_days = forms.IntegerField(
        label="Days of grace after a promised date",
        min_value=0,
        max_value=MAX_GRACE_DAYS,
        help_text="A promise is broken this many days after its date if the money has not come.",
    )


def current(practice: Practice) -> ARSettings:
    """Return the practice's settings (unsaved defaults when it has none)."""
    return ARSettings.objects.filter(practice=practice).first() or ARSettings(practice=practice)


def initial(settings: ARSettings) -> dict:
    return {
        "send_from": settings.send_from,
        "send_until": settings.send_until,
        "resume": settings.resume,
        "promise_grace_days": settings.promise_grace_days,
    }


@transaction.atomic
def save_settings(
    practice: Practice,
    *,
    actor: User | None,
    send_from: dt.time,
    send_until: dt.time,
    resume: str,
    promise_grace_days: int,
) -> ARSettings:
    """Save the practice's AR settings. Raises ARError for a window that ends before it
    starts, an unknown rule or grace days out of range.

    Actions already planned keep their times; the window applies to when they are sent.
    """
    if send_until <= send_from:
        raise ARError({"send_until": "The window must end after it starts."})
    if resume not in ARSettings.Resume.values:
        raise ARError({"resume": "Choose what resuming does."})
    if not 0 <= promise_grace_days <= MAX_GRACE_DAYS:
        raise ARError({"promise_grace_days": f"Give 0 to {MAX_GRACE_DAYS} days."})
    row, _ = ARSettings.objects.select_for_update().get_or_create(practice=practice)
    row.send_from, row.send_until = send_from, send_until
    row.resume, row.promise_grace_days = resume, promise_grace_days
    row.save(update_fields=["send_from", "send_until", "resume", "promise_grace_days"])
    activity.record(
        practice=practice,
        actor=actor,
        verb="ar.settings",
        summary=f"AR settings: send {send_from:%H:%M}–{send_until:%H:%M}, "
        f"resume: {row.get_resume_display().lower()}, {promise_grace_days} days' grace",
    )
    return row
