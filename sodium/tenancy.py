"""Tenancy: every tenant-owned query runs inside one practice's scope, or fails loudly.

Tenant-owned models use `TenantManager`; a query through it outside `practice_scope(...)`
raises `django_scopes.ScopeError` instead of returning every practice's rows. Staff requests
are scoped by `PracticeMiddleware`; Celery tasks and commands open the scope themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect
from django_scopes import ScopedManager, ScopeError, get_scope, scope, scopes_disabled

from sodium.observability import context as log_context
from sodium.roles import role_can

if TYPE_CHECKING:
    from sodium.models import Membership, Practice

SESSION_KEY = "sodium_practice_id"


def TenantManager():  # noqa: N802 - reads like the manager class it builds
    """Return a manager whose queries are limited to the active practice scope."""
    return ScopedManager(practice="practice")


@contextmanager
def practice_scope(practice: Practice | int) -> Iterator[None]:
    """Run the block with tenant-owned queries limited to `practice`."""
    if practice is None:
        # django-scopes treats None as "no filter"; a missing practice must never mean "all".
        raise ValueError("practice_scope needs a practice")
    # Log lines inside the scope carry its practice (a portal request, a task, a sweep handler).
    token = log_context.enter_scope(practice)
    try:
        with scope(practice=practice):
            yield
    finally:
        log_context.exit_scope(token)


def current_practice_id() -> int | None:
    """Return the id of the practice in scope, or None when scopes are disabled.

    For the few hand-written SQL statements, which the scoped managers do not see: they add
    `practice_id = …` themselves. Raises ScopeError when no practice is in scope.
    """
    state = get_scope()
    if state.get("_enabled") is False:
        return None
    practice = state.get("practice")
    if practice is None:
        raise ScopeError("A practice scope needs to be active for this query.")
    return getattr(practice, "pk", practice)


def memberships_of(user) -> list[Membership]:
    """Return the user's memberships in every practice (the one deliberately cross-tenant read)."""
    from sodium.models import Membership

    with scopes_disabled():
        return list(
            Membership.objects.filter(user=user)
            .select_related("practice")
            .order_by("practice__name")
        )


def _active_membership(request: HttpRequest) -> Membership | None:
    # All of them in one query: the one chosen (else the first by practice name), and the
    # list the page header's practice switcher shows (request.memberships), read once.
    memberships = memberships_of(request.user)
    request.memberships = memberships
    wanted = request.session.get(SESSION_KEY) or request.user.last_practice_id
    if wanted:
        for membership in memberships:
            if membership.practice_id == wanted:
                return membership
    return memberships[0] if memberships else None


class PracticeMiddleware:
    """Attach `request.practice` and `request.membership` and scope the request to them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.practice = None
        request.membership = None
        if request.user.is_authenticated:
            membership = _active_membership(request)
            if membership is not None:
                request.membership = membership
                request.practice = membership.practice
                with (
                    practice_scope(membership.practice),
                    timezone.override(membership.practice.time_zone),
                ):
                    return self.get_response(request)
        # No practice: tenant-owned queries in this request fail loudly unless a view (the
        # portal) opens a scope of its own.
        return self.get_response(request)


def practice_required(view: Callable) -> Callable:
    """Require a signed-in user with a practice; send others to sign in or to a clear page.

    Every staff view goes through here, so this is also where two-factor sign-in is enforced:
    a member with an authenticator app enters a code first, and a member whose practice
    requires one sets it up first (only views marked `two_factor_setup_view` open before).
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        from sodium import two_factor

        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        step = two_factor.missing_step(request)
        if step == two_factor.VERIFY:
            # After the code, back to the page the member was on (not an htmx partial's URL).
            htmx = getattr(request, "htmx", None)
            here = (htmx.current_url_abs_path if htmx else None) or request.get_full_path()
            return _go(request, "sodium:two-factor-verify", next=here)
        if request.practice is None:
            return render(request, "sodium/no_practice.html", status=403)
        if step == two_factor.SET_UP and not getattr(view, "two_factor_setup_view", False):
            return _go(request, "sodium:two-factor")
        return view(request, *args, **kwargs)

    return wrapper


def two_factor_setup_view(view: Callable) -> Callable:
    """Mark a view that a member who must set up two-factor sign-in may open before that."""
    view.two_factor_setup_view = True
    return view


def _go(request: HttpRequest, name: str, **query: str) -> HttpResponse:
    url = reverse(name) + (f"?{urlencode(query)}" if query else "")
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def role_required(perm: str) -> Callable[[Callable], Callable]:
    """Require a practice membership whose role carries `perm` (see `sodium.roles`)."""

    def decorator(view: Callable) -> Callable:
        @practice_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not role_can(request.membership.role, perm):
                raise PermissionDenied("Your role does not allow this.")
            return view(request, *args, **kwargs)

        wrapper.required_perm = perm  # read by the isolation test and the nav
        return wrapper

    return decorator


def switch_practice(request: HttpRequest, practice_id: int) -> bool:
    """Make `practice_id` the active practice if the user belongs to it; return success."""
    if any(m.practice_id == practice_id for m in memberships_of(request.user)):
        request.session[SESSION_KEY] = practice_id
        get_user_model().objects.filter(pk=request.user.pk).update(last_practice=practice_id)
        return True
    return False
