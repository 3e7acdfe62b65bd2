from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from sodium.models.clients import Client
from sodium.models.practices import Practice
from sodium.models.tasks import Task
from sodium.sms.segments import Segments, count_segments
from sodium.tenancy import TenantManager


class OutboundMessage(models.Model):
    """An email or SMS: written with the change that causes it, delivered by a worker."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        OPENED = "opened", "Opened"
        BOUNCED = "bounced", "Bounced"
        FAILED = "failed", "Failed"

    # No index of its own: every composite index here starts with practice, and each
    # index is one more write on the engine's hot path.
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    idempotency_key = models.CharField(max_length=120, unique=True)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    from_name = models.CharField(max_length=120, blank=True)
    reply_to = models.EmailField(blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    task = models.ForeignKey(
        Task, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    # What caused it, e.g. ("workflows.step", 42): the core does not import the apps.
    source_type = models.CharField(max_length=60, blank=True)
    source_id = models.BigIntegerField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True, db_index=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        indexes = [
            models.Index(fields=["practice", "-created_at"]),
            models.Index(fields=["practice", "client", "-created_at"]),
            models.Index(fields=["practice", "task", "-created_at"]),
            models.Index(fields=["practice", "source_type", "source_id"]),
            # The sweep's safety net looks only at queued rows.
            models.Index(
                fields=["queued_at"], condition=Q(status="queued"), name="message_queued_idx"
            ),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject or f"{self.get_channel_display()} {self.pk}"

    @property
    def recipients_label(self) -> str:
        return ", ".join(self.to)

    @property
    def is_sms(self) -> bool:
        return self.channel == self.Channel.SMS

    @property
    def segments(self) -> Segments:
        """The text's length and SMS segments (meaningful for texts)."""
        return count_segments(self.body_text)


class MessageEvent(models.Model):
    """A delivery event for a message: sent, delivered, opened, bounced (from the provider)."""

    # No index of its own: every composite index here starts with practice, and each
    # index is one more write on the engine's hot path.
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    message = models.ForeignKey(OutboundMessage, on_delete=models.CASCADE, related_name="events")
    event = models.CharField(max_length=30)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "message", "created_at"])]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.event} of message {self.message_id}"


class Timer(models.Model):
    """Something to do later: a pending row with an indexed due time, claimed by the sweep.

    Rows exist only while pending; the sweep deletes a row once its handler has run. `key`
    makes scheduling idempotent ("task:5:start", "step:9:chase").
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)
    target_id = models.BigIntegerField()
    key = models.CharField(max_length=120, unique=True)
    due_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "kind", "target_id"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.target_id} at {self.due_at:%Y-%m-%d %H:%M}"
