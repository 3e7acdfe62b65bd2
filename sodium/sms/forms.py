"""The SMS body field with its segment counter, and the "Send a text" composer's form."""

from __future__ import annotations

import secrets

from django import forms

from sodium import liquid
from sodium.messaging.variables import known_paths
from sodium.sms.segments import count_segments


def sms_textarea(rows: int = 4) -> forms.Textarea:
    """Return a textarea that static/js/sms-counter.js counts segments for (and the token
    picker inserts into).

    Render `sodium/partials/sms_counter.html` after the field to show the line.
    """
    return forms.Textarea(attrs={"rows": rows, "data-sms-counter": "", "data-token-field": ""})


class SmsForm(forms.Form):
    """One text to one contact: a Liquid body and a once-only key for the send.

    The body may write exactly the variables of `use` (a registered message use).
    """

    MAX_SEGMENTS = 10

    body = forms.CharField(
        label="Text",
        widget=sms_textarea(),
        max_length=1600,
        help_text="Liquid works here, e.g. {{ contact.first_name }} or {{ client.name }}.",
    )
    # Drawn when the composer opens: sending the same composed text twice queues it once.
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def __init__(self, *args, use: str, **kwargs) -> None:
        self.use = use
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("nonce", secrets.token_urlsafe(16))
        super().__init__(*args, **kwargs)

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].replace("\r\n", "\n").strip()
        if count_segments(body).segments > self.MAX_SEGMENTS:
            raise forms.ValidationError(f"A text may be at most {self.MAX_SEGMENTS} segments.")
        problems = liquid.validate(body, known_paths(self.use))
        if problems:
            raise forms.ValidationError(problems)
        return body

    def clean_nonce(self) -> str:
        nonce = self.cleaned_data["nonce"]
        if not nonce.replace("-", "").replace("_", "").isalnum():
            raise forms.ValidationError("Open the composer again.")
        return nonce
