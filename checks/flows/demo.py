"""Placeholder."""


def build(practice, *, owner, manager) -> None:
    return None
