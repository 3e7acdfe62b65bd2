"""What every portal view shares: who is signed in, the practice's branding, the scope."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from portal import access
from portal.access import PortalUser
from sodium.models import Practice
from sodium.tenancy import practice_scope

# The slug of the practice whose portal this browser last signed in to, kept past sign-out
# and session expiry so we can send the person back to the right sign-in page.
LAST_PRACTICE_KEY = "sodium_portal_last_practice"

_INK = "#1b2430"
_WHITE = "#ffffff"


class PortalRequest(HttpRequest):
    portal_user: PortalUser


def portal_login_required(view: Callable) -> Callable:
    """Require a live portal session; run the view inside its practice's scope and time zone.

    Sets `request.portal_user`. Without a session (never signed in, expired, signed out) the
    person goes to their practice's sign-in page, or sees a plain "session ended" page when
    we do not know the practice.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = access.current(request)
        if user is None:
            return session_ended(request)
        request.portal_user = user
        with practice_scope(user.practice), timezone.override(user.practice.time_zone):
            return view(request, *args, **kwargs)

    return wrapper


def remembered_practice(request: HttpRequest) -> Practice | None:
    slug = request.session.get(LAST_PRACTICE_KEY)
    return Practice.objects.filter(slug=slug).first() if slug else None


def session_ended(request: HttpRequest) -> HttpResponse:
    practice = remembered_practice(request)
    if practice is not None:
        messages.info(request, "Your session has ended. Ask for a new sign-in link below.")
        return redirect("portal:sign-in", practice.slug)
    return render_portal(
        request,
        "portal/no_session.html",
        {"heading": "Your session has ended"},
        practice=None,
        status=403,
    )


def render_portal(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    practice: Practice | None,
    status: int = 200,
) -> HttpResponse:
    """Render a portal page in `practice`'s branding (the neutral look when None)."""
    full = {
        "practice": practice,
        "portal_user": getattr(request, "portal_user", None),
        **brand_colours(practice.primary_colour if practice else ""),
        **(context or {}),
    }
    return render(request, template, full, status=status)


def item_url(step_id: int) -> str:
    """Return the portal page of a step."""
    return reverse("portal:item", kwargs={"step_id": step_id})


# --- branding ----------------------------------------------------------------------------------


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: float, b: float) -> float:
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)


def brand_colours(colour: str) -> dict[str, str]:
    """Return the brand colour and readable companions for it (WCAG contrast).

    `brand_contrast` is the text colour on a brand background; `brand_text` is the brand
    colour itself when it reads on white (links), otherwise the normal ink colour.
    """
    if len(colour) != 7 or not colour.startswith("#"):
        colour = "#1f5fbf"
    try:
        lum = _luminance(colour)
    except ValueError:
        colour, lum = "#1f5fbf", _luminance("#1f5fbf")
    on_white = _contrast(lum, 1.0)
    return {
        "brand": colour,
        "brand_contrast": _WHITE if on_white >= _contrast(lum, _luminance(_INK)) else _INK,
        "brand_text": colour if on_white >= 4.5 else _INK,
    }
