"""The daily digest of check-based flows: one email a day to each person runs wait on.

`send_digests(now)` is a timer-sweep safety net (run every minute). For each practice whose
local time has passed 08:00 and whose digest for today's local date is not yet sent, it
writes one `OutboundMessage` per person with runs waiting on them (`sodium.outbox`,
idempotency key `flows:digest:<practice>:<user>:<local date>`), in three sections:

- **ready to start**: not started, scheduled on or before today (and not due within a week);
- **due soon**: due today or within the next 7 days;
- **overdue**: due before today, until `FlowSettings.overdue_reminder_days` (3 unless the
  practice says otherwise) after the due date; then the reminders stop.

A run waits on its assignee until it is in review, then on the reviewer it is with, and on
the assignee again once approved (as `queries.runs_waiting_on`). People with nothing get
nothing. Each practice has a `FlowSettings` row (made the first time the sweep sees a
practice with flows) whose `next_digest_at` is the next 08:00 in its time zone: a sweep with
nothing due is two indexed queries, and after an outage the practice gets today's digest
once, never the missed days'.

The wording is the built-in text `checks.flow_digest` (message use of the same key), which
the practice may edit in its content library; it renders through the core's bounded Liquid.
When the practice's copy cannot render, the default wording goes out instead (logged).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django_scopes import scopes_disabled

from checks.flows.cadence import Period
from checks.models import Flow, FlowRun, FlowSettings
from checks.models.flow_settings import MAX_OVERDUE_REMINDER_DAYS
from sodium import activity, liquid, outbox, timers
from sodium.messaging import builtins
from sodium.messaging.builtins import Builtin
from sodium.messaging.context import format_date
from sodium.messaging.variables import Group, Use, Variable, register_group, register_use
from sodium.models import Membership, Practice, User
from sodium.schedules.practice import today_for
from sodium.tenancy import practice_scope

log = logging.getLogger(__name__)

R = FlowRun.Status
DIGEST = "checks.flow_digest"  # the message use and its built-in text
DIGEST_TIME = dt.time(8)
DUE_SOON_DAYS = 7
MAX_LISTED = 50  # runs listed in one section of one email; the rest are counted
# The flows dashboard (flows-common's URL layout; its view is the dashboard helper's).
DASHBOARD_PATH = "/checks/flows/"
SECTIONS = ("overdue", "due_soon", "ready")


# --- the message use, its variables and its default wording -----------------------------------

PERSON = Group(
    "flow_person",
    "Flows digest: the person",
    (
        Variable("person.name", "Flows digest: the person's full name", "Sam Okafor"),
        Variable("person.first_name", "Flows digest: the person's first name", "Sam"),
    ),
)
_RUN = {
    "flow": "Month-end review",
    "client": "Acorn Bakery Ltd",
    "period": "November 2026",
    "due": "15 December 2026",
    "status": "Not started",
    "days_overdue": 0,
    "url": f"{settings.SITE_URL}/checks/flows/runs/42/",
}
DIGEST_GROUP = Group(
    "flow_digest",
    "Flows digest: the runs",
    (
        Variable("digest.count", "How many runs the digest lists", "3"),
        Variable(
            "digest.overdue",
            "The overdue runs, a list: {% for run in digest.overdue %}",
            "(a list of runs)",
        ),
        Variable("digest.due_soon", "The runs due within 7 days, a list", "(a list of runs)"),
        Variable("digest.ready", "The runs ready to start, a list", "(a list of runs)"),
        Variable("digest.overdue_more", "Overdue runs beyond the 50 listed", "0"),
        Variable("digest.due_soon_more", "Runs due soon beyond the 50 listed", "0"),
        Variable("digest.ready_more", "Runs ready to start beyond the 50 listed", "0"),
        Variable("digest.url", "The flows dashboard", f"{settings.SITE_URL}{DASHBOARD_PATH}"),
        Variable("run.flow", "In a list of runs: the flow's name", _RUN["flow"]),
        Variable("run.client", "In a list of runs: the client's name", _RUN["client"]),
        Variable("run.period", "In a list of runs: the reporting period", _RUN["period"]),
        Variable("run.due", "In a list of runs: the due date", _RUN["due"]),
        Variable("run.status", "In a list of runs: not started, in progress …", _RUN["status"]),
        Variable("run.days_overdue", "In a list of runs: days past the due date", "2"),
        Variable("run.url", "In a list of runs: the run's page", _RUN["url"]),
    ),
)
_SAMPLE_DIGEST = {
    "count": 3,
    "overdue": [{**_RUN, "period": "October 2026", "due": "1 December 2026", "days_overdue": 2}],
    "due_soon": [{**_RUN, "client": "Birch Dental LLP", "status": "In review"}],
    "ready": [{**_RUN, "flow": "Onboarding health check", "client": "Cobalt Cycles"}],
    "overdue_more": 0,
    "due_soon_more": 0,
    "ready_more": 0,
    "url": f"{settings.SITE_URL}{DASHBOARD_PATH}",
}

SUBJECT = (
    "Flows today: {{ digest.count }} run{% if digest.count != 1 %}s{% endif %} for you"
    "{% if digest.overdue.size > 0 %} ({{ digest.overdue.size }} overdue){% endif %}"
)
BODY = """Good morning {{ person.first_name | default: person.name }},

Here are the check-based flows waiting on you at {{ practice.name }} today.
{% if digest.overdue.size > 0 %}
Overdue:
{% for run in digest.overdue %}- {{ run.flow }} for {{ run.client }} ({{ run.period }}): \
due {{ run.due }}, {{ run.days_overdue }} day{% if run.days_overdue != 1 %}s{% endif %} \
overdue. {{ run.url }}
{% endfor %}{% if digest.overdue_more > 0 %}… and {{ digest.overdue_more }} more.
{% endif %}{% endif %}{% if digest.due_soon.size > 0 %}
Due within 7 days:
{% for run in digest.due_soon %}- {{ run.flow }} for {{ run.client }} ({{ run.period }}): \
due {{ run.due }}, {{ run.status | downcase }}. {{ run.url }}
{% endfor %}{% if digest.due_soon_more > 0 %}… and {{ digest.due_soon_more }} more.
{% endif %}{% endif %}{% if digest.ready.size > 0 %}
Ready to start:
{% for run in digest.ready %}- {{ run.flow }} for {{ run.client }} ({{ run.period }}): \
due {{ run.due }}. {{ run.url }}
{% endfor %}{% if digest.ready_more > 0 %}… and {{ digest.ready_more }} more.
{% endif %}{% endif %}
All your flows: {{ digest.url }}
"""


def register() -> None:
    """Register the digest's variables, message use and built-in text (ChecksConfig.ready)."""
    register_group(PERSON)
    register_group(DIGEST_GROUP)
    register_use(
        Use(
            DIGEST,
            "Flows: daily digest",
            ("practice", PERSON.key, DIGEST_GROUP.key, "today"),
            description="Sent at 8:00 each day to everyone with check-based flow runs "
            "waiting on them: ready to start, due soon and overdue.",
            sample={"digest": _SAMPLE_DIGEST},
        )
    )
    builtins.register_builtins(
        [
            Builtin(
                DIGEST,
                "Flows: daily digest",
                SUBJECT,
                BODY,
                use=DIGEST,
                purpose="Sent at 8:00 each day to the people flow runs are waiting on.",
            )
        ]
    )


# --- the practice's setting --------------------------------------------------------------------


class DigestError(Exception):
    """A setting the person must change; `errors` says what, by field."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))


def settings_for(practice: Practice) -> FlowSettings:
    """Return the practice's flow settings (unsaved defaults when it has none yet)."""
    with practice_scope(practice):
        found = FlowSettings.objects.filter(practice=practice).first()
    return found or FlowSettings(practice=practice, next_digest_at=None)


@transaction.atomic
def set_overdue_reminder_days(practice: Practice, days: Any, *, actor: User) -> FlowSettings:
    """Set how many days after the due date the digest keeps reminding of an overdue run.

    Records an activity event. Raises DigestError unless `days` is a whole number from 0 to
    90.
    """
    try:
        value = int(str(days).strip())
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_OVERDUE_REMINDER_DAYS:
        most = MAX_OVERDUE_REMINDER_DAYS
        raise DigestError({"overdue_reminder_days": f"Give a number of days from 0 to {most}."})
    with practice_scope(practice):
        row, _ = FlowSettings.objects.select_for_update().get_or_create(
            practice=practice, defaults={"next_digest_at": _digest_at(practice, None)}
        )
        row.overdue_reminder_days = value
        row.save(update_fields=["overdue_reminder_days"])
        activity.record(
            practice=practice,
            verb="flows.overdue_reminder_days",
            summary=f"Overdue flow runs are in the daily digest until {value} "
            f"day{'s' if value != 1 else ''} after their due date",
            actor=actor,
        )
    return row


# --- the sweep ---------------------------------------------------------------------------------


def _digest_at(practice: Practice, day: dt.date | None, now: dt.datetime | None = None):
    """08:00 on `day` (default: the practice's today at `now`) in the practice's zone."""
    day = day or today_for(practice, now)
    return dt.datetime.combine(day, DIGEST_TIME, tzinfo=ZoneInfo(practice.time_zone))


def send_digests(now: dt.datetime, limit: int = 100) -> int:
    """Write today's digests of every practice whose 08:00 has come; return how many.

    Claims each practice's settings row with FOR UPDATE SKIP LOCKED, so several sweeps at
    once send each digest once; the message keys make a repeat a no-op even so.
    """
    _enrol(now)
    # Cross-tenant by design, like the timer claim: each practice is then handled in its scope.
    with scopes_disabled():
        due = list(
            FlowSettings.objects.filter(next_digest_at__lte=now)
            .order_by("next_digest_at")
            .values_list("pk", "practice_id")[:limit]
        )
    sent = 0
    for pk, practice_id in due:
        with practice_scope(practice_id), transaction.atomic():
            row = (
                FlowSettings.objects.select_for_update(skip_locked=True)
                .select_related("practice")
                .filter(pk=pk, next_digest_at__lte=now)
                .first()
            )
            if row is not None:
                sent += _send_practice_digest(row, now)
    return sent


def _enrol(now: dt.datetime) -> None:
    """Give every practice that has flows but no settings row one, due at today's 08:00."""
    with scopes_disabled():
        new = list(
            Flow.objects.filter(
                ~Exists(FlowSettings.objects.filter(practice_id=OuterRef("practice_id")))
            )
            .values_list("practice_id", flat=True)
            .distinct()
        )
        if not new:
            return
        FlowSettings.objects.bulk_create(
            [
                FlowSettings(practice=practice, next_digest_at=_digest_at(practice, None, now))
                for practice in Practice.objects.filter(pk__in=new)
            ],
            ignore_conflicts=True,  # a sweep running at the same time made it
        )


def _send_practice_digest(row: FlowSettings, now: dt.datetime) -> int:
    practice = row.practice
    today = today_for(practice, now)
    local = now.astimezone(ZoneInfo(practice.time_zone))
    if local.time() < DIGEST_TIME:
        # Its 08:00 was worked out in another zone (the practice moved): wait for this one's.
        row.next_digest_at = _digest_at(practice, today)
        row.save(update_fields=["next_digest_at"])
        return 0
    count = 0
    if row.digest_sent_on != today:
        count = queue_digests(practice, today, overdue_days=row.overdue_reminder_days)
        row.digest_sent_on, row.digest_messages = today, count
    row.next_digest_at = _digest_at(practice, today + relativedelta(days=1))
    row.save(update_fields=["digest_sent_on", "digest_messages", "next_digest_at"])
    return count


def _waiting_on(run: dict) -> int | None:
    if run["status"] != R.IN_REVIEW or run["approved"]:
        return run["assignee_id"]
    return run["second_reviewer_id"] if run["review_stage"] == 2 else run["reviewer_id"]


def digests_for(
    practice: Practice, today: dt.date, *, overdue_days: int
) -> dict[int, dict[str, list[dict]]]:
    """Return {user id: {section: [run values]}} of the runs waiting on each person today.

    Two queries whatever the number of runs: the runs, and who may still be told.
    """
    soon = today + relativedelta(days=DUE_SOON_DAYS)
    runs = (
        FlowRun.objects.filter(
            practice=practice,
            scheduled_date__lte=today,
            due_date__gte=today - relativedelta(days=overdue_days),
        )
        .exclude(status=R.COMPLETE)
        .filter(Q(due_date__lte=soon) | Q(status=R.NOT_STARTED))
        .order_by("due_date", "id")
        .values(
            "id",
            "status",
            "approved",
            "review_stage",
            "assignee_id",
            "reviewer_id",
            "second_reviewer_id",
            "period_start",
            "period_end",
            "due_date",
            "flow__name",
            "client__name",
        )
    )
    by_person: dict[int, dict[str, list[dict]]] = defaultdict(lambda: {s: [] for s in SECTIONS})
    for run in runs:
        person = _waiting_on(run)
        if person is None:
            continue
        if run["due_date"] < today:
            section = "overdue"
        elif run["due_date"] <= soon:
            section = "due_soon"
        else:
            section = "ready"
        by_person[person][section].append(run)
    members = set(
        Membership.objects.filter(practice=practice, user_id__in=list(by_person))
        .filter(user__is_active=True)
        .values_list("user_id", flat=True)
    )
    return {pk: sections for pk, sections in by_person.items() if pk in members}


def _run_values(run: dict, today: dt.date) -> dict[str, Any]:
    return {
        "flow": run["flow__name"],
        "client": run["client__name"],
        "period": Period(run["period_start"], run["period_end"]).label,
        "due": format_date(run["due_date"]),
        "status": R(run["status"]).label,
        "days_overdue": max(0, (today - run["due_date"]).days),
        "url": settings.SITE_URL + reverse("checks:flow-run", args=[run["id"]]),
    }


def digest_context(
    practice: Practice, user: User, sections: dict[str, list[dict]], today: dt.date
) -> dict[str, Any]:
    """Return the Liquid context of `user`'s digest (the use `checks.flow_digest`)."""
    digest: dict[str, Any] = {"count": sum(len(runs) for runs in sections.values())}
    for section in SECTIONS:
        runs = sections.get(section, [])
        digest[section] = [_run_values(r, today) for r in runs[:MAX_LISTED]]
        digest[f"{section}_more"] = max(0, len(runs) - MAX_LISTED)
    digest["url"] = f"{settings.SITE_URL}{DASHBOARD_PATH}"
    name = user.full_name or user.email
    return {
        "practice": {
            "name": practice.name,
            "sender_name": practice.display_sender,
            "reply_to": practice.reply_to,
        },
        "person": {"name": name, "first_name": name.split()[0] if name.split() else ""},
        "digest": digest,
        "today": format_date(today),
    }


def _render(practice: Practice, text: tuple[str, str], context: dict) -> liquid.Rendered:
    try:
        return liquid.render_message(*text, context)
    except liquid.TemplateError as exc:
        log.warning(
            "practice %s: its flows digest text failed (%s); sent the default", practice.pk, exc
        )
        builtin = builtins.get_builtin(DIGEST)
        return liquid.render_message(builtin.subject, builtin.body, context)


def queue_digests(practice: Practice, today: dt.date, *, overdue_days: int) -> int:
    """Write today's digest email for each person with runs waiting; return how many.

    Call inside a transaction; a digest already written for (person, today) is left alone.
    """
    people = digests_for(practice, today, overdue_days=overdue_days)
    if not people:
        return 0
    text = builtins.system_text(practice, DIGEST)
    users = User.objects.filter(pk__in=list(people)).order_by("pk")
    written = 0
    for user in users:
        context = digest_context(practice, user, people[user.pk], today)
        rendered = _render(practice, text, context)
        outbox.queue_email(
            practice=practice,
            key=f"flows:digest:{practice.pk}:{user.pk}:{today.isoformat()}",
            to=[user.email],
            subject=rendered.subject[:300],
            text=rendered.text,
            html=rendered.html,
            source=("checks.flow_digest", practice.pk),
        )
        written += 1
    return written


timers.register_safety_net("checks.flow_digest", send_digests)
