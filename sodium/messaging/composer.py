"""The composer: draft → edit recipients, subject and body → preview → send.

A core part any app's manual action opens, as a page of its own or inside the focus panel
(an htmx request). The app supplies a `Composer`: what to draft (`draft`), how to send what
the user edited (`send`, which stores what was actually sent and returns the flash), and
where to go afterwards (`done`). The core parses and validates the form, renders the preview
and the page or partial; it knows nothing of steps. Channel-aware: an email composer edits
To, CC, subject and body; an SMS composer only To and body (SMS sending itself is the
outbox's).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from sodium import liquid
from sodium.messaging.variables import EMAIL, SMS

PAGE = "sodium/messaging/composer.html"
PARTS = "sodium/messaging/_composer.html"
_SEPARATORS = re.compile(r"[,;\s]+")


@dataclass
class Message:
    """What a composer edits and sends: recipients, subject (email only) and body."""

    channel: str = EMAIL
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    subject: str = ""
    body: str = ""
    missing: list[str] = field(default_factory=list)  # recipient tokens with no address
    problems: list[str] = field(default_factory=list)  # why the draft could not be written


class SendRefused(Exception):
    """Raised by an app's `send` when the message cannot go; shown as a form error."""


@dataclass
class Composer:
    """What an app gives the composer for one message."""

    draft: Callable[[], Message]
    send: Callable[[Message], str]  # sends, returns the flash; raises SendRefused
    done: Callable[[str], HttpResponse]  # the response after a send, given the flash
    action_url: str  # where the form posts
    back_url: str  # Cancel and Back
    channel: str = EMAIL
    template: str = PAGE  # the app's page; "<template>#composer" is its panel partial
    unavailable: str = ""  # why nothing can be composed here ("" when it can)
    missing_label: Callable[[str], str] = str  # how a recipient token is named
    placeholder: str = ""  # text highlighted in the preview (a link joined in on sending)
    placeholder_help: str = ""
    refused: tuple[type[Exception], ...] = ()  # the app's own exceptions, shown like SendRefused
    context: dict[str, Any] = field(default_factory=dict)  # more for the app's template


def validate_addresses(addresses: list[str]) -> list[str]:
    """Return `addresses` if each is an email address; else raise ValidationError naming the
    ones that are not."""
    bad = []
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
    if bad:
        raise ValidationError("Not an email address: " + ", ".join(f"“{a}”" for a in bad) + ".")
    return addresses


def parse_addresses(value: str) -> list[str]:
    """Split comma-, semicolon- or space-separated addresses, keeping the first of repeats."""
    seen, out = set(), []
    for address in _SEPARATORS.split(value or ""):
        if address and address.lower() not in seen:
            seen.add(address.lower())
            out.append(address)
    return out


class AddressesField(forms.CharField):
    """Email addresses separated by commas, each validated."""

    def clean(self, value: str) -> list[str]:
        value = super().clean(value)
        return validate_addresses(parse_addresses(value))


class NumbersField(forms.CharField):
    """Mobile numbers separated by commas (their format is checked by the SMS sender)."""

    def clean(self, value: str) -> list[str]:
        return parse_addresses(super().clean(value))


class EmailComposerForm(forms.Form):
    to = AddressesField(
        label="To",
        help_text="Separate addresses with commas.",
        error_messages={"required": "Add at least one recipient."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    cc = AddressesField(
        label="CC", required=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    subject = forms.CharField(
        max_length=300, error_messages={"required": "Give the email a subject."}
    )
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12}),
        strip=False,
        error_messages={"required": "Write the email."},
    )

    def message(self) -> Message:
        data = self.cleaned_data
        return Message(
            EMAIL, to=data["to"], cc=data["cc"], subject=data["subject"], body=data["body"]
        )


class SmsComposerForm(forms.Form):
    to = NumbersField(
        label="To",
        help_text="Separate numbers with commas.",
        error_messages={"required": "Add at least one recipient."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        strip=False,
        error_messages={"required": "Write the text message."},
    )

    def message(self) -> Message:
        return Message(SMS, to=self.cleaned_data["to"], body=self.cleaned_data["body"])


FORMS: dict[str, type[forms.Form]] = {EMAIL: EmailComposerForm, SMS: SmsComposerForm}


def initial_of(message: Message) -> dict[str, str]:
    """Return a drafted message as the form's initial values."""
    return {
        "to": ", ".join(message.to),
        "cc": ", ".join(message.cc),
        "subject": message.subject,
        "body": message.body,
    }


def preview_of(composer: Composer, data: Any) -> dict[str, Any]:
    """Return what the message will look like from the form's (possibly invalid) data."""
    body = data.get("body", "")
    html = liquid.text_to_html(liquid.escape(body))
    placeholder = liquid.escape(composer.placeholder) if composer.placeholder else ""
    if placeholder and placeholder in html:
        html = html.replace(placeholder, f"<mark>{placeholder}</mark>")
    return {
        "channel": composer.channel,
        "to": parse_addresses(data.get("to", "")),
        "cc": parse_addresses(data.get("cc", "")),
        "subject": " ".join(data.get("subject", "").split()),
        "document": liquid.preview_document(html),
        "text": body,
        "has_placeholder": bool(composer.placeholder) and composer.placeholder in body,
    }


def _render(request: HttpRequest, composer: Composer, **context: Any) -> HttpResponse:
    as_page = not getattr(request, "htmx", False)
    context = {
        "composer": composer,
        "as_page": as_page,
        "back_url": composer.back_url,
        **composer.context,
        **context,
    }
    template = composer.template if as_page else f"{composer.template}#composer"
    return render(request, template, context)


def _missing(composer: Composer, message: Message) -> list[str]:
    return [composer.missing_label(token) for token in message.missing]


def compose(request: HttpRequest, composer: Composer) -> HttpResponse:
    """Serve one composer: GET shows the draft; POST `action=preview` renders the preview
    (only the preview's partial for htmx); any other POST sends what was edited.

    The view that calls this has already checked access and looked the object up.
    """
    if composer.unavailable:
        return _render(request, composer, unavailable=composer.unavailable)
    form_class = FORMS[composer.channel]
    if request.method != "POST":
        draft = composer.draft()
        form = form_class(initial=initial_of(draft))
        return _render(
            request, composer, form=form, missing=_missing(composer, draft), problems=draft.problems
        )

    form = form_class(request.POST)
    if request.POST.get("action") == "preview":
        preview = preview_of(composer, request.POST)
        if getattr(request, "htmx", False):
            return render(request, f"{PARTS}#composer-preview", {"preview": preview})
        form.is_valid()
        return _render(request, composer, form=form, preview=preview)

    if form.is_valid():
        try:
            flash = composer.send(form.message())
        except (SendRefused, *composer.refused) as exc:
            form.add_error(None, str(exc))
        else:
            return composer.done(flash)
    draft = composer.draft()
    return _render(request, composer, form=form, missing=_missing(composer, draft))
