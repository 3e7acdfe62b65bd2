"""The AR dashboard: today's calls (completed here with an outcome and, when the customer
promised, a promise to pay), notes, overdue money by age band, DSO, promises and bounces."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from collections_ar import dashboard, engine
from collections_ar.errors import ARError
from sodium.money import format_money
from sodium.roles import Perm
from sodium.schedules.practice import today_for
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest


@require_GET
@role_required(Perm.WORK_AR)
def ar_dashboard(request: HtmxHttpRequest) -> HttpResponse:
    """Show the member's AR work for today and how collections stand."""
    member = request.membership
    today = today_for(request.practice)
    since = timezone.now() - dt.timedelta(days=1)
    bands = dashboard.age_bands(member, today)
    trend = dashboard.dso_trend(member, today)
    context = {
        "today": today,
        "calls": dashboard.calls_for(member),
        "notes": dashboard.notes_since(member, since),
        "bands": bands,
        "owed": sum((b.amount for b in bands), start=Decimal("0.00")),
        "overdue": sum((b.amount for b in bands if b.key != "current"), start=Decimal("0.00")),
        "trend": trend,
        "dso": trend[-1].days if trend else None,
        "dso_before": trend[-2].days if len(trend) > 1 else None,
        "promises": dashboard.promises_due(member, today),
        "broken": dashboard.broken_promises(member, today),
        "bounced": dashboard.bounced(member, timezone.now() - dt.timedelta(days=30)),
        "team": dashboard.per_specialist(member, today),
        "sees_team": dashboard.can_see_team(member),
    }
    return render(request, "collections_ar/dashboard.html", context)


def _amount(raw: str) -> Decimal | None:
    try:
        return Decimal(raw.strip().replace(",", "").lstrip("£")) if raw.strip() else None
    except InvalidOperation:
        return Decimal("NaN")


@require_POST
@role_required(Perm.WORK_AR)
def call_complete(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """Record a call's outcome, and a promise to pay when one was made (both or neither)."""
    run = dashboard.get_call_for_user(request.membership, run_id)
    outcome = request.POST.get("outcome", "")
    amount = _amount(request.POST.get("promise_amount", ""))
    raw_date = request.POST.get("promise_date", "").strip()
    customer = run.assignment.customer
    try:
        with transaction.atomic():
            engine.complete_call(run, actor=request.user, outcome=outcome)
            if amount is not None or raw_date:
                try:
                    promised_on = dt.date.fromisoformat(raw_date)
                except ValueError:
                    msg = "Give the date the customer promised."
                    raise ARError({"promise_date": msg}) from None
                if amount is None:
                    raise ARError({"promise_amount": "Give the amount the customer promised."})
                engine.record_promise(
                    customer, actor=request.user, amount=amount, promised_on=promised_on
                )
    except ARError as exc:
        messages.error(request, f"{customer.client.name}: " + " ".join(exc.errors.values()))
    else:
        done = f"Call to {customer.client.name} recorded."
        if amount is not None:
            done += f" Promise of {format_money(amount)} recorded; chasing paused until then."
        messages.success(request, done)
    return redirect("collections_ar:dashboard")
