"""The portal's home page: what is waiting for the client, and what they already did."""

from __future__ import annotations

from dataclasses import replace

from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal import queries
from portal.views.common import PortalRequest, item_url, portal_login_required, render_portal


@never_cache
@require_GET
@portal_login_required
def home(request: PortalRequest) -> HttpResponse:
    user = request.portal_user
    items = queries.items_for_portal_user(user)
    waiting = [replace(i, url=item_url(i.step.pk)) for i in items.waiting]
    with_us = [replace(i, url=item_url(i.step.pk)) for i in items.with_us]
    done = [replace(i, url=item_url(i.step.pk)) for i in items.done]
    return render_portal(
        request,
        "portal/home.html",
        {
            "waiting": waiting,
            "with_us": with_us,
            "done": done,
            "several_clients": items.several_clients,
            "done_limit": queries.DONE_LIMIT,
        },
        practice=user.practice,
    )
