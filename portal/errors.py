"""The portal's refusals, in a module of their own so its models' state machines and its
engine raise the same kind (views catch `PortalError` and show its message)."""

from __future__ import annotations

from sodium import statemachine


class PortalError(Exception):
    """A client or staff action the rules refuse; the message is for people."""


class ItemRefused(PortalError, statemachine.InvalidTransition):
    """A portal item's table (portal.models) does not allow that move from its status."""
