"""The task list's bulk actions: change the chosen tasks (or all that match) in one go.

A plain form POST from the task list (it works without JavaScript; `static/js/bulk.js`
only ticks a page at once and counts). Bad input shows the list again with the error and
the ticks kept; a run ends on a summary page of what changed and what was refused, why.
"""

from __future__ import annotations

from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from sodium import bulk, queries
from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest
from sodium.views.tasks import list_context, list_filters

SESSION_KEY = "sodium_bulk_summary"
SHOWN = 200  # lines of each list the summary page keeps


def _ids(values: list[str]) -> list[int]:
    # Ids no column can hold are dropped, not looked up (SQLite overflows binding them).
    return sorted({int(v) for v in values if v.isascii() and v.isdigit() and len(v) <= 18})


@require_POST
@role_required(Perm.BULK_EDIT_OWN_TASKS)
def task_bulk(request: HtmxHttpRequest) -> HttpResponse:
    """Run one bulk action over the ticked tasks, or over every task the filter matches."""
    practice = request.practice
    post = request.POST
    action = bulk.ACTIONS.get(post.get("action", ""))
    errors: list[str] = []
    forms = {}
    form = None
    if action is None:
        errors.append("Choose what to do with the tasks.")
    else:
        form = forms[action.key] = action.make_form(practice, post)
        if not form.is_valid():
            errors.append(f"{action.label}: {_form_errors(form)}")
    every = post.get("all_matching") == "1"
    ticked = _ids(post.getlist("task"))
    if post.get("all_page") == "1":
        ticked = sorted(set(ticked) | set(_ids(post.getlist("page_task"))))
    if every:
        _, matching = list_filters(request, post)
        ids = queries.task_ids_matching(matching, bulk.MAX_TASKS + 1)
        if not ids:
            errors.append("No task matches this filter.")
    else:
        ids = ticked
        if not ids:
            errors.append("Tick the tasks to change, or choose all that match the filter.")
    if len(ids) > bulk.MAX_TASKS:
        errors.append(
            f"This would change more than {bulk.MAX_TASKS:,} tasks; one action changes at "
            f"most {bulk.MAX_TASKS:,}. Narrow the filter and try again."
        )
    if not errors:
        try:
            summary = bulk.apply(
                action,
                queries.tasks_chosen(practice, ids),
                form.cleaned_data,
                actor=request.user,
                role=request.membership.role,
                asked=len(ids),
            )
        except bulk.Refused as exc:
            errors.append(f"{action.label}: {exc} Nothing was changed.")
    if errors:
        context = list_context(
            request, post, bulk_forms=forms, bulk_errors=errors, selected=set(ticked)
        )
        return render(request, "sodium/task_list.html", context)
    stored = summary.as_session()
    stored["changed_more"] = max(len(stored["changed"]) - SHOWN, 0)
    stored["refused_more"] = max(len(stored["refused"]) - SHOWN, 0)
    stored["changed"] = stored["changed"][:SHOWN]
    stored["refused"] = stored["refused"][:SHOWN]
    stored["practice"] = practice.pk
    stored["back"] = reverse("sodium:task-list") + _filter_query(request)
    request.session[SESSION_KEY] = stored
    return redirect("sodium:task-bulk-summary")


def _filter_query(request: HtmxHttpRequest) -> str:
    query = QueryDict(mutable=True)
    for name in ("q", "status", "owner"):
        value = request.POST.get(name, "")
        if value:
            query[name] = value[:200]
    return f"?{query.urlencode()}" if query else ""


def _form_errors(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@require_GET
@role_required(Perm.BULK_EDIT_OWN_TASKS)
def task_bulk_summary(request: HtmxHttpRequest) -> HttpResponse:
    """Show what the last bulk action changed and what it refused, and why."""
    summary = request.session.get(SESSION_KEY)
    # A summary stays with the practice it was made in (a member may switch practices).
    if not summary or summary.get("practice") != request.practice.pk:
        return redirect("sodium:task-list")
    return render(request, "sodium/task_bulk_summary.html", {"summary": summary})
