"""A practice's settings for check-based flows, and when its daily digest goes out.

One `FlowSettings` row per practice that has flows (made by the digest's sweep the first
time it sees the practice): how many days after a run's due date the daily digest keeps
reminding of it (`overdue_reminder_days`, 3 unless the practice says otherwise), the local
date whose digest was last sent, and when the sweep next looks at the practice
(`next_digest_at`, 08:00 of the next day in the practice's time zone) — so a sweep with
nothing due is one indexed query.
"""

from __future__ import annotations

from django.db import models

from sodium.models import Practice
from sodium.tenancy import TenantManager

DEFAULT_OVERDUE_REMINDER_DAYS = 3
MAX_OVERDUE_REMINDER_DAYS = 90


class FlowSettings(models.Model):
    practice = models.OneToOneField(
        Practice, on_delete=models.CASCADE, related_name="flow_settings"
    )
    # Overdue runs are in the digest until this many days after their due date.
    overdue_reminder_days = models.PositiveSmallIntegerField(default=DEFAULT_OVERDUE_REMINDER_DAYS)
    # The practice's local date whose digest was sent (None: never).
    digest_sent_on = models.DateField(null=True, blank=True)
    digest_messages = models.PositiveIntegerField(default=0)  # how many that day
    # When the sweep next sends the digest: 08:00 of a day in the practice's time zone.
    next_digest_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = TenantManager()

    class Meta:
        verbose_name_plural = "flow settings"

    def __str__(self) -> str:
        return f"Flow settings of practice {self.practice_id}"
