"""My steps: the open steps assigned to me or to one of my teams, across tasks."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest, paginate, partial, query_without_page
from workflows import queries

SORTS = {"due": "Due date, soonest first", "-due": "Due date, latest first"}


@require_GET
@vary_on_headers("HX-Request")
@role_required(Perm.VIEW_PRACTICE)
def my_steps(request: HtmxHttpRequest) -> HttpResponse:
    """List my open steps, by due date (the step's deadline, else its task's due date)."""
    status = request.GET.get("status", "")
    if status not in queries.MY_STEP_FILTERS:
        status = ""
    sort = request.GET.get("sort", "due")
    if sort not in SORTS:
        sort = "due"
    team_ids = queries.team_ids_of(request.practice, request.user)
    steps = queries.steps_for_member(
        request.practice,
        request.user,
        status=status,
        newest_first=sort == "-due",
        team_ids=team_ids,
    )
    return render(
        request,
        partial(request, "workflows/my_steps.html", "my-steps-table"),
        {
            "page": paginate(request, steps),
            "status": status,
            "statuses": [(k, label) for k, (label, _s) in queries.MY_STEP_FILTERS.items()],
            "sort": sort,
            "sorts": SORTS,
            "has_teams": bool(team_ids),
            "today": timezone.localdate(),
            "query": query_without_page(request),
        },
    )
