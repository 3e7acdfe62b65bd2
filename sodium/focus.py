"""The slide-out focus panel, a core part any app's item opens in (workflow steps now, flow
runs and AR calls next).

A page that opens items includes `sodium/focus/_host.html` (the empty `#focus-panel`); a link
with `hx-get` to the app's panel URL and `hx-target="#focus-panel" hx-swap="outerHTML"` loads
the panel, whose template extends `sodium/focus/_shell.html` (close button, title, flash,
body). `static/js/focus.js` does the rest (loading state, Esc, focus kept across actions).
The app's view answers htmx with the panel alone and anything else with `render_focus_page`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

PAGE = "sodium/focus/page.html"


def render_focus_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    title: str,
    crumbs: Sequence[tuple[str, str]] = (),
) -> HttpResponse:
    """Render an app's panel template as a page of its own, under breadcrumbs."""
    return render(
        request,
        PAGE,
        {
            **context,
            "as_page": True,
            "focus_template": template,
            "focus_page_title": title,
            "crumbs": crumbs,
        },
    )
