"""The practice's flow settings: the daily digest and when overdue reminders stop."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from checks.flows import digest
from checks.forms import FlowSettingsForm
from sodium.roles import Perm
from sodium.schedules.practice import today_for
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_FLOWS)
def flow_settings(request: HtmxHttpRequest) -> HttpResponse:
    """Show and change when the digest stops reminding of overdue runs."""
    practice = request.practice
    current = digest.settings_for(practice)
    initial = {"overdue_reminder_days": current.overdue_reminder_days}
    form = FlowSettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["overdue_reminder_days"]
        try:
            digest.set_overdue_reminder_days(practice, days, actor=request.user)
        except digest.DigestError as exc:
            for field, error in exc.errors.items():
                form.add_error(field, error)
        else:
            messages.success(request, "Saved the flow settings.")
            return redirect("checks:flow-settings")
    context = {
        "form": form,
        "current": current,
        "digest_key": digest.DIGEST,
        "digest_time": digest.DIGEST_TIME,
        "due_soon_days": digest.DUE_SOON_DAYS,
        "today": today_for(practice),
    }
    return render(request, "checks/flows/settings.html", context)
