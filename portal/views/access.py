"""Getting in and out of the portal: sign-in links by email, link landing pages, sign-out.

Opening a link (GET) only shows a page; the contact's click on its button (POST with CSRF)
signs them in, because mail scanners open links too.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from portal import access, queries
from portal.forms import SignInLinkForm
from portal.models import AccessToken
from portal.sign_in import email_sign_in_link
from portal.views.common import (
    LAST_PRACTICE_KEY,
    item_url,
    remembered_practice,
    render_portal,
)
from sodium import ratelimit
from sodium.models import Practice
from sodium.tenancy import practice_scope

# Sign-in link requests allowed per address and per network address in one window.
LIMIT_WINDOW = 15 * 60
LIMIT_PER_EMAIL = 5
LIMIT_PER_IP = 20
SIGNED_OUT = "You have signed out."


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest, practice_slug: str) -> HttpResponse:
    """Ask for an email address and send a sign-in link to it if it is a contact's."""
    practice = get_object_or_404(Practice, slug=practice_slug)
    url = reverse("portal:sign-in", args=[practice.slug])
    form = SignInLinkForm()
    if request.method == "POST":
        if not ratelimit.hit(
            f"portal:sign-in:ip:{ratelimit.client_ip(request)}", LIMIT_PER_IP, LIMIT_WINDOW
        ):
            return _too_many(request, practice)
        form = SignInLinkForm(request.POST)
        if form.is_valid():
            email = form.cleaned_data["email"].strip().lower()
            if not ratelimit.hit(f"portal:sign-in:email:{email}", LIMIT_PER_EMAIL, LIMIT_WINDOW):
                return _too_many(request, practice)
            # The same answer whether or not the address is known: no probing for clients.
            email_sign_in_link(practice, email)
            return redirect(f"{url}?sent=1")
    else:
        user = access.current(request)
        if user is not None and user.practice.pk == practice.pk:
            return redirect("portal:home")
    return render_portal(
        request,
        "portal/sign_in.html",
        {
            "form": form,
            "sent": request.method == "GET" and "sent" in request.GET,
            "sign_in_url": url,
        },
        practice=practice,
    )


def _too_many(request: HttpRequest, practice: Practice) -> HttpResponse:
    response = render_portal(request, "portal/too_many.html", practice=practice, status=429)
    response["Retry-After"] = str(LIMIT_WINDOW)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def link(request: HttpRequest, token: str) -> HttpResponse:
    """Show the landing page of an emailed link (GET); sign the contact in (POST)."""
    found = access.find_token(token, request)
    if found is None or found.contact.client.status != "active":
        return _link_refused(request, token, found)
    if request.method == "POST":
        if not access.sign_in(request, found):  # another click spent the sign-in link first
            return _link_refused(request, token, None)
        request.session[LAST_PRACTICE_KEY] = found.practice.slug
        return redirect(_target(found))
    user = access.current(request)
    if (
        user is not None
        and user.practice.pk == found.practice_id
        and user.contact_for(found.contact.client_id) == found.contact_id
    ):
        # Already signed in as this contact: nothing to confirm, and nothing changes. (The
        # same person signed in as another contact sharing the address continues through the
        # landing page, whose click makes them the contact this link was sent to.)
        return redirect(_target(found))
    title = ""
    if found.step is not None:
        with practice_scope(found.practice):
            title = queries.portal_title(found.step)
    return render_portal(
        request,
        "portal/link.html",
        {"contact": found.contact, "title": title, "token": token},
        practice=found.practice,
    )


def _target(found: AccessToken) -> str:
    if found.step_id:
        url = item_url(found.step_id)
        if url:
            return url
    return reverse("portal:home")


def _link_refused(request: HttpRequest, token: str, found: AccessToken | None) -> HttpResponse:
    if found is not None:  # usable, but the client no longer works with the practice
        practice, status, reason = found.practice, 410, "closed"
    else:
        spent = queries.spent_token(token)
        practice = spent.practice if spent is not None else None
        user = access.current(request)
        if practice is not None and user is not None and user.practice.pk == practice.pk:
            # A used sign-in link, opened again by someone already signed in: let them in.
            return redirect("portal:home")
        status = 410 if spent is not None else 404
        reason = _why_spent(spent)
        practice = practice or remembered_practice(request)
    return render_portal(
        request, "portal/link_refused.html", {"reason": reason}, practice=practice, status=status
    )


def _why_spent(spent: AccessToken | None) -> str:
    if spent is None:
        return "unknown"
    if spent.revoked_at is not None and spent.revoked_at == spent.last_used_at:
        return "used"  # a sign-in link, spent by its click
    if spent.revoked_at is not None:
        return "withdrawn"
    return "expired"


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """End the portal session and go back to the practice's sign-in page."""
    user = access.current(request)
    practice = user.practice if user is not None else remembered_practice(request)
    access.sign_out(request)
    if practice is None:
        return render_portal(
            request, "portal/no_session.html", {"heading": SIGNED_OUT}, practice=None
        )
    messages.success(request, SIGNED_OUT)
    return redirect("portal:sign-in", practice.slug)
