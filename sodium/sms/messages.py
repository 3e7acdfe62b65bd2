"""Queue texts on the outbox, send them, and apply the provider's delivery statuses.

A text is an `OutboundMessage` with channel sms: the same idempotency keys, compare-and-set
claim, retries, statuses and events as an email (`sodium.outbox`). The number goes in `to`,
the rendered body in `body_text`; `subject` stays empty.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from sodium import activity, liquid, outbox
from sodium.messaging.context import client_context
from sodium.messaging.variables import SMS, Group, Use, Variable, register_group, register_use
from sodium.models import Contact, OutboundMessage, Practice, Task, User
from sodium.sms import backends
from sodium.sms.numbers import e164, is_textable
from sodium.sms.segments import count_segments
from sodium.sms.twilio import STATUS
from sodium.tenancy import practice_scope

log = logging.getLogger(__name__)

Status = OutboundMessage.Status
# A text longer than this many segments is refused: it is a letter, not a text.
MAX_SEGMENTS = 10


class SmsRefused(Exception):
    """This contact may not be texted (opted out, no valid mobile) or the text is unsendable.

    `str(exc)` is the reason, written for staff.
    """


def refusal(contact: Contact) -> str:
    """Return why `contact` may not be texted, or "" when they may."""
    if contact.sms_opt_out:
        return f"{contact.full_name} asked not to receive text messages."
    if not contact.mobile:
        return f"{contact.full_name} has no mobile number."
    if not is_textable(contact.mobile):
        return f"{contact.full_name}'s mobile number {contact.mobile} is not a valid mobile."
    return ""


def render_sms(body: str, context: Mapping[str, Any]) -> str:
    """Render an SMS body template (plain text, bounded Liquid).

    Raises liquid.TemplateError with the reason.
    """
    return liquid.render_string(body, context, kind="text").strip()


def queue_sms(
    *,
    practice: Practice,
    key: str,
    contact: Contact,
    body: str,
    context: Mapping[str, Any] | None = None,
    task: Task | None = None,
    source: tuple[str, int] | None = None,
) -> OutboundMessage:
    """Write a queued text to `contact` and deliver it once the caller's transaction commits.

    `body` is a Liquid template rendered with `context` (bounded). Idempotent on `key`, as
    `queue_email`: when a message with that key exists it is returned unchanged.

    Raises SmsRefused when the contact opted out of texts, has no valid mobile, belongs to
    another practice, or the text renders empty or too long; liquid.TemplateError when the
    body does not render.
    """
    if contact.practice_id != practice.pk or (task and task.practice_id != practice.pk):
        raise SmsRefused("This contact belongs to another practice.")
    reason = refusal(contact)
    if reason:
        raise SmsRefused(reason)
    text = render_sms(body, context or {})
    if not text:
        raise SmsRefused("The text is empty.")
    if count_segments(text).segments > MAX_SEGMENTS:
        raise SmsRefused(f"The text is longer than {MAX_SEGMENTS} segments.")
    message, created = outbox.queue_message(
        practice=practice,
        channel=OutboundMessage.Channel.SMS,
        key=key,
        source=source,
        to=[e164(contact.mobile)],
        from_name=practice.display_sender,
        body_text=text,
        client_id=contact.client_id,
        task=task,
    )
    message.created_here = created  # read by text_contact: log the activity once
    return message


def send(message: OutboundMessage) -> str:
    """Send a claimed text through the configured backend; return the provider's id.

    Raises what the backend raises (the outbox records it and retries).
    """
    backend = backends.get_backend()
    body = outbox.join_secrets(message, message.body_text)
    text = backends.Text(to=message.to[0], body=body, message_id=message.pk)
    return backend.send(text)


def record_status(provider_id: str, status: str, error_code: str = "") -> OutboundMessage | None:
    """Apply a provider's delivery status to the text it names; return it, or None.

    delivered → delivered; undelivered or failed → failed with the error code. Moves forward
    only (as email tracking does) and writes a MessageEvent only when the status moves, so
    the same callback twice changes nothing the second time. Unknown ids are ignored.
    """
    target = STATUS.get(status)
    if not provider_id:
        return None
    # Callbacks arrive with no practice scope; provider ids are unique across practices.
    with scopes_disabled():
        found = (
            OutboundMessage.objects.filter(
                provider_message_id=provider_id, channel=OutboundMessage.Channel.SMS
            )
            .values_list("pk", "practice_id")
            .first()
        )
    if found is None:
        log.info("SMS status %s for unknown provider id %s", status, provider_id)
        return None
    pk, practice_id = found
    with practice_scope(practice_id), transaction.atomic():
        message = OutboundMessage.objects.select_for_update().get(pk=pk)
        if target is None or not outbox._moves_to(message.status, target):
            return message
        message.status = target
        message.status_changed_at = timezone.now()
        fields = ["status", "status_changed_at"]
        detail = f"The provider reports {status}."
        if target == Status.FAILED:
            detail = f"The provider reports {status}" + (
                f" (error {error_code})." if error_code else "."
            )
            message.error = detail
            fields.append("error")
        message.save(update_fields=fields)
        outbox._event(message, target, detail)
    return message


CONTACT_SMS = "sodium.contact_sms"
TEXTED_CONTACT = Group(
    "texted_contact",
    "Text: the contact",
    (
        Variable("contact.first_name", "The texted contact's first name", "Ellie"),
        Variable("contact.last_name", "The texted contact's last name", "Ali"),
        Variable("contact.name", "The texted contact's full name", "Ellie Ali"),
    ),
)


def register_message_use() -> None:
    """Register the contact composer's message use and its group (SodiumConfig.ready)."""
    register_group(TEXTED_CONTACT)
    register_use(
        Use(
            CONTACT_SMS,
            "Text to a contact",
            ("practice", "client", "contacts", TEXTED_CONTACT.key, "today"),
            description='A text typed for one contact in the contact\'s "Send a text" composer.',
            channels=(SMS,),
        )
    )


def contact_context(contact: Contact) -> dict[str, Any]:
    """Return the Liquid variables of a text typed for one contact (use CONTACT_SMS)."""
    context = client_context(practice=contact.practice, client=contact.client)
    context["contact"] = {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "name": contact.full_name,
    }
    return context


@transaction.atomic
def text_contact(contact: Contact, *, actor: User, body: str, nonce: str) -> OutboundMessage:
    """Queue a text typed by `actor` to `contact` and record it in the activity log.

    `nonce` is drawn when the composer opens: the same nonce twice queues one text.
    Raises SmsRefused (opted out, no valid mobile, empty or too long) or liquid.TemplateError.
    """
    message = queue_sms(
        practice=contact.practice,
        key=f"contact:{contact.pk}:sms:{nonce}",
        contact=contact,
        body=body,
        context=contact_context(contact),
        source=("sodium.contact", contact.pk),
    )
    if message.created_here:
        activity.record(
            practice=contact.practice,
            verb="contact.texted",
            actor=actor,
            client=contact.client,
            obj=contact,
            summary=f"Texted {contact.full_name} at {e164(contact.mobile)}",
            data={"message": message.pk},
        )
    return message
