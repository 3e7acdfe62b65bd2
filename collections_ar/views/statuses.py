"""The practice's collection statuses: add, rename, reorder, default, alert, delete."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from collections_ar import engine, queries, statuses
from collections_ar.forms import StatusNameForm
from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest


def _page(request: HtmxHttpRequest, form: StatusNameForm, status: int = 200) -> HttpResponse:
    context = {
        "statuses": queries.statuses_with_use(request.membership),
        "managers": queries.alert_managers_for(request.membership),
        "form": form,
    }
    return render(request, "collections_ar/status_list.html", context, status=status)


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_AR)
def status_list(request: HtmxHttpRequest) -> HttpResponse:
    """List the collection statuses in order; POST adds one."""
    form = StatusNameForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            statuses.create_status(
                request.practice, actor=request.user, name=form.cleaned_data["name"]
            )
        except engine.ARError as exc:
            for field, error in exc.errors.items():
                form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, f"Added “{form.cleaned_data['name'].strip()}”.")
            return redirect("collections_ar:statuses")
    return _page(request, form)


def _done(request: HtmxHttpRequest, call, success: str) -> HttpResponse:
    try:
        call()
    except engine.ARError as exc:
        messages.error(request, " ".join(exc.errors.values()))
    else:
        messages.success(request, success)
    return redirect("collections_ar:statuses")


@require_POST
@role_required(Perm.MANAGE_AR)
def status_rename(request: HtmxHttpRequest, status_id: int) -> HttpResponse:
    """Rename a collection status."""
    status = queries.get_status_for_user(request.membership, status_id)
    name = request.POST.get("name", "")
    return _done(
        request,
        lambda: statuses.rename_status(status, actor=request.user, name=name),
        f"Renamed to “{name.strip()}”.",
    )


@require_POST
@role_required(Perm.MANAGE_AR)
def status_move(request: HtmxHttpRequest, status_id: int) -> HttpResponse:
    """Move a collection status one place up or down."""
    status = queries.get_status_for_user(request.membership, status_id)
    up = request.POST.get("direction") != "down"
    return _done(
        request,
        lambda: statuses.move_status(status, actor=request.user, up=up),
        f"Moved “{status.name}” {'up' if up else 'down'}.",
    )


@require_POST
@role_required(Perm.MANAGE_AR)
def status_default(request: HtmxHttpRequest, status_id: int) -> HttpResponse:
    """Make a collection status the default for new invoices."""
    status = queries.get_status_for_user(request.membership, status_id)
    return _done(
        request,
        lambda: statuses.set_default_status(status, actor=request.user),
        f"New invoices now get “{status.name}”.",
    )


@require_POST
@role_required(Perm.MANAGE_AR)
def status_alert(request: HtmxHttpRequest, status_id: int) -> HttpResponse:
    """Choose the manager alerted when a collection status is applied (or nobody)."""
    status = queries.get_status_for_user(request.membership, status_id)
    raw = request.POST.get("alert_user", "")
    managers = {str(u.pk): u for u in queries.alert_managers_for(request.membership)}
    if raw and raw not in managers:
        messages.error(request, "Choose a member who manages accounts receivable.")
        return redirect("collections_ar:statuses")
    user = managers.get(raw)
    return _done(
        request,
        lambda: statuses.set_status_alert(status, user, actor=request.user),
        f"“{status.name}” alerts {user}." if user else f"“{status.name}” alerts nobody.",
    )


@require_POST
@role_required(Perm.MANAGE_AR)
def status_delete(request: HtmxHttpRequest, status_id: int) -> HttpResponse:
    """Delete a collection status no invoice uses (never the default)."""
    status = queries.get_status_for_user(request.membership, status_id)
    name = status.name
    return _done(
        request, lambda: statuses.delete_status(status, actor=request.user), f"Deleted “{name}”."
    )
