"""The 500 handler: a 503 "try again" page while the database or the broker is away.

A restart of PostgreSQL or Redis makes requests in flight fail with a driver error. Those are
not bugs and the fix is to wait a few seconds, so the person gets a page that says so, with
`Retry-After`; every other error keeps Django's 500 page. The page is static (it cannot read
the session or the practice: the database may be the thing that is away).
"""

from __future__ import annotations

import sys

from django import db
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views import defaults
from kombu.exceptions import OperationalError as BrokerError

OUTAGES = (db.OperationalError, db.InterfaceError, BrokerError)
RETRY_AFTER_SECONDS = 10


def server_error(request: HttpRequest) -> HttpResponse:
    """Answer 503 for an outage of the database or broker, else Django's 500 page."""
    if isinstance(sys.exc_info()[1], OUTAGES):
        body = loader.get_template("503.html").render()
        response = HttpResponse(body, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return defaults.server_error(request)
