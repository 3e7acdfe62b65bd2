from __future__ import annotations

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's async-safety check
# would otherwise refuse the ORM calls that live_server tests make in the same thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def unscoped():
    from django_scopes import scopes_disabled

    with scopes_disabled():
        yield
