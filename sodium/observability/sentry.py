"""Errors to Sentry, when SODIUM_SENTRY_DSN is set (settings.py calls `init` at the bottom).

Only the Django and Celery integrations are added (nothing is switched on because it happens
to be installed), tracing is off unless SODIUM_SENTRY_TRACES_SAMPLE_RATE says otherwise, and
no personal data is sent. sentry-sdk 3 replaced `send_default_pii=False` with
`data_collection`: here no user identity, no cookies and no request bodies; header and query
values whose names look secret are scrubbed by the SDK, and the tokens in portal links'
paths (/portal/link/<token>/, /portal/confirm/<token>/) by `scrub_event`.
"""

from __future__ import annotations

import re
from typing import Any

# A portal link's token is the whole credential: it must not reach a third party.
_LINK_TOKEN = re.compile(r"(/(?:link|confirm)/)[^/?#]+")
FILTERED = "[Filtered]"

DATA_COLLECTION = {"user_info": False, "cookies": {"mode": "off"}, "http_bodies": []}


def scrub_url(url: str) -> str:
    """Return `url` with the token of a portal link replaced by [Filtered]."""
    return _LINK_TOKEN.sub(rf"\g<1>{FILTERED}", url)


def scrub_event(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Remove portal link tokens from an event's request URL before it is sent."""
    request = event.get("request")
    if isinstance(request, dict) and isinstance(request.get("url"), str):
        request["url"] = scrub_url(request["url"])
    return event


def init(
    *, dsn: str, environment: str, traces_sample_rate: float, release: str | None = None
) -> None:
    """Initialise sentry_sdk for this process (web, worker or beat)."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        traces_sample_rate=traces_sample_rate,
        data_collection=DATA_COLLECTION,
        before_send=scrub_event,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        auto_enabling_integrations=False,
    )
