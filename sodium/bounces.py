"""Bounced emails: which address bounced and why, and "correct the address and resend".

A page of steps (or any other source of messages) reads its last messages with
`last_messages` (one query whatever the number of sources); each one that bounced carries
`.bounce` (`Bounce`: the address and the provider's reason). `resend_bounced` corrects the
address on the client's contacts that had it (through `services.clients.update_contact`, so
the change is logged and the address-change hooks run) and sends the same email again, as a
new message, to the corrected address only.

A message may hold secrets as placeholders (`outbox.secret_placeholder`): the link of the
bounced email must not simply go out again, so the app that issued each secret renews it for
the resend (`register_renewer`): the portal revokes the old access link and issues a fresh
one, whose placeholder replaces the old one in the new message's bodies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from sodium import activity, outbox
from sodium.models import Contact, MessageEvent, OutboundMessage, Practice, User
from sodium.services.clients import update_contact

Status = OutboundMessage.Status
MAX_ADDRESS = 254  # Contact.email's length


class BounceError(Exception):
    """A resend the rules refuse; the message is shown to the user."""


@dataclass(frozen=True)
class Bounce:
    """What bounced: the message, the address it bounced from and the provider's reason."""

    message: OutboundMessage
    address: str
    reason: str


def bounce_of(message: OutboundMessage | None) -> Bounce | None:
    """Return the bounce of `message`, or None when it has not bounced (no query).

    The address is the recipient the provider names in its reason (`message.error` holds the
    webhook's detail: recipient, reason, description); with none named, the first recipient.
    """
    if message is None or message.status != Status.BOUNCED:
        return None
    recipients = [*message.to, *message.cc]
    parts = [p.strip() for p in (message.error or "").split(" · ") if p.strip()]
    lowered = {r.lower(): r for r in recipients}
    named = next((lowered[p.lower()] for p in parts if p.lower() in lowered), None)
    address = named or (recipients[0] if recipients else "")
    reason = " · ".join(p for p in parts if p.lower() not in lowered)
    return Bounce(message=message, address=address, reason=reason or "No reason was given.")


def last_messages(
    practice: Practice | int, source_type: str, source_ids: Iterable[int]
) -> dict[int, OutboundMessage]:
    """Return each source's newest message by source id; bounced ones carry `.bounce`.

    One query whatever the number of sources. A resend is newer than the message it resends,
    so a bounce that was corrected is no longer any source's last message.
    """
    ids = list(source_ids)
    found: dict[int, OutboundMessage] = {}
    if not ids:
        return found
    for message in OutboundMessage.objects.filter(
        practice=practice, source_type=source_type, source_id__in=ids
    ).order_by("created_at", "id"):
        found[message.source_id] = message
    for message in found.values():
        message.bounce = bounce_of(message)
    return found


# --- resending ---------------------------------------------------------------------------------

# renewer(old message, placeholder ref, new address) → the new ref, or None to refuse.
Renewer = Callable[[OutboundMessage, str, str], "str | None"]
_RENEWERS: dict[str, Renewer] = {}


def register_renewer(kind: str, renewer: Renewer) -> None:
    """Renew secrets of `kind` with `renewer` when a bounced email is sent again."""
    _RENEWERS[kind] = renewer


def clean_address(value: str) -> str:
    """Return `value` as an address to send to, or raise BounceError saying what is wrong."""
    address = (value or "").strip()
    if not address:
        raise BounceError("Enter the corrected email address.")
    if len(address) > MAX_ADDRESS:
        raise BounceError("That address is too long.")
    try:
        validate_email(address)
    except ValidationError:
        raise BounceError(f"“{address}” is not an email address.") from None
    return address


def resend_key(message: OutboundMessage) -> str:
    return f"resend:{message.pk}"


@transaction.atomic
def resend_bounced(message: OutboundMessage, *, new_address: str, actor: User) -> OutboundMessage:
    """Correct the bounced address and send `message` again to it; return the new message.

    Every contact of the message's client whose address bounced gets the new one (logged in
    activity; the address-change hooks revoke links sent to the old address). The new message
    has the same subject and bodies, secrets renewed by their app, and is queued to the new
    address only (the other recipients received it). The old message gets a "resent" event
    and the activity log a "message.resent" event.

    Raises BounceError when the address is not valid, is the one that bounced, the message
    has not bounced or was sent again already, or a secret's app refuses to renew it.
    """
    address = clean_address(new_address)
    message = (
        OutboundMessage.objects.select_for_update(of=("self",))
        .filter(practice_id=message.practice_id)
        .select_related("practice", "client", "task")
        .get(pk=message.pk)
    )
    bounce = bounce_of(message)
    if bounce is None:
        raise BounceError("This email has not bounced.")
    already = OutboundMessage.objects.filter(
        practice_id=message.practice_id, idempotency_key=resend_key(message)
    )
    if already.exists():
        raise BounceError("This email was sent again already.")
    if address.lower() == bounce.address.lower():
        raise BounceError(f"{address} is the address that bounced: enter the corrected one.")
    corrected = _correct_contacts(message, bounce.address, address, actor)
    text, html = _renewed(message, address, message.body_text, message.body_html)
    new = outbox.queue_email(
        practice=message.practice,
        key=resend_key(message),
        to=[address],
        subject=message.subject,
        text=text,
        html=html,
        client=message.client,
        task=message.task,
        source=(message.source_type, message.source_id) if message.source_type else None,
        reply_to=message.reply_to,
        from_name=message.from_name,
    )
    MessageEvent.objects.create(
        practice_id=message.practice_id,
        message=message,
        event="resent",
        detail=f"Sent again to {address} (message {new.pk})"[:300],
    )
    whose = f"{corrected[0].full_name}'s address" if len(corrected) == 1 else "the address"
    activity.record(
        practice=message.practice_id,
        actor=actor,
        verb="message.resent",
        client=message.client,
        task=message.task,
        obj=new,
        summary=f"Corrected {whose} from {bounce.address} to {address} after a bounce "
        f"and sent “{message.subject}” again",
        data={"bounced": message.pk, "from": bounce.address, "to": address},
    )
    return new


def _correct_contacts(message: OutboundMessage, old: str, new: str, actor: User) -> list[Contact]:
    if message.client_id is None:
        return []
    contacts = list(
        Contact.objects.filter(
            practice_id=message.practice_id, client_id=message.client_id, email__iexact=old
        ).select_related("client", "practice")
    )
    for contact in contacts:
        update_contact(contact, actor=actor, email=new)
    return contacts


def _renewed(message: OutboundMessage, address: str, *texts: str) -> list[str]:
    # One renewal per placeholder, shared by the text and HTML bodies that both hold it.
    renewed: dict[tuple[str, str], str] = {}

    def renew(kind: str, ref: str) -> str:
        if (kind, ref) not in renewed:
            renewer = _RENEWERS.get(kind)
            new_ref = renewer(message, ref, address) if renewer else None
            if new_ref is None:
                raise BounceError(
                    "A link in this email can no longer be sent; send the step's email again "
                    "from the step instead."
                )
            renewed[(kind, ref)] = new_ref
        return outbox.secret_placeholder(kind, renewed[(kind, ref)])

    return [outbox.replace_secrets(text, renew) for text in texts]
