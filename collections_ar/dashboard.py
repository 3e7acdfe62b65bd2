"""The AR dashboard's reads: today's calls and notes, overdue money by age band, DSO and its
trend, promises due and broken, bounced addresses, and (for managers) each specialist.

Every function takes the signed-in member's `Membership`: a manager (`Perm.MANAGE_AR`) sees
the practice, an AR specialist the customers assigned to them. Each is a fixed number of
queries whatever the number of rows.

DSO (days sales outstanding) at a date = what was owed then ÷ what was invoiced in the 90
days before × 90. What was owed at a date is every invoice issued by then (void ones left
out) less the payments dated by then.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from collections_ar import queries
from collections_ar.models import ActionRun, Invoice, Payment, Promise
from sodium.models import Membership, OutboundMessage, User
from sodium.roles import Perm

RS = ActionRun.State
CHASED = (Invoice.Status.OPEN, Invoice.Status.PART_PAID)
MONEY = DecimalField(max_digits=16, decimal_places=2)
ZERO = Decimal("0.00")
DSO_WINDOW = 90
TREND_MONTHS = 6
LISTED = 50

# (key, label, first day overdue, last day overdue or None)
BANDS = (
    ("current", "Current", None, 0),
    ("1_30", "1–30 days", 1, 30),
    ("31_60", "31–60 days", 31, 60),
    ("61_90", "61–90 days", 61, 90),
    ("90_plus", "90+ days", 91, None),
)


def _sum(expression, where: Q) -> Coalesce:
    return Coalesce(Sum(expression, filter=where), Value(ZERO), output_field=MONEY)


def _runs(membership: Membership) -> QuerySet[ActionRun]:
    customers = queries.customers_for_user(membership)
    return ActionRun.objects.filter(
        practice=membership.practice_id, assignment__customer__in=customers
    )


def calls_for(membership: Membership) -> list[ActionRun]:
    """Return the call tasks waiting for an outcome: the member's own customers', or every
    one for a manager; oldest first."""
    return list(
        _runs(membership)
        .filter(kind="call", state=RS.DONE, completed_at__isnull=True)
        .select_related("assignment__customer__client", "assignment__customer__specialist")
        .order_by("done_at", "pk")[:LISTED]
    )


def notes_since(membership: Membership, since: dt.datetime) -> list[ActionRun]:
    """Return the notes workflows added since `since`, newest first."""
    return list(
        _runs(membership)
        .filter(kind="note", state=RS.DONE, done_at__gte=since)
        .select_related("assignment__customer__client")
        .order_by("-done_at", "-pk")[:LISTED]
    )


@dataclasses.dataclass
class Band:
    key: str
    label: str
    amount: Decimal
    count: int
    share: float = 0.0  # of the largest band, 0–1, for the chart


def _invoices(membership: Membership) -> QuerySet[Invoice]:
    return Invoice.objects.filter(
        practice=membership.practice_id, customer__in=queries.customers_for_user(membership)
    )


def age_bands(membership: Membership, today: dt.date) -> list[Band]:
    """Return what is owed on chased invoices by how overdue it is (one query)."""
    balance = F("total") - F("amount_paid")
    aggregates = {}
    for key, _label, first, last in BANDS:
        where = Q(status__in=CHASED)
        if last is not None:
            where &= Q(due_date__gte=today - dt.timedelta(days=last))
        if first is not None:
            where &= Q(due_date__lte=today - dt.timedelta(days=first))
        aggregates[f"{key}_amount"] = Coalesce(
            Sum(balance, filter=where), Value(ZERO), output_field=MONEY
        )
        aggregates[f"{key}_count"] = Count("pk", filter=where)
    totals = _invoices(membership).aggregate(**aggregates)
    bands = [
        Band(key, label, totals[f"{key}_amount"], totals[f"{key}_count"])
        for key, label, _f, _l in BANDS
    ]
    top = max((b.amount for b in bands), default=ZERO)
    for band in bands:
        band.share = float(band.amount / top) if top else 0.0
    return bands


@dataclasses.dataclass
class DsoPoint:
    date: dt.date
    days: float | None  # None when nothing was invoiced in the window
    bar_h: int = 0  # the chart's bar, 0–40 high, from the bottom
    bar_y: int = 40


def dso_trend(membership: Membership, today: dt.date) -> list[DsoPoint]:
    """Return DSO at each of the last month ends and today, oldest first (three queries)."""
    dates = [
        today.replace(day=1) - relativedelta(months=n) - dt.timedelta(days=1)
        for n in range(TREND_MONTHS - 1, -1, -1)
    ] + [today]
    invoices = _invoices(membership).exclude(status=Invoice.Status.VOID)
    issued = invoices.aggregate(
        **{
            f"d{i}": Coalesce(
                Sum("total", filter=Q(issue_date__lte=d)), Value(ZERO), output_field=MONEY
            )
            for i, d in enumerate(dates)
        },
        **{
            f"s{i}": Coalesce(
                Sum(
                    "total",
                    filter=Q(issue_date__lte=d, issue_date__gt=d - dt.timedelta(days=DSO_WINDOW)),
                ),
                Value(ZERO),
                output_field=MONEY,
            )
            for i, d in enumerate(dates)
        },
    )
    paid = Payment.objects.filter(practice=membership.practice_id, invoice__in=invoices).aggregate(
        **{
            f"p{i}": Coalesce(Sum("amount", filter=Q(date__lte=d)), Value(ZERO), output_field=MONEY)
            for i, d in enumerate(dates)
        }
    )
    points = []
    for i, d in enumerate(dates):
        owed = issued[f"d{i}"] - paid[f"p{i}"]
        sales = issued[f"s{i}"]
        points.append(DsoPoint(d, round(float(owed / sales) * DSO_WINDOW, 1) if sales else None))
    top = max((p.days for p in points if p.days is not None), default=0)
    for point in points:
        if point.days is not None and top:
            point.bar_h = max(2, round(point.days / top * 38))
            point.bar_y = 40 - point.bar_h
    return points


def promises_due(membership: Membership, today: dt.date) -> list[Promise]:
    """Return open promises falling due within a week (or already due), soonest first."""
    return list(
        Promise.objects.filter(
            practice=membership.practice_id,
            customer__in=queries.customers_for_user(membership),
            state=Promise.State.OPEN,
            promised_on__lte=today + dt.timedelta(days=7),
        )
        .select_related("customer__client")
        .order_by("promised_on", "pk")[:LISTED]
    )


def broken_promises(membership: Membership, today: dt.date) -> list[Promise]:
    """Return promises broken in the last 30 days, newest first."""
    return list(
        Promise.objects.filter(
            practice=membership.practice_id,
            customer__in=queries.customers_for_user(membership),
            state=Promise.State.BROKEN,
            promised_on__gte=today - dt.timedelta(days=30),
        )
        .select_related("customer__client")
        .order_by("-promised_on", "-pk")[:LISTED]
    )


def bounced(membership: Membership, since: dt.datetime) -> list[OutboundMessage]:
    """Return AR emails that bounced since `since`, newest first."""
    customers = queries.customers_for_user(membership)
    messages = list(
        OutboundMessage.objects.filter(
            practice=membership.practice_id,
            source_type="ar.run",
            status=OutboundMessage.Status.BOUNCED,
            status_changed_at__gte=since,
            client__in=customers.values("client"),
        )
        .select_related("client")
        .order_by("-status_changed_at", "-pk")[:LISTED]
    )
    customer_of = dict(
        customers.filter(client__in={m.client_id for m in messages}).values_list("client", "pk")
    )
    for message in messages:
        message.customer_id = customer_of.get(message.client_id)
    return messages


@dataclasses.dataclass
class SpecialistRow:
    user: User | None
    customers: int
    owed: Decimal
    overdue: Decimal
    calls: int


def per_specialist(membership: Membership, today: dt.date) -> list[SpecialistRow]:
    """Return each specialist's customers, money owed and overdue, and open calls (managers
    only; two queries)."""
    if not queries.sees_every_customer(membership):
        return []
    balance = F("total") - F("amount_paid")
    rows = (
        _invoices(membership)
        .filter(status__in=CHASED)
        .values("customer__specialist")
        .annotate(
            customers=Count("customer", distinct=True),
            owed=Coalesce(Sum(balance), Value(ZERO), output_field=MONEY),
            overdue=Coalesce(
                Sum(balance, filter=Q(due_date__lt=today)), Value(ZERO), output_field=MONEY
            ),
        )
    )
    calls = dict(
        _runs(membership)
        .filter(kind="call", state=RS.DONE, completed_at__isnull=True)
        .values("assignment__customer__specialist")
        .annotate(n=Count("pk"))
        .values_list("assignment__customer__specialist", "n")
    )
    people = {u.pk: u for u in queries.specialists_for(membership)}
    out = [
        SpecialistRow(
            people.get(r["customer__specialist"]),
            r["customers"],
            r["owed"],
            r["overdue"],
            calls.get(r["customer__specialist"], 0),
        )
        for r in rows
    ]
    return sorted(out, key=lambda r: (r.user is None, -r.overdue))


def can_see_team(membership: Membership) -> bool:
    """Return whether the member sees the per-specialist table."""
    from sodium.roles import role_can

    return role_can(membership.role, Perm.MANAGE_AR)


def get_call_for_user(membership: Membership, run_id: int) -> ActionRun:
    """Return a call task the member may complete (their customer's, or any for a manager);
    Http404 otherwise."""
    from django.http import Http404

    run = (
        _runs(membership)
        .filter(pk=run_id, kind="call", state=RS.DONE)
        .select_related("assignment__customer__client")
        .first()
    )
    if run is None:
        raise Http404("No such call.")
    return run
