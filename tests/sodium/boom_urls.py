"""A URLconf whose one view raises, for the Sentry test (tests/sodium/test_sentry.py)."""

from __future__ import annotations

from django.urls import path


def boom(request):
    raise RuntimeError("boom for sentry")


urlpatterns = [path("boom/", boom)]
