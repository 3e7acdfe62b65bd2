"""Portal access: emailed links with random tokens, and the portal session they open.

A token is derived from a random nonce (128 bits from `secrets`, kept on its AccessToken row)
and the server's SECRET_KEY (HMAC-SHA256), and only its SHA-256 hash is stored. Emails are
stored in the outbox with a placeholder where the token goes (`issue_link`), and the token is
derived again and joined in only when the email is sent (`secret_for_message`), so neither the
token table nor the outbox nor a backup of them holds a token that opens the portal. Tokens
expire, and can be revoked. A sign-in link works once; a link in a step email works until it
expires. Opening a link (GET) never changes anything; the page it shows posts back (with
CSRF) to sign the contact in. The portal identity is (practice, email): a person who is a
contact at several clients of the practice sees all of their items.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_scopes import scopes_disabled

from portal.models import AccessToken
from sodium import activity, outbox
from sodium.models import Contact, OutboundMessage, Practice

SIGN_IN_TTL = dt.timedelta(minutes=30)
STEP_LINK_TTL = dt.timedelta(days=45)
SESSION_TTL = dt.timedelta(hours=8)
# How long the browser that spent a sign-in link may use it again (a double-click).
SPENT_GRACE = dt.timedelta(minutes=2)
_SESSION_KEY = "sodium_portal"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _derive(nonce: str, secret: str | None = None) -> str:
    """Return the token of `nonce`: 256 bits of HMAC-SHA256 keyed with SECRET_KEY."""
    digest = salted_hmac(
        "sodium.portal.AccessToken", nonce, secret=secret, algorithm="sha256"
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _derive_again(access: AccessToken) -> str | None:
    """Return the token of an issued row, or None when no key derives it any more.

    SECRET_KEY may have been rotated since (SECRET_KEY_FALLBACKS keep older keys working).
    """
    for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        token = _derive(access.nonce, secret)
        if hmac.compare_digest(_hash(token), access.token_hash):
            return token
    return None


def _issue(
    contact: Contact, *, purpose: str, step=None, ttl: dt.timedelta | None = None
) -> AccessToken:
    if ttl is None:
        ttl = SIGN_IN_TTL if purpose == AccessToken.Purpose.SIGN_IN else STEP_LINK_TTL
    nonce = secrets.token_hex(16)  # 128 bits
    return AccessToken.objects.create(
        practice_id=contact.practice_id,
        contact=contact,
        step=step,
        purpose=purpose,
        nonce=nonce,
        token_hash=_hash(_derive(nonce)),
        expires_at=timezone.now() + ttl,
    )


def issue_token(
    contact: Contact, *, purpose: str, step=None, ttl: dt.timedelta | None = None
) -> str:
    """Create a token for `contact` and return it in clear (for links not sent by email)."""
    return _derive(_issue(contact, purpose=purpose, step=step, ttl=ttl).nonce)


def issue_link(contact: Contact, *, purpose: str, step=None, view: str = "portal:link") -> str:
    """Create a token for `contact` and return the link to `view` as an email stores it.

    The link holds a placeholder where the token goes: the outbox joins the token in when it
    sends the email (to the contact's address only), so the stored body opens nothing.
    The portal registers `secret_for_message` as the outbox's resolver for it.
    """
    access = _issue(contact, purpose=purpose, step=step)
    placeholder = outbox.secret_placeholder(SECRET_KIND, f"{access.pk}.{access.nonce}")
    return _absolute(view, placeholder)


def _absolute(view: str, token: str) -> str:
    # Reversed with a stand-in: the placeholder's braces are not a valid path segment.
    path = reverse(view, kwargs={"token": "TOKEN"}).replace("TOKEN", token)
    return f"{settings.SITE_URL}{path}"


def link_for(token: str) -> str:
    """Return the absolute URL of the landing page for `token`."""
    return _absolute("portal:link", token)


def step_link(contact: Contact, step) -> str:
    """Return a fresh link (as stored in an email) that opens `step` for `contact`."""
    return issue_link(contact, purpose=AccessToken.Purpose.STEP, step=step)


def confirm_link(contact: Contact, step) -> str:
    """Return a fresh link (as stored in an email) to a confirmation step's page."""
    return issue_link(contact, purpose=AccessToken.Purpose.STEP, step=step, view="portal:confirm")


SECRET_KIND = "portal"


def secret_for_message(message: OutboundMessage, ref: str, sending: bool) -> str | None:
    """Return the token of placeholder `ref` ("<token id>.<nonce>") in `message`, or None.

    Joined in only for a token of the message's practice issued to one of its recipients
    (a placeholder typed into a template cannot send someone else's link), and, when
    sending, only while the token is usable (a withdrawn link is not sent).
    """
    token_id, _, nonce = ref.partition(".")
    if not token_id.isdigit() or not nonce:
        return None
    with scopes_disabled():  # the delivery runs in the message's scope; the ids say the rest
        found = (
            AccessToken.objects.filter(pk=int(token_id), practice_id=message.practice_id)
            .select_related("contact")
            .first()
        )
    if found is None or not found.nonce or not hmac.compare_digest(found.nonce, nonce):
        return None
    recipients = {a.lower() for a in [*message.to, *message.cc]}
    if found.contact.email.lower() not in recipients:
        return None
    if sending and not found.is_usable:
        return None
    return _derive_again(found)


def renew_for_resend(message: OutboundMessage, ref: str, new_address: str) -> str | None:
    """Revoke the token of placeholder `ref` in a bounced `message` and return the ref of a
    fresh one (same contact, step and purpose) for the email sent again to `new_address`.

    None (the resend is refused) when the ref names no token of the message's practice, or its
    contact's address is not `new_address` (the link would not be joined in). The old token
    is revoked whatever its state: the bounced email's link must not open the portal.
    """
    token_id, _, nonce = ref.partition(".")
    if not token_id.isdigit() or not nonce:
        return None
    old = (
        AccessToken.objects.filter(pk=int(token_id), practice_id=message.practice_id)
        .select_related("contact")
        .first()
    )
    if old is None or not hmac.compare_digest(old.nonce, nonce):
        return None
    AccessToken.objects.filter(pk=old.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if old.contact.email.lower() != new_address.strip().lower():
        return None
    fresh = _issue(old.contact, purpose=old.purpose, step=old.step)
    return f"{fresh.pk}.{fresh.nonce}"


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
    """Who is signed in: one person (an address), who may be several contacts of the practice.

    Two contacts of one client can share an address. The person is shown and credited as one
    identity: the contact they signed in as (the one their link was sent to), and at another
    of their clients the contact `contact_for` picks.
    """

    practice: Practice
    email: str
    contact_ids: tuple[int, ...]
    client_ids: tuple[int, ...]
    name: str
    first_name: str = ""
    # (client id, contact id) in order of preference: the signed-in contact first.
    contacts_by_client: tuple[tuple[int, int], ...] = ()

    def contact_for(self, client_id: int) -> int | None:
        """Return the id of the contact that acts for the person at `client_id`."""
        return next((c for cl, c in self.contacts_by_client if cl == client_id), None)


def preferred(contacts) -> list[Contact]:
    """Return `contacts` sharing an address in the order the portal picks one of them.

    The main contact first, then the oldest: the same order `contact_for_sign_in` uses.
    """
    return sorted(contacts, key=lambda c: (not c.is_main, c.pk))


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
    contacts = preferred(c for c in contacts if c.client.status == "active")
    if not contacts:
        return None
    main = next((c for c in contacts if c.pk == data["contact"]), contacts[0])
    ordered = [main, *(c for c in contacts if c.pk != main.pk)]
    return PortalUser(
        practice=practice,
        email=data["email"],
        contact_ids=tuple(c.pk for c in contacts),
        client_ids=tuple(sorted({c.client_id for c in contacts})),
        name=main.full_name,
        first_name=main.first_name,
        contacts_by_client=tuple((c.client_id, c.pk) for c in ordered),
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
