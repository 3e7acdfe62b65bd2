"""Tell a member something happened: an in-app notification, and an email if they chose so."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from sodium import outbox
from sodium.models import Notification, Practice, Task, User


@transaction.atomic
def notify(
    *,
    practice: Practice,
    user: User | None,
    text: str,
    url: str = "",
    task: Task | None = None,
    key: str = "",
) -> Notification | None:
    """Create a notification for `user` (nothing when None); email it when they opted in.

    `key` makes the email idempotent (defaults to one per notification row).
    """
    if user is None:
        return None
    note = Notification.objects.create(
        practice=practice, user=user, text=text[:300], url=url, task=task
    )
    if user.email_notifications:
        link = f"{settings.SITE_URL}{url}" if url.startswith("/") else url
        outbox.queue_email(
            practice=practice,
            key=key or f"notification:{note.pk}",
            to=[user.email],
            subject=text[:200],
            text=f"{text}\n\n{link}\n" if link else text,
            task=task,
            client=task.client if task else None,
            source=("sodium.notification", note.pk),
        )
    return note


def unread_count(practice: Practice, user: User) -> int:
    return Notification.objects.filter(practice=practice, user=user, read_at__isnull=True).count()
