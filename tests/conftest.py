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


# The slowest groups run first: with `--dist loadscope` each worker takes whole modules or
# classes in this order, so long ones started last would leave the other worker idle at the
# end. Browser journeys and the tests that start a real Celery worker go first; the order
# inside each part is the collected one.
SLOW_FIRST = ("tests/browser/", "tests/workers/")


def pytest_collection_modifyitems(config, items) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(SLOW_FIRST))
