"""Messaging in the core: content blocks, built-in texts, message uses and their variables,
recipients by contact role, and the composer. Apps register; the core names no app."""
