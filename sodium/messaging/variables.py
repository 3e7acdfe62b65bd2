"""Message uses and their Liquid variables: one registry that every editor, the validation
and `docs/liquid-variables.md` read.

A *group* is a named list of variables (`practice`, `client`, `task` …). A *use* is one kind of
message an app sends (a step's email, a chase, a portal sign-in link): a key, a label, the
groups it may use, its channels and, for its previews, a sample context built from the groups'
examples. The core registers the groups every message has (practice, client, contacts,
today); each app registers its own groups and uses when it loads (`AppConfig.ready`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

EMAIL = "email"
SMS = "sms"


@dataclass(frozen=True)
class Variable:
    path: str
    description: str
    example: str


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    variables: tuple[Variable, ...]
    # Paths that are objects in the context (`contacts.main`), valid but not insertable.
    objects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Use:
    key: str
    label: str
    groups: tuple[str, ...]
    description: str = ""
    channels: tuple[str, ...] = (EMAIL,)
    # Values laid over the groups' examples in the sample context ({"reason": "…"}).
    sample: dict[str, Any] = field(default_factory=dict)
    # build(practice=, client=, task=) -> context, for previews for a real client (the
    # core's groups only when None).
    build: Callable[..., dict[str, Any]] | None = None


_GROUPS: dict[str, Group] = {}
_USES: dict[str, Use] = {}


def register_group(group: Group) -> None:
    """Add (or replace) a group of variables."""
    _GROUPS[group.key] = group


def unregister_group(key: str) -> None:
    """Remove a group (for tests that register a throwaway one)."""
    _GROUPS.pop(key, None)


def register_use(use: Use) -> None:
    """Add (or replace) a message use; its groups must be registered (now or later)."""
    _USES[use.key] = use


def extend_use(key: str, groups: Iterable[str]) -> None:
    """Add `groups` to the registered use `key` (an app whose step types send that use's
    messages with variables of their own)."""
    use = get_use(key)
    extra = tuple(g for g in groups if g not in use.groups)
    _USES[key] = replace(use, groups=use.groups + extra)


def unregister_use(key: str) -> None:
    """Remove a message use (for tests that register a throwaway one)."""
    _USES.pop(key, None)


def uses() -> list[Use]:
    """Return every registered use, in registration order."""
    return list(_USES.values())


def get_use(key: str) -> Use:
    """Return the use `key`; raises LookupError for an unknown key."""
    try:
        return _USES[key]
    except KeyError:
        raise LookupError(f"No message use {key!r} is registered.") from None


def groups_of(use: str | Use | None) -> list[Group]:
    """Return the groups of `use` (every group when `use` is None), in its order."""
    if use is None:
        return list(_GROUPS.values())
    use = get_use(use) if isinstance(use, str) else use
    return [_GROUPS[key] for key in use.groups if key in _GROUPS]


def variables_of(use: str | Use | None = None) -> list[Variable]:
    """Return the variables `use` may write (every variable when None), without repeats."""
    seen: set[str] = set()
    out: list[Variable] = []
    for group in groups_of(use):
        for var in group.variables:
            if var.path not in seen:
                seen.add(var.path)
                out.append(var)
    return out


def known_paths(use: str | Use | None = None) -> list[str]:
    """Return the paths validation accepts for `use` (every registered path when None)."""
    paths = [v.path for v in variables_of(use)]
    for group in groups_of(use):
        paths += [p for p in group.objects if p not in paths]
    return paths


class AllVariables(Sequence):
    """Every registered variable, read when used (apps register theirs after import)."""

    def _items(self) -> list[Variable]:
        return variables_of(None)

    def __getitem__(self, index):  # type: ignore[override]
        return self._items()[index]

    def __len__(self) -> int:
        return len(self._items())

    def __iter__(self) -> Iterator[Variable]:
        return iter(self._items())


class AllKnownPaths(Sequence):
    """Every registered path, read when used."""

    def __getitem__(self, index):  # type: ignore[override]
        return known_paths(None)[index]

    def __len__(self) -> int:
        return len(known_paths(None))

    def __iter__(self) -> Iterator[str]:
        return iter(known_paths(None))


def sample_context(use: str | Use | None = None, **overrides: Any) -> dict[str, Any]:
    """Return a context filled with the documented examples of `use` (for previews).

    The use's own `sample` values and then `overrides` are laid over the examples.
    """
    context: dict[str, Any] = {}
    for var in variables_of(use):
        node = context
        parts = var.path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = var.example
    if use is not None:
        context.update((get_use(use) if isinstance(use, str) else use).sample)
    context.update(overrides)
    return context


@dataclass(frozen=True)
class Token:
    path: str
    description: str
    example: str

    @property
    def text(self) -> str:
        return "{{ " + self.path + " }}"


@dataclass
class TokenGroup:
    key: str
    label: str
    tokens: list[Token]


def token_groups(
    use: str | Use | None = None, *, only: Collection[str] | None = None
) -> list[TokenGroup]:
    """Return the token picker's groups for `use`: exactly the variables it may write.

    With `only`, just those of its variables whose paths are in `only` (a message of the use
    that may write fewer, e.g. a step email of one step type).
    """
    seen: set[str] = set()
    out = []
    for group in groups_of(use):
        tokens = []
        for var in group.variables:
            if only is not None and var.path not in only:
                continue
            if var.path not in seen:
                seen.add(var.path)
                tokens.append(Token(var.path, var.description, var.example))
        if tokens:
            out.append(TokenGroup(group.key, group.label, tokens))
    return out


def picker_data(use: str | Use | None = None) -> list[dict[str, str]]:
    """Return the variables of `use` as JSON-ready rows for the token picker."""
    return [
        {
            "path": v.path,
            "token": f"{{{{ {v.path} }}}}",
            "description": v.description,
            "example": v.example,
        }
        for v in variables_of(use)
    ]


def _table(variables: Iterable[Variable]) -> list[str]:
    lines = ["| variable | what it is | example |", "|---|---|---|"]
    return lines + [f"| `{{{{ {v.path} }}}}` | {v.description} | {v.example} |" for v in variables]


def markdown(*, limits: str = "") -> str:
    """Return `docs/liquid-variables.md`: per registered use, its groups' variables."""
    lines = [
        "# Variables for emails and portal messages",
        "",
        "Each kind of message (a *use*) may write the variables of its own groups, e.g.",
        '`Dear {{ contacts.main.first_name | default: "client" }}`. Missing values render',
        "empty, so use `default` for a fallback. Values are escaped in HTML email. The editors'",
        "token picker and the validation on save show exactly the variables of the use being",
        "edited. This page is generated from the registry in `sodium/messaging/variables.py`",
        "(`manage.py liquid_variables`); apps register their uses when they load.",
        "",
    ]
    if limits:
        lines += [limits, ""]
    lines += ["## Uses", "", "| use | key | channels | groups |", "|---|---|---|---|"]
    for use in uses():
        groups = ", ".join(f"[{g.label}](#{g.key})" for g in groups_of(use))
        lines.append(f"| {use.label} | `{use.key}` | {', '.join(use.channels)} | {groups} |")
    lines += [""]
    for use in uses():
        if use.description:
            lines += [f"- **{use.label}**: {use.description}"]
    lines += ["", "## Groups", ""]
    for group in groups_of(None):
        lines += [f'<a id="{group.key}"></a>', "", f"### {group.label}", ""]
        lines += _table(group.variables)
        lines += [""]
    return "\n".join(lines).rstrip("\n") + "\n"
