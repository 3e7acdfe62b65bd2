"""The side navigation, filled by registration so the core's templates name no app.

The core registers its own entries (Dashboard, Clients, Tasks …) in `SodiumConfig.ready` and
each app adds its own in its `AppConfig.ready`; `templates/sodium/partials/nav.html` loops over
`nav` (see `sodium.context_processors.practice`). An entry says who sees it (a `Perm`, or a
function of the request) and which paths mark it current, so an app's pages highlight its
entry without the template knowing the app's addresses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from django.http import HttpRequest

from sodium.roles import Perm, role_can
from sodium.urlshapes import reverse_ids

Section = Literal["main", "practice"]
SECTIONS: tuple[Section, ...] = ("main", "practice")


@dataclass(frozen=True)
class NavEntry:
    """One link of the side navigation.

    `current` holds path rules: "/clients/" marks every path under it current, "=/" only that
    path, "~/wizard/" any path containing it.
    """

    key: str
    label: str
    url_name: str
    section: Section = "main"
    order: int = 100
    permission: Perm | Callable[[HttpRequest], bool] | None = None
    current: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShownEntry:
    label: str
    url: str
    current: bool


@dataclass
class _Registry:
    entries: dict[str, NavEntry] = field(default_factory=dict)
    # Paths other apps serve a core entry's pages at (workflows' old content-block addresses).
    extra_current: dict[str, tuple[str, ...]] = field(default_factory=dict)


_REGISTRY = _Registry()


def register(entry: NavEntry) -> None:
    """Add (or replace, by key) a navigation entry."""
    _REGISTRY.entries[entry.key] = entry


def unregister(key: str) -> None:
    _REGISTRY.entries.pop(key, None)
    _REGISTRY.extra_current.pop(key, None)


def add_current_paths(key: str, *rules: str) -> None:
    """Let more paths (same rules as `NavEntry.current`) mark an entry current."""
    _REGISTRY.extra_current[key] = _REGISTRY.extra_current.get(key, ()) + rules


def _matches(rule: str, path: str) -> bool:
    if rule.startswith("="):
        return path == rule[1:]
    if rule.startswith("~"):
        return rule[1:] in path
    return path.startswith(rule)


def _allowed(entry: NavEntry, request: HttpRequest) -> bool:
    if entry.permission is None:
        return True
    if isinstance(entry.permission, Perm):
        membership = getattr(request, "membership", None)
        return membership is not None and role_can(membership.role, entry.permission)
    return bool(entry.permission(request))


def entries_for(request: HttpRequest) -> dict[Section, list[ShownEntry]]:
    """Return the entries the request's member may see, per section, in order, each with its
    URL and whether the current path is one of its pages."""
    out: dict[Section, list[ShownEntry]] = {section: [] for section in SECTIONS}
    path = request.path
    for entry in sorted(_REGISTRY.entries.values(), key=lambda e: (e.order, e.key)):
        if not _allowed(entry, request):
            continue
        rules = entry.current + _REGISTRY.extra_current.get(entry.key, ())
        current = any(_matches(rule, path) for rule in rules)
        out[entry.section].append(ShownEntry(entry.label, reverse_ids(entry.url_name), current))
    return out


def register_core_entries() -> None:
    """The core's own entries (called by `SodiumConfig.ready`)."""
    for entry in (
        NavEntry("dashboard", "Dashboard", "sodium:dashboard", order=10, current=("=/",)),
        NavEntry("clients", "Clients", "sodium:client-list", order=20, current=("/clients/",)),
        NavEntry("tasks", "Tasks", "sodium:task-list", order=30, current=("/tasks/",)),
        NavEntry("my-work", "My work", "sodium:my-work", order=35, current=("/work/",)),
        NavEntry(
            "recurring",
            "Recurring work",
            "sodium:recurrence-list",
            order=48,
            permission=Perm.MANAGE_RECURRING,
            current=("/recurring/",),
        ),
        NavEntry("messages", "Messages", "sodium:message-list", order=60, current=("/messages/",)),
        NavEntry(
            "content-blocks",
            "Content blocks",
            "sodium:content-block-list",
            order=80,
            permission=Perm.MANAGE_TEMPLATES,
            current=("/content-blocks/",),
        ),
        NavEntry(
            "members",
            "Members",
            "sodium:member-list",
            section="practice",
            order=10,
            permission=Perm.MANAGE_MEMBERS,
            current=("/settings/members/",),
        ),
        NavEntry(
            "teams",
            "Teams",
            "sodium:team-list",
            section="practice",
            order=20,
            permission=Perm.MANAGE_SERVICES,
            current=("/settings/teams/",),
        ),
        NavEntry(
            "services",
            "Services",
            "sodium:service-list",
            section="practice",
            order=30,
            permission=Perm.MANAGE_SERVICES,
            current=("/settings/services/",),
        ),
        NavEntry(
            "tags",
            "Tags",
            "sodium:tag-list",
            section="practice",
            order=40,
            permission=Perm.MANAGE_SERVICES,
            current=("/settings/tags/",),
        ),
        NavEntry(
            "practice-settings",
            "Branding & settings",
            "sodium:practice-settings",
            section="practice",
            order=50,
            permission=Perm.MANAGE_PRACTICE,
            current=("=/settings/practice/",),
        ),
    ):
        register(entry)
