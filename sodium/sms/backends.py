"""SMS backends behind one setting, SODIUM_SMS_BACKEND: console, locmem or twilio.

A backend sends one text and returns the provider's message id (or "" when there is none).
It raises on failure; the outbox records the error and retries, as it does for email.

Twilio is called over its REST API with `requests` rather than through the `twilio` library:
sending is one form POST and the callback check one HMAC, and the library would bring
aiohttp and a dozen modules for that. Tests mock the HTTP with `responses`.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Text:
    """One text to send: the number in E.164, the body, and our message id."""

    to: str
    body: str
    message_id: int


class SmsBackend:
    """Send a text; return the provider's id for it."""

    name = "base"

    def send(self, text: Text) -> str:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleBackend(SmsBackend):
    """Print each text to the worker's stdout (development, `make run`)."""

    name = "console"

    def send(self, text: Text) -> str:
        sys.stdout.write(
            f"----- SMS to {text.to} (message {text.message_id}) -----\n{text.body}\n{'-' * 40}\n"
        )
        sys.stdout.flush()
        return f"console-{text.message_id}"


# What the locmem backend sent, like django.core.mail.outbox; tests empty it in setUp.
outbox: list[Text] = []


class LocmemBackend(SmsBackend):
    """Keep each text in `sodium.sms.backends.outbox` (tests)."""

    name = "locmem"

    def send(self, text: Text) -> str:
        outbox.append(text)
        return f"locmem-{len(outbox)}"


class TwilioError(Exception):
    """Twilio refused or failed a send."""


class TwilioBackend(SmsBackend):
    """Send through Twilio's Messages API, asking for delivery callbacks."""

    name = "twilio"
    timeout = 10

    def __init__(self) -> None:
        missing = [
            name
            for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM")
            if not getattr(settings, name, "")
        ]
        if missing:
            raise ImproperlyConfigured(f"SODIUM_SMS_BACKEND is twilio: set {', '.join(missing)}.")
        self.account_sid = settings.TWILIO_ACCOUNT_SID
        self.auth_token = settings.TWILIO_AUTH_TOKEN
        self.sender = settings.TWILIO_FROM

    @property
    def url(self) -> str:
        return f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def send(self, text: Text) -> str:
        sender = (
            {"MessagingServiceSid": self.sender}
            if self.sender.startswith("MG")
            else {"From": self.sender}
        )
        data = {
            "To": text.to,
            "Body": text.body,
            "StatusCallback": callback_url(),
            **sender,
        }
        response = requests.post(
            self.url, data=data, auth=(self.account_sid, self.auth_token), timeout=self.timeout
        )
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if response.status_code >= 400 or not payload.get("sid"):
            code = payload.get("code", response.status_code)
            reason = payload.get("message") or response.reason or "no reason given"
            raise TwilioError(f"Twilio error {code}: {reason}")
        return str(payload["sid"])


def callback_url() -> str:
    """Return the absolute URL Twilio posts delivery status to (and signs)."""
    return settings.SITE_URL + reverse("sms-twilio-status")


BACKENDS: dict[str, type[SmsBackend]] = {
    "console": ConsoleBackend,
    "locmem": LocmemBackend,
    "twilio": TwilioBackend,
}


def get_backend() -> SmsBackend:
    """Return the backend SODIUM_SMS_BACKEND names.

    Raises ImproperlyConfigured for an unknown name or a selected backend's missing settings.
    """
    name = settings.SODIUM_SMS_BACKEND
    try:
        backend = BACKENDS[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"SODIUM_SMS_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}."
        ) from None
    return backend()
