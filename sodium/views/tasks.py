"""Task list, task page, and creating, editing and moving tasks."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from sodium import bulk, engine, queries
from sodium.forms import TaskFilterForm, TaskForm
from sodium.models import Client
from sodium.panels import render_task_list_extensions, render_task_panels
from sodium.roles import Perm, role_can
from sodium.tenancy import role_required
from sodium.views.common import PAGE_SIZE, HtmxHttpRequest, partial


def list_filters(request: HtmxHttpRequest, params: QueryDict) -> tuple[TaskFilterForm, QuerySet]:
    """Return the task list's filter form over `params` and the tasks it matches."""
    practice = request.practice
    filters = TaskFilterForm(params or None, practice=practice)
    owner = None
    status, search = "open", ""
    if filters.is_valid():
        status = filters.cleaned_data["status"] or "open"
        search = filters.cleaned_data["q"]
        chosen = filters.cleaned_data["owner"]
        if chosen == "me":
            owner = request.user
        elif chosen:
            owner = queries.members_of(practice).filter(pk=chosen).first()
    return filters, queries.tasks_for_list(practice, search=search, status=status, owner=owner)


def list_context(
    request: HtmxHttpRequest,
    params: QueryDict,
    *,
    bulk_forms: dict | None = None,
    bulk_errors: list[str] | None = None,
    selected: set[int] | None = None,
) -> dict:
    """Return the task list page's context for the filters and page in `params`.

    The bulk action view shows the same page again, with its errors, when its input is bad.
    """
    filters, tasks = list_filters(request, params)
    page = Paginator(tasks, PAGE_SIZE).get_page(params.get("page"))
    page.object_list = list(page.object_list)
    # Columns apps add (the workflow's progress), loaded once for the whole page.
    extra_headings = render_task_list_extensions(request, page.object_list)
    query = params.copy()
    for name in list(query):
        if name not in ("q", "status", "owner"):
            query.pop(name)
    can_bulk = bulk.may_bulk_edit(request.membership.role)
    context = {
        "page": page,
        "extra_headings": extra_headings,
        "filters": filters,
        "query": query.urlencode(),
        "can_bulk": can_bulk,
    }
    if can_bulk:
        forms = bulk_forms or {}
        context["bulk_actions"] = [
            (action, forms.get(action.key) or action.make_form(request.practice))
            for action in bulk.actions()
        ]
        context["bulk_own_only"] = not role_can(request.membership.role, Perm.BULK_EDIT_TASKS)
        context["bulk_errors"] = bulk_errors or []
        context["selected"] = selected or set()
        context["bulk_filter"] = [(name, query.get(name)) for name in ("q", "status", "owner")]
    return context


@require_GET
@vary_on_headers("HX-Request")
@role_required(Perm.VIEW_PRACTICE)
def task_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(
        request,
        partial(request, "sodium/task_list.html", "task-table"),
        list_context(request, request.GET),
    )


@require_http_methods(["GET", "POST"])
@role_required(Perm.EDIT_TASKS)
def task_create(request: HtmxHttpRequest) -> HttpResponse:
    initial = {"owner": request.user.pk}
    client_id = request.GET.get("client", "")
    if client_id.isdigit():
        client = Client.objects.filter(practice=request.practice, pk=client_id).first()
        if client is not None:
            initial["client"] = client.pk
    form = TaskForm(
        request.POST if request.method == "POST" else None,
        practice=request.practice,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        client = data.pop("client")
        task = engine.create_task(
            practice=request.practice, client=client, actor=request.user, **data
        )
        messages.success(request, f"Created {task.name}.")
        return redirect("sodium:task-detail", task_id=task.pk)
    return render(request, "sodium/task_form.html", {"form": form})


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def task_detail(request: HtmxHttpRequest, task_id: int) -> HttpResponse:
    task = queries.get_task(request.practice, task_id)
    return render(
        request,
        "sodium/task_detail.html",
        {
            "task": task,
            "moves": engine.allowed_transitions(task),
            "panels": render_task_panels(request, task),
            "activity": queries.recent_activity(request.practice, task=task, limit=30),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Perm.EDIT_TASKS)
def task_edit(request: HtmxHttpRequest, task_id: int) -> HttpResponse:
    task = queries.get_task(request.practice, task_id)
    form = TaskForm(
        request.POST if request.method == "POST" else None, instance=task, practice=request.practice
    )
    if request.method == "POST" and form.is_valid():
        task = queries.get_task(request.practice, task_id)
        engine.update_task(task, actor=request.user, **form.cleaned_data)
        messages.success(request, "Saved the task.")
        return redirect("sodium:task-detail", task_id=task.pk)
    return render(request, "sodium/task_form.html", {"form": form, "task": task})


@require_POST
@role_required(Perm.EDIT_TASKS)
def task_status(request: HtmxHttpRequest, task_id: int) -> HttpResponse:
    task = queries.get_task(request.practice, task_id)
    try:
        task = engine.change_task_status(
            task, to=request.POST.get("status", ""), actor=request.user
        )
    except engine.InvalidTransition as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The task is now {task.get_status_display().lower()}.")
    return redirect("sodium:task-detail", task_id=task.pk)
