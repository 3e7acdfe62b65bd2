"""Sodium's URLconf plus views that fail as an outage would (tests/sodium/test_outages.py)."""

from __future__ import annotations

from django import db
from django.urls import path
from kombu.exceptions import OperationalError as BrokerError

from sodium.urls import handler500  # noqa: F401 - the handler under test
from sodium.urls import urlpatterns as sodium_urlpatterns


def database_away(request):
    raise db.OperationalError("connection to server at 127.0.0.1, port 5432 failed")


def connection_closed(request):
    raise db.InterfaceError("connection already closed")


def broker_away(request):
    raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def bug(request):
    raise RuntimeError("a real bug")


urlpatterns = [
    path("outage/database/", database_away),
    path("outage/closed/", connection_closed),
    path("outage/broker/", broker_away),
    path("outage/bug/", bug),
    *sodium_urlpatterns,
]
