"""Content blocks: reusable messages (Liquid), and practices' copies of built-in texts."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from sodium.models.practices import Practice
from sodium.tenancy import TenantManager


class ContentBlock(models.Model):
    """A reusable message that steps (and other apps' actions) can reference.

    An email block has a subject and a body; an SMS block only a body (its subject is empty).
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    # Set on the practice's editable copies of built-in texts ("portal.sign_in" …).
    system_key = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="content_block_unique_name"),
            models.UniqueConstraint(
                fields=["practice", "system_key"],
                condition=~models.Q(system_key=""),
                name="content_block_unique_system_key",
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
