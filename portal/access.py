"""Portal access: emailed links with random tokens, and the portal session they open.

Tokens carry 256 bits from `secrets`, are stored only as SHA-256 hashes, expire, and can be
revoked. A sign-in link works once; a link in a step email works until it expires. Opening a
link (GET) never changes anything; the page it shows posts back (with CSRF) to sign the
contact in. The portal identity is (practice, email): a person who is a contact at several
clients of the practice sees all of their items.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from portal.models import AccessToken
from sodium import activity
from sodium.models import Contact, Practice

SIGN_IN_TTL = dt.timedelta(minutes=30)
STEP_LINK_TTL = dt.timedelta(days=45)
SESSION_TTL = dt.timedelta(hours=8)
# How long the browser that spent a sign-in link may use it again (a double-click).
SPENT_GRACE = dt.timedelta(minutes=2)
_SESSION_KEY = "sodium_portal"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    contact: Contact, *, purpose: str, step=None, ttl: dt.timedelta | None = None
) -> str:
    """Create a token for `contact` and return it (the only time it exists in clear)."""
    token = secrets.token_urlsafe(32)  # 256 bits
    if ttl is None:
        ttl = SIGN_IN_TTL if purpose == AccessToken.Purpose.SIGN_IN else STEP_LINK_TTL
    AccessToken.objects.create(
        practice_id=contact.practice_id,
        contact=contact,
        step=step,
        purpose=purpose,
        token_hash=_hash(token),
        expires_at=timezone.now() + ttl,
    )
    return token


def link_for(token: str) -> str:
    """Return the absolute URL of the landing page for `token`."""
    return f"{settings.SITE_URL}{reverse('portal:link', kwargs={'token': token})}"


def step_link(contact: Contact, step) -> str:
    """Return a fresh link that opens `step` in the portal for `contact`."""
    return link_for(issue_token(contact, purpose=AccessToken.Purpose.STEP, step=step))


def confirm_link(contact: Contact, step) -> str:
    """Return a fresh link to the branded confirmation page of a client-confirmation step."""
    token = issue_token(contact, purpose=AccessToken.Purpose.STEP, step=step)
    return f"{settings.SITE_URL}{reverse('portal:confirm', kwargs={'token': token})}"


def find_token(token: str, request: HttpRequest | None = None) -> AccessToken | None:
    """Return the usable token matching `token`, or None (unknown, expired or revoked).

    A sign-in link spent in the last SPENT_GRACE by the browser making `request` counts as
    usable for that browser.
    """
    if not token or len(token) > 100:
        return None
    # Cross-tenant on purpose: the token itself says which practice it belongs to.
    with scopes_disabled():
        found = (
            AccessToken.objects.filter(token_hash=_hash(token))
            .select_related("contact", "contact__client", "practice", "step")
            .first()
        )
    if found is None:
        return None
    if found.is_usable or (request is not None and _spent_here(found, request)):
        return found
    return None


def _browser(request: HttpRequest) -> str:
    # The CSRF cookie identifies the browser that opened the link page; "" when it has none.
    cookie = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")
    return hashlib.sha256(cookie.encode()).hexdigest() if cookie else ""


def _spent_here(found: AccessToken, request: HttpRequest) -> bool:
    browser = _browser(request)
    return bool(
        browser
        and found.spent_by == browser
        and found.last_used_at is not None
        and found.last_used_at > timezone.now() - SPENT_GRACE
        and found.expires_at > timezone.now()
    )


def revoke_tokens(contact: Contact) -> int:
    """Revoke every live token of a contact (e.g. when their address changes)."""
    return (
        AccessToken.objects.with_scopes_disabled()
        .filter(contact_id=contact.pk, revoked_at__isnull=True)
        .update(revoked_at=timezone.now())
    )


def revoke_links_sent_to_an_old_address(contact: Contact, actor) -> None:
    """Revoke the links emailed to a contact's previous address (its address just changed).

    The person reading the old mailbox may no longer be the contact. Their portal session
    ends too: `current` matches the session's address, which no contact has any more.
    """
    revoked = revoke_tokens(contact)
    if revoked:
        activity.record(
            practice=contact.practice_id,
            actor=actor,
            verb="contact.portal_links_revoked",
            client=contact.client,
            obj=contact,
            summary=f"Revoked {revoked} portal link{pluralize(revoked)} sent to "
            f"{contact.full_name}'s previous address",
        )


# --- the portal session --------------------------------------------------------------------


@dataclass(frozen=True)
class PortalUser:
    practice: Practice
    email: str
    contact_ids: tuple[int, ...]
    client_ids: tuple[int, ...]
    name: str
    first_name: str = ""


def sign_in(request: HttpRequest, access: AccessToken) -> bool:
    """Open a portal session for the token's contact (call on POST only); True when it did.

    A sign-in link is spent by its first use, by compare-and-set: of two browsers clicking at
    once, one signs in and the other gets False; the browser that spent it may click again
    for SPENT_GRACE (a double-click). Links in step emails stay usable until they expire.
    """
    now = timezone.now()
    token = AccessToken.objects.with_scopes_disabled().filter(pk=access.pk)
    if access.purpose == AccessToken.Purpose.SIGN_IN:
        browser = _browser(request)
        spent = token.filter(revoked_at__isnull=True).update(
            last_used_at=now, revoked_at=now, spent_by=browser
        )
        if not spent:
            fresh = token.first()
            if fresh is None or not _spent_here(fresh, request):
                return False
    else:
        token.update(last_used_at=now)
    request.session.cycle_key()
    request.session[_SESSION_KEY] = {
        "practice": access.practice_id,
        "email": access.contact.email.lower(),
        "contact": access.contact_id,
        "expires": (now + SESSION_TTL).timestamp(),
    }
    return True


def sign_out(request: HttpRequest) -> None:
    request.session.pop(_SESSION_KEY, None)
    request.session.cycle_key()


def current(request: HttpRequest) -> PortalUser | None:
    """Return who is signed in to the portal, or None when nobody is or the session expired."""
    data = request.session.get(_SESSION_KEY)
    if not data or data.get("expires", 0) < timezone.now().timestamp():
        return None
    with scopes_disabled():
        practice = Practice.objects.filter(pk=data["practice"]).first()
        if practice is None:
            return None
        contacts = list(
            Contact.objects.filter(practice=practice, email__iexact=data["email"])
            .exclude(email="")
            .select_related("client")
        )
    contacts = [c for c in contacts if c.client.status == "active"]
    if not contacts:
        return None
    main = next((c for c in contacts if c.pk == data["contact"]), contacts[0])
    return PortalUser(
        practice=practice,
        email=data["email"],
        contact_ids=tuple(c.pk for c in contacts),
        client_ids=tuple(sorted({c.client_id for c in contacts})),
        name=main.full_name,
        first_name=main.first_name,
    )


def contact_for_sign_in(practice: Practice, email: str) -> Contact | None:
    """Return a contact of an active client of `practice` with this email, if any."""
    email = email.strip().lower()
    if not email:
        return None
    with scopes_disabled():
        return (
            Contact.objects.filter(practice=practice, email__iexact=email, client__status="active")
            .order_by("-is_main", "pk")
            .first()
        )
