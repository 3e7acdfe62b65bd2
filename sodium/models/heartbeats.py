from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """When a periodic job last finished, by name ("sweep"): read by /health/ and metrics.

    Not tenant-owned: one row per job for the whole deployment, written once per run.
    """

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
