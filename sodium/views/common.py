"""Small helpers shared by the core views."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


PAGE_SIZE = 25


def paginate(request: HttpRequest, queryset, per_page: int = PAGE_SIZE) -> Page:
    """Return the requested page, falling back to the first or last page on bad numbers."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def partial(request: HtmxHttpRequest, template: str, name: str) -> str:
    """Return `template#name` for an htmx request (not a history restore), else `template`."""
    if request.htmx and not request.htmx.history_restore_request:
        return f"{template}#{name}"
    return template


def query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
