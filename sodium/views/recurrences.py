"""Recurring work: the list of recurrences, the editor with its live preview, pause and resume."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sodium import queries, recurring
from sodium.models import Recurrence, Task
from sodium.recurrence_forms import RecurrenceForm
from sodium.recurrence_preview import build_preview
from sodium.roles import Perm
from sodium.schedules import words
from sodium.schedules.errors import ScheduleError
from sodium.schedules.rules import schedule_from_json
from sodium.services import recurrences as services
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest

EDITOR = "sodium/recurrence_form.html"


def _describe(recurrence: Recurrence) -> str:
    try:
        return words.describe(schedule_from_json(recurrence.schedule), recurrence.working_day_rule)
    except ScheduleError:
        return "The schedule cannot be read."


def _clients_words(recurrence: Recurrence, chosen: int) -> str:
    selection = recurrence.client_selection
    if selection == Recurrence.Clients.SERVICE and recurrence.service_id:
        return f"Clients with {recurrence.service.name}"
    if selection == Recurrence.Clients.TAG and recurrence.tag_id:
        return f"Clients tagged {recurrence.tag.name}"
    if selection == Recurrence.Clients.CHOSEN:
        return f"{chosen} chosen client{'' if chosen == 1 else 's'}"
    return "All active clients"


def _state(recurrence: Recurrence) -> tuple[str, str]:
    """Return the recurrence's state as (words, chip tone)."""
    if recurrence.paused:
        return "Paused", "warn"
    if recurrence.next_run_at is None:
        return "Ended", "muted"
    return "Active", "ok"


@require_GET
@role_required(Perm.MANAGE_RECURRING)
def recurrence_list(request: HtmxHttpRequest) -> HttpResponse:
    recurrences = list(
        Recurrence.objects.filter(practice=request.practice)
        .select_related("service", "tag")
        .annotate(task_count=Count("occurrences", distinct=True))
        .annotate(chosen_count=Count("clients", distinct=True))
    )
    tz = ZoneInfo(request.practice.time_zone)
    now = timezone.now()
    for recurrence in recurrences:
        if recurrence.next_run_at is not None and not recurrence.paused:
            recurrence.next_on = recurrence.next_run_at.astimezone(tz).date()
            recurrence.next_is_now = recurrence.next_run_at <= now
        recurrence.words = _describe(recurrence)
        recurrence.clients_words = _clients_words(recurrence, recurrence.chosen_count)
        recurrence.state, recurrence.tone = _state(recurrence)
    return render(request, "sodium/recurrence_list.html", {"recurrences": recurrences})


def _preview_for(form: RecurrenceForm):
    recurrence = form.recurrence()
    if form.cleaned_data.get("client_selection") == Recurrence.Clients.CHOSEN:
        clients = form.chosen_clients()
    else:
        clients = recurring.selected_clients(recurrence)
    return build_preview(recurrence, clients)


def _editor(request: HtmxHttpRequest, form: RecurrenceForm, recurrence: Recurrence | None):
    context = {
        "form": form,
        "recurrence": recurrence,
        "preview": _preview_for(form) if form.is_bound and form.is_valid() else None,
    }
    if recurrence is not None:
        context.update(
            state=_state(recurrence),
            words=_describe(recurrence),
            tasks=Task.objects.filter(practice=request.practice, recurrence=recurrence)
            .select_related("client", "owner")
            .order_by("-start_date", "-pk")[:10],
            task_count=recurrence.occurrences.count(),
        )
    return render(request, EDITOR, context)


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_RECURRING)
def recurrence_create(request: HtmxHttpRequest) -> HttpResponse:
    form = RecurrenceForm(
        request.POST if request.method == "POST" else None, practice=request.practice
    )
    if request.method == "POST" and "preview" not in request.POST and form.is_valid():
        recurrence = services.create_recurrence(
            practice=request.practice,
            actor=request.user,
            clients=form.chosen_clients(),
            **form.fields_for_save(),
        )
        messages.success(request, f"Saved {recurrence.name}. Its first tasks come shortly.")
        return redirect("sodium:recurrence-edit", recurrence_id=recurrence.pk)
    return _editor(request, form, None)


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_RECURRING)
def recurrence_edit(request: HtmxHttpRequest, recurrence_id: int) -> HttpResponse:
    recurrence = queries.get_recurrence(request.practice, recurrence_id)
    if request.method == "POST":
        form = RecurrenceForm(request.POST, practice=request.practice)
    else:
        form = RecurrenceForm(
            initial=RecurrenceForm.initial_for(recurrence), practice=request.practice
        )
    if request.method == "POST" and "preview" not in request.POST and form.is_valid():
        services.update_recurrence(
            recurrence,
            actor=request.user,
            clients=form.chosen_clients(),
            **form.fields_for_save(),
        )
        messages.success(request, f"Saved {recurrence.name}. The change applies to new tasks.")
        return redirect("sodium:recurrence-edit", recurrence_id=recurrence.pk)
    return _editor(request, form, recurrence)


@require_POST
@role_required(Perm.MANAGE_RECURRING)
def recurrence_preview(request: HtmxHttpRequest) -> HttpResponse:
    """The editor's preview for the posted fields; saves nothing."""
    form = RecurrenceForm(request.POST, practice=request.practice, for_preview=True)
    preview = _preview_for(form) if form.is_valid() else None
    return render(request, f"{EDITOR}#recurrence-preview", {"form": form, "preview": preview})


@require_POST
@role_required(Perm.MANAGE_RECURRING)
def recurrence_pause(request: HtmxHttpRequest, recurrence_id: int) -> HttpResponse:
    recurrence = queries.get_recurrence(request.practice, recurrence_id)
    services.pause_recurrence(recurrence, actor=request.user)
    messages.success(request, f"Paused {recurrence.name}: it creates no tasks until resumed.")
    return redirect("sodium:recurrence-edit", recurrence_id=recurrence.pk)


@require_POST
@role_required(Perm.MANAGE_RECURRING)
def recurrence_resume(request: HtmxHttpRequest, recurrence_id: int) -> HttpResponse:
    recurrence = queries.get_recurrence(request.practice, recurrence_id)
    services.resume_recurrence(recurrence, actor=request.user)
    messages.success(request, f"Resumed {recurrence.name}: tasks are created again from today.")
    return redirect("sodium:recurrence-edit", recurrence_id=recurrence.pk)


# --- the client page's panel ---------------------------------------------------------------


def client_panel(request: HtmxHttpRequest, client) -> tuple[str, dict] | None:
    """The client page's "Recurring work": what repeats for the client and its next dates."""
    from sodium.recurrence_preview import next_dates_for_client, recurrences_for_client
    from sodium.roles import role_can

    rows = []
    for recurrence in recurrences_for_client(client):
        group, skipped = next_dates_for_client(recurrence, client, count=3)
        state, tone = _state(recurrence)
        rows.append(
            {
                "recurrence": recurrence,
                "group": group,
                "skipped": skipped,
                "state": state,
                "tone": tone,
            }
        )
    can_manage = role_can(getattr(request.membership, "role", None), Perm.MANAGE_RECURRING)
    if not rows and not can_manage:
        return None
    return "sodium/_recurring_work_panel.html", {"rows": rows, "can_manage": can_manage}
