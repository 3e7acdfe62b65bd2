from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sodium import queries
from sodium.panels import render_dashboard_cards
from sodium.roles import Perm
from sodium.tenancy import role_required


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def dashboard(request: HttpRequest) -> HttpResponse:
    practice = request.practice
    return render(
        request,
        "sodium/dashboard.html",
        {
            "figures": queries.dashboard_figures(practice, request.user),
            "my_tasks": queries.my_open_tasks(practice, request.user),
            "overdue": queries.overdue_tasks(practice),
            "activity": queries.recent_activity(practice, limit=12),
            "cards": render_dashboard_cards(request),
        },
    )
