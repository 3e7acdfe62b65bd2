"""Data health: the practice's clients by score, and one client's checks and findings."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def health_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "checks/health_list.html", {})


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def client_health(request: HtmxHttpRequest, client_id: int) -> HttpResponse:
    return render(request, "checks/client_health.html", {})
