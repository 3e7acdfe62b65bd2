"""Writes with business meaning for the core (clients, members, practice); tasks are in engine."""
