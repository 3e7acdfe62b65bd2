"""My work: everything a person has to do, from every app that registered a work source."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest, paginate, partial
from sodium.work import work_for


@require_GET
@vary_on_headers("HX-Request")
@role_required(Perm.VIEW_PRACTICE)
def my_work(request: HtmxHttpRequest) -> HttpResponse:
    """List the member's work items, soonest due first; an item with a focus panel opens in it."""
    return render(
        request,
        partial(request, "sodium/work_list.html", "work-table"),
        {
            "page": paginate(request, work_for(request, request.user)),
            "today": timezone.localdate(),
        },
    )
