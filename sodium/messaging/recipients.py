"""Recipient tokens to addresses: `contact:<role>` and `email:<address>` resolve here; other
kinds (workflows' `member:<role>`, the task team) plug in with `register_resolver`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sodium.models import Contact

# kind -> resolve(value, **about) -> addresses; `about` is what the caller knows (task, …)
Resolver = Callable[..., list[str]]
_RESOLVERS: dict[str, Resolver] = {}


@dataclass
class Recipients:
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # tokens that gave no address


def register_resolver(kind: str, resolver: Resolver) -> None:
    """Let tokens `<kind>:<value>` resolve through `resolver(value, **about)`."""
    _RESOLVERS[kind] = resolver


def contact_addresses(role: str, contacts: Iterable[Contact]) -> list[str]:
    """Return the email addresses of the contacts holding `role` (none for unknown roles)."""
    flag = Contact.ROLE_FIELDS.get(role)
    return [c.email for c in contacts if flag and getattr(c, flag) and c.email]


def resolve(
    to_tokens: list[str],
    cc_tokens: list[str],
    *,
    contacts: list[Contact],
    **about: Any,
) -> Recipients:
    """Resolve tokens (contact:main, email:x@y, and registered kinds) to addresses.

    Addresses are compared case-insensitively; an address in To is dropped from CC. Tokens
    of an unknown kind, and tokens that give no address, are listed in `missing`.
    """
    out = Recipients()
    seen: set[str] = set()

    def addresses(token: str) -> list[str]:
        kind, _, value = token.partition(":")
        if kind == "contact":
            return contact_addresses(value, contacts)
        if kind == "email":
            return [value]
        resolver = _RESOLVERS.get(kind)
        return resolver(value, **about) if resolver else []

    for tokens, target in ((to_tokens, out.to), (cc_tokens, out.cc)):
        for token in tokens:
            found = addresses(token)
            if not found:
                out.missing.append(token)
            for email in found:
                if email.lower() not in seen:
                    seen.add(email.lower())
                    target.append(email)
    return out
