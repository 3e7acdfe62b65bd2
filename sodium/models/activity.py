from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from sodium.models.clients import Client
from sodium.models.practices import Practice
from sodium.models.tasks import Task
from sodium.tenancy import TenantManager


class ActivityEvent(models.Model):
    """One line of the audit trail: who did what, when, to which client or task."""

    # No index of its own: every composite index here starts with practice, and each
    # index is one more write on the engine's hot path.
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who acted when it was not a member: "system", or a client contact's name.
    actor_label = models.CharField(max_length=160, blank=True)
    verb = models.CharField(max_length=60)
    summary = models.CharField(max_length=300)
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="activity"
    )
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, null=True, blank=True, related_name="activity"
    )
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    old_status = models.CharField(max_length=30, blank=True)
    new_status = models.CharField(max_length=30, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        indexes = [
            models.Index(fields=["practice", "-created_at"]),
            models.Index(fields=["practice", "client", "-created_at"]),
            models.Index(fields=["practice", "task", "-created_at"]),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.summary

    @property
    def who(self) -> str:
        if self.actor_id:
            return str(self.actor)
        return self.actor_label or "System"
