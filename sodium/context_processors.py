from __future__ import annotations

from django.http import HttpRequest

from sodium import nav
from sodium.notifications import unread_count
from sodium.roles import Perm, role_can
from sodium.tenancy import memberships_of


def practice(request: HttpRequest) -> dict:
    """Give every staff page the active practice, the user's other practices and their powers."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"practice": None, "membership": None}
    role = membership.role
    return {
        "practice": membership.practice,
        "membership": membership,
        # PracticeMiddleware read them already when it chose the practice.
        "my_memberships": lambda: (
            getattr(request, "memberships", None) or memberships_of(request.user)
        ),
        "can": {perm.value: role_can(role, perm) for perm in Perm},
        "unread_notifications": lambda: unread_count(membership.practice, request.user),
        # Worked out once a request, though the page shows the navigation twice.
        "nav": _once(lambda: nav.entries_for(request)),
    }


def _once(fn):
    """Return a callable that computes `fn()` the first time and then repeats its answer."""
    cache: list = []

    def value():
        if not cache:
            cache.append(fn())
        return cache[0]

    return value


def csp_nonce(request: HttpRequest) -> dict:
    """Give templates this request's CSP nonce as `csp_nonce` (django-htmx's script tag reads it).

    Lazy: the nonce joins the Content-Security-Policy header only when a template uses it.
    """
    return {"csp_nonce": getattr(request, "csp_nonce", None)}
