"""One flow run: its checks, worked by the assignee, and its review."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from checks.flows import queries
from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def run_detail(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    run = queries.get_run(request.practice, run_id)
    checks = list(run.run_checks.select_related("completed_by"))
    return render(request, "checks/flows/run_detail.html", {"run": run, "checks": checks})
