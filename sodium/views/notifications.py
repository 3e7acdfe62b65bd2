"""The member's notifications and their own account preferences."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sodium import reminders
from sodium.models import Notification, User
from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest, paginate


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def notification_list(request: HtmxHttpRequest) -> HttpResponse:
    notes = Notification.objects.filter(practice=request.practice, user=request.user)
    return render(request, "sodium/notification_list.html", {"page": paginate(request, notes)})


@require_POST
@role_required(Perm.VIEW_PRACTICE)
def notifications_read(request: HtmxHttpRequest) -> HttpResponse:
    count = Notification.objects.filter(
        practice=request.practice, user=request.user, read_at__isnull=True
    ).update(read_at=timezone.now())
    if count:
        messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return redirect("sodium:notification-list")


class AccountForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "email_notifications", "morning_reminder"]


@require_http_methods(["GET", "POST"])
@role_required(Perm.VIEW_PRACTICE)
def account(request: HtmxHttpRequest) -> HttpResponse:
    user = User.objects.get(pk=request.user.pk)
    form = AccountForm(request.POST if request.method == "POST" else None, instance=user)
    if request.method == "POST" and form.is_valid():
        User.objects.filter(pk=user.pk).update(**form.cleaned_data)
        reminders.set_morning_reminder(user, on=form.cleaned_data["morning_reminder"])
        messages.success(request, "Saved your preferences.")
        return redirect("sodium:account")
    return render(request, "sodium/account.html", {"form": form})
