"""A person's work list, filled by the apps: workflow steps now, flow runs and AR calls next.

An app registers a source, `fn(request, user) -> list[WorkItem]`, in its `AppConfig.ready`;
the core's "My work" page (`/work/`, `sodium.views.work`) merges every source's items, soonest
due first. An item may name a `focus_url`, which the page opens in the slide-out focus panel
(`templates/sodium/focus/`); its `url` is the page it opens without JavaScript.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from django.http import HttpRequest

from sodium.models import User

Tone = Literal["info", "ok", "warn", "danger", "muted"]


@dataclass(frozen=True)
class WorkItem:
    """One thing a person has to do; `status` is words, `tone` its colour (chip-tone-<tone>)."""

    title: str
    url: str
    kind: str = ""
    subtitle: str = ""
    due: dt.date | None = None
    status: str = ""
    tone: Tone = "info"
    focus_url: str = ""

    def is_overdue(self, today: dt.date) -> bool:
        return self.due is not None and self.due < today


WorkSource = Callable[[HttpRequest, User], list[WorkItem]]
SOURCES: list[WorkSource] = []


def register_work_source(source: WorkSource) -> None:
    if source not in SOURCES:
        SOURCES.append(source)


def unregister_work_source(source: WorkSource) -> None:
    if source in SOURCES:
        SOURCES.remove(source)


def work_for(request: HttpRequest, user: User) -> list[WorkItem]:
    """Return every source's items for `user`, soonest due first (undated last), keeping each
    source's own order among items due the same day.

    Each source answers in a fixed number of queries, so the page costs the same whatever the
    number of items.
    """
    items = [item for source in SOURCES for item in source(request, user)]
    return sorted(items, key=lambda i: (i.due is None, i.due or dt.date.min))
