"""Sign-in lockout on django-axes: who is locked, until when, and the name axes counts by.

axes counts failed sign-ins in its database table (every web process sees the same count),
per account and per address (settings: AXES_LOCKOUT_PARAMETERS). A lock lifts
AXES_COOLOFF_TIME after the last failure that counted, or when an owner unlocks the member
(sodium/services/members.py).
"""

from __future__ import annotations

from datetime import datetime

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Q, Sum
from django.http import HttpRequest
from django.utils import timezone


def account_key(email: str) -> str:
    """Return the name that counts for the account `email` signs in as (lockout, reset limits).

    Sign-in matches addresses case-insensitively in the database, and PostgreSQL's case
    folding maps lookalike letters too ("ſ" to "s", "ı" to "i"), so a count keyed by the typed
    text would restart for each spelling of one account: the count goes by the account that
    matched, its stored address, and by the typed address only when none matches.
    """
    from sodium.models import User

    typed = email.strip()
    stored = User.objects.filter(email__iexact=typed).values_list("email", flat=True).first()
    return (stored or typed).lower()


def username_of(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """Return the account a sign-in attempt names, as axes should count it (AXES_USERNAME_CALLABLE).

    Emails sign in in any case, so the count must not restart for "Sam@…" after "sam@…".
    """
    if credentials:
        value = credentials.get("username")
    else:
        value = getattr(request, "data", request.POST).get("username")
    return account_key(value) if value else None


def _since() -> datetime:
    return timezone.now() - settings.AXES_COOLOFF_TIME


def locked_until(*, username: str | None, ip_address: str | None) -> datetime | None:
    """Return when sign-in opens again for this account or address, or None if it is open.

    The time is the last counted failure plus the cool-off: a lock may lift sooner when older
    failures age out, never later.
    """
    found = []
    recent = AccessAttempt.objects.filter(attempt_time__gte=_since())
    for match, value in (("username", username), ("ip_address", ip_address)):
        if not value:
            continue
        got = recent.filter(Q(**{match: value})).aggregate(
            failures=Sum("failures_since_start"), last=Max("attempt_time")
        )
        if (got["failures"] or 0) >= settings.AXES_FAILURE_LIMIT:
            found.append(got["last"] + settings.AXES_COOLOFF_TIME)
    return max(found) if found else None


def locked_accounts(emails: list[str]) -> dict[str, datetime]:
    """Return {email: locked until} for the accounts among `emails` that are locked now."""
    wanted = {e.lower(): e for e in emails}
    rows = (
        AccessAttempt.objects.filter(username__in=list(wanted), attempt_time__gte=_since())
        .values("username")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    )
    return {
        wanted[row["username"]]: row["last"] + settings.AXES_COOLOFF_TIME
        for row in rows
        if row["failures"] >= settings.AXES_FAILURE_LIMIT
    }
