"""The AR settings page (managers)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from collections_ar import settings_page
from collections_ar.errors import ARError
from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_AR)
def ar_settings(request: HtmxHttpRequest) -> HttpResponse:
    """Show and save the sending window, the resume rule and the promise grace days."""
    row = settings_page.current(request.practice)
    form = settings_page.ARSettingsForm(
        request.POST if request.method == "POST" else None, initial=settings_page.initial(row)
    )
    if request.method == "POST" and form.is_valid():
        try:
            settings_page.save_settings(request.practice, actor=request.user, **form.cleaned_data)
        except ARError as exc:
            for field, error in exc.errors.items():
                form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, "Saved the AR settings.")
            return redirect("collections_ar:settings")
    return render(request, "collections_ar/settings.html", {"form": form})
