"""The outbox: every email and text is first an `OutboundMessage` row, then a worker delivers it.

`queue_email` writes the row in the caller's transaction and enqueues delivery on commit,
or, inside `delivered_by_this_worker()`, leaves it to the worker task that wrote it;
`deliver` sends a row at most once per claim (compare-and-set from queued to sending);
`redispatch_stale` is the sweep's safety net for rows whose enqueue was lost; and
`record_tracking` moves rows forward on the provider's webhooks (delivered, opened, bounced).

No stored column holds a secret a message carries (a portal access token): its body holds a
placeholder (`secret_placeholder`) where the secret goes, and the app that issued the secret
joins it in only when the email is built for sending (`register_secret`). A resend builds the
same email again, so the resolver must derive the secret, not draw a new one.

Texts (channel sms) are queued by `sodium.sms.messages.queue_sms` and sent here through the
SMS backend; their delivery statuses arrive at the provider's callback (`sodium.sms`).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from email.utils import formataddr, parseaddr

from anymail.signals import AnymailTrackingEvent
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_scopes import scopes_disabled

from sodium import rows
from sodium.models import Client, MessageEvent, OutboundMessage, Practice, Task
from sodium.sql import Table, columns, scoped_sql
from sodium.tenancy import practice_scope

log = logging.getLogger(__name__)

Status = OutboundMessage.Status

# A failed send goes back to queued (the sweep retries it a minute later) this many times
# in all, then the message is failed for good.
MAX_ATTEMPTS = 5
# A message left `sending` longer than `sending_timeout()` was claimed by a worker that died
# mid-send (kill -9, a lost container). Messages are sent only inside Celery tasks, whose hard
# time limit (CELERY_TASK_TIME_LIMIT) kills a task still sending by then, so a live worker
# never holds a claim longer; the margin covers clocks that differ between hosts. Sending it
# again may duplicate it, but leaving it would lose it.
SENDING_MARGIN = dt.timedelta(seconds=30)
SENDING_TIMEOUT_WITHOUT_LIMIT = dt.timedelta(minutes=15)


def sending_timeout() -> dt.timedelta:
    """Return how long a message may stay `sending` before the sweep sends it again."""
    limit = settings.CELERY_TASK_TIME_LIMIT
    if not limit:  # no hard limit: a send could legitimately take longer
        return SENDING_TIMEOUT_WITHOUT_LIMIT
    return dt.timedelta(seconds=limit) + SENDING_MARGIN


# Tracking moves a message forward only: sent < delivered < opened.
_PROGRESS = {
    Status.QUEUED: 0,
    Status.SENDING: 1,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.OPENED: 4,
}
_TRACKING_STATUS = {
    "delivered": Status.DELIVERED,
    "opened": Status.OPENED,
    "clicked": Status.OPENED,
    "bounced": Status.BOUNCED,
    "rejected": Status.BOUNCED,
    "failed": Status.FAILED,
}
# A bounce or provider failure overrides these (a message already opened was received).
_BOUNCEABLE = {Status.SENDING, Status.SENT, Status.DELIVERED}

# The ids (and practices) of messages committed inside delivered_by_this_worker(), to send
# when it ends.
_sent_here: contextvars.ContextVar[list[tuple[int, int]] | None] = contextvars.ContextVar(
    "sodium_outbox_sent_here", default=None
)


@contextlib.contextmanager
def delivered_by_this_worker() -> Iterator[None]:
    """In a worker task: send the messages queued inside once it ends, not through the broker.

    A worker task that writes a message (an automatic email step) would otherwise publish a
    delivery task for another worker to pick up: a broker round trip per message, more than
    the sending itself costs the worker. Messages are sent only once their transaction has
    committed, each by the same compare-and-set as `deliver`, so a duplicate delivery task
    still sends nothing; a worker that dies first leaves them queued for the sweep's safety
    net. Not for web requests, which must not wait for the email provider.
    """
    pending: list[tuple[int, int]] = []
    token = _sent_here.set(pending)
    try:
        yield
    finally:
        _sent_here.reset(token)
        for message_id, practice_id in pending:
            deliver(message_id, practice_id)


_URL = re.compile(r"https?://[^\s<>\"'()\[\]]+", re.IGNORECASE)


def queue_email(
    *,
    practice: Practice,
    key: str,
    to: Sequence[str],
    cc: Sequence[str] = (),
    subject: str,
    text: str,
    html: str = "",
    client: Client | None = None,
    task: Task | None = None,
    source: tuple[str, int] | None = None,
    reply_to: str = "",
    from_name: str = "",
) -> OutboundMessage:
    """Write a queued email and deliver it once the caller's transaction commits.

    Call it inside the transaction of the change that causes the email, so both commit or
    neither does. Idempotent on `key` (e.g. "step:42:chase:3"): when a message with that key
    exists it is returned unchanged and nothing is enqueued. `from_name` and `reply_to`
    default to the practice's sender name and reply-to address.

    Raises ValueError when `to` is empty or `client`/`task` belong to another practice.
    """
    if not to:
        raise ValueError("An email needs at least one recipient.")
    for obj in (client, task):
        if obj is not None and obj.practice_id != practice.pk:
            raise ValueError(f"{obj!r} belongs to another practice.")
    message, _ = queue_message(
        practice=practice,
        channel=OutboundMessage.Channel.EMAIL,
        key=key,
        source=source,
        to=list(to),
        cc=list(cc),
        from_name=from_name or practice.display_sender,
        reply_to=reply_to or practice.reply_to,
        subject=subject,
        body_text=text,
        body_html=html,
        client=client,
        task=task,
    )
    return message


def queue_message(
    *,
    practice: Practice,
    channel: str,
    key: str,
    source: tuple[str, int] | None = None,
    **fields,
) -> tuple[OutboundMessage, bool]:
    """Write a queued message of `channel` once per `key`; deliver it once the caller's
    transaction commits. Return it and True, or the message that has `key` already and False
    (unchanged, and nothing is enqueued).

    What `queue_email` and `sms.messages.queue_sms` share, after each has checked and built
    its channel's `fields` (recipients, bodies, client, task…).
    """
    source_type, source_id = source if source else ("", None)
    now = timezone.now()
    message = OutboundMessage(
        practice=practice,
        channel=channel,
        status=Status.QUEUED,
        idempotency_key=key,
        source_type=source_type,
        source_id=source_id,
        created_at=now,
        queued_at=now,
        status_changed_at=now,
        **fields,
    )
    # One INSERT … ON CONFLICT DO NOTHING: get_or_create would spend a SELECT and a savepoint
    # on every message, and this runs inside every transition that emails. On PostgreSQL the
    # "queued" event goes in the same statement, written only when the message is.
    postgres = connection.vendor == "postgresql"
    then = (_queued_event_sql(), [practice.pk, now]) if postgres else None
    if not rows.insert(message, unique="idempotency_key", then=then):
        with practice_scope(practice):
            return OutboundMessage.objects.get(idempotency_key=key), False
    if not postgres:
        _event(message, "queued")
    message_id, practice_id = message.pk, practice.pk
    transaction.on_commit(lambda: _deliver_after_commit(message_id, practice_id))
    return message, True


@functools.cache
def _queued_event_sql() -> str:
    e, new = Table(MessageEvent), Table(OutboundMessage, "new")
    names = columns(MessageEvent, ["practice", "message", "event", "detail", "created_at"])
    return f"INSERT INTO {e} ({names}) SELECT %s, {new.id}, 'queued', '', %s FROM new"


DELIVERY_BATCH = 100  # messages one delivery task sends, for messages queued in bulk


def queue_messages(practice: Practice, messages: Sequence[OutboundMessage]) -> list[int]:
    """Write many built messages of one practice at once; deliver them after the commit.

    For work that writes hundreds of messages in one transaction (an AR sweep batch): one
    multi-row INSERT … ON CONFLICT DO NOTHING on the idempotency key instead of one each,
    one "queued" event per new message, and one delivery task per `DELIVERY_BATCH` messages.
    A message whose key exists already is left as it is (not enqueued). Each message must
    carry `practice`, `channel`, `idempotency_key`, recipients and bodies; status and the
    times are set here. Return the ids of the messages written now.
    """
    if not messages:
        return []
    now = timezone.now()
    for message in messages:
        if message.practice_id != practice.pk:
            raise ValueError(f"{message!r} belongs to another practice.")
        message.status = Status.QUEUED
        message.created_at = message.queued_at = message.status_changed_at = now
    keys = [m.idempotency_key for m in messages]
    with practice_scope(practice):
        OutboundMessage.objects.bulk_create(messages, ignore_conflicts=True)
        # ignore_conflicts leaves pks unset: read back which keys are ours and new.
        written = dict(
            OutboundMessage.objects.filter(
                idempotency_key__in=keys, created_at=now, status=Status.QUEUED
            ).values_list("idempotency_key", "pk")
        )
        ids = [written[k] for k in keys if k in written]
        MessageEvent.objects.bulk_create(
            [MessageEvent(practice=practice, message_id=i, event="queued") for i in ids]
        )
    for message in messages:
        message.pk = written.get(message.idempotency_key)
    practice_id = practice.pk
    for start in range(0, len(ids), DELIVERY_BATCH):
        chunk = ids[start : start + DELIVERY_BATCH]
        transaction.on_commit(lambda chunk=chunk: _deliver_many_after_commit(chunk, practice_id))
    return ids


def _deliver_many_after_commit(message_ids: list[int], practice_id: int) -> None:
    pending = _sent_here.get()
    if pending is not None:
        pending.extend((i, practice_id) for i in message_ids)
        return
    from sodium import tasks

    tasks.deliver_messages_task.delay(message_ids, practice_id)


def _deliver_after_commit(message_id: int, practice_id: int) -> None:
    pending = _sent_here.get()
    if pending is not None:
        pending.append((message_id, practice_id))
        return
    # Import the module, not the function: tasks imports this module.
    from sodium import tasks

    tasks.deliver_message_task.delay(message_id, practice_id)


# --- secrets joined in at delivery -----------------------------------------------------------

# Resolves the `ref` of one placeholder in `message` to its secret, or None when the secret may
# not go out (unknown, withdrawn, meant for someone else). `sending` is False when the secret
# is only shown (the Messages page in development).
SecretResolver = Callable[[OutboundMessage, str, bool], "str | None"]
_RESOLVERS: dict[str, SecretResolver] = {}
_SECRET = re.compile(r"\{\{secret:([a-z_]{1,20}):([A-Za-z0-9_.-]{1,100})\}\}")
HIDDEN = "[hidden]"


class SecretUnavailable(Exception):
    """A message names a secret its resolver refuses: the message cannot be sent as written."""


def register_secret(kind: str, resolver: SecretResolver) -> None:
    """Resolve placeholders of `kind` with `resolver` (apps call it when they load)."""
    _RESOLVERS[kind] = resolver


def secret_placeholder(kind: str, ref: str) -> str:
    """Return what a body stores where secret `ref` of `kind` goes; see `register_secret`."""
    placeholder = f"{{{{secret:{kind}:{ref}}}}}"
    if not _SECRET.fullmatch(placeholder):
        raise ValueError(f"{kind!r}/{ref!r} cannot be a secret placeholder.")
    return placeholder


def replace_secrets(text: str, replace: Callable[[str, str], str]) -> str:
    """Return `text` with each placeholder replaced by `replace(kind, ref)` (a resend)."""
    return _SECRET.sub(lambda m: replace(m.group(1), m.group(2)), text)


def join_secrets(message: OutboundMessage, text: str) -> str:
    """Return `text` with every placeholder replaced by its secret, for sending `message`.

    Raises SecretUnavailable when a resolver refuses one.
    """
    if "{{secret:" not in text:  # most messages: no search on the engine's hot path
        return text

    def secret(match: re.Match) -> str:
        resolver = _RESOLVERS.get(match.group(1))
        value = resolver(message, match.group(2), True) if resolver else None
        if value is None:
            raise SecretUnavailable(
                "A link in this email was withdrawn or has expired before the email could be "
                "sent, so it was not sent."
            )
        return value

    return _SECRET.sub(secret, text)


def shown_secrets(message: OutboundMessage, text: str, *, reveal: bool) -> str:
    """Return `text` for staff to read: placeholders and tokens as `[hidden]`, or, with
    `reveal` (development), placeholders filled in so the demo's links can be followed."""

    def secret(match: re.Match) -> str:
        resolver = _RESOLVERS.get(match.group(1)) if reveal else None
        value = resolver(message, match.group(2), False) if resolver else None
        return HIDDEN if value is None else value

    text = _SECRET.sub(secret, text)
    return text if reveal else hide_tokens(text)


def from_header(message: OutboundMessage) -> str:
    """Return the From header: the message's sender name at DEFAULT_FROM_EMAIL's address."""
    default_name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((message.from_name or default_name, address))


# An access token in a link: a path segment or query value of 40 or more URL-safe characters
# (the portal's tokens have 43). Whoever holds one can act as the client: staff pages hide
# them, and tracking events (a click names the link clicked) store them hidden.
_TOKEN_IN_PATH = re.compile(r"(?<=[/=])[A-Za-z0-9_-]{40,}(?=[/?#&]|$|[^A-Za-z0-9_-])")


def hide_tokens(text: str) -> str:
    """Return `text` with every access token in its links replaced by `[hidden]`."""
    return _TOKEN_IN_PATH.sub(HIDDEN, text)


def links_in(text: str) -> list[str]:
    """Return the distinct http(s) links in a plain-text body, in order of appearance."""
    links: list[str] = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        if url not in links:
            links.append(url)
    return links


def deliver(message_id: int, practice_id: int | None = None) -> OutboundMessage | None:
    """Send the message if it is still queued; return it, or None when there was nothing to do.

    Claims the row by compare-and-set (queued → sending), so a duplicate task delivery sends
    nothing. On success the message is `sent` with the provider's id; on a send error it goes
    back to `queued` with the error (the sweep retries it) until MAX_ATTEMPTS, then `failed`.
    Never raises for send errors: they are logged and recorded on the message. The claim is
    made inside `practice_id` (the delivery task carries it); without it (a task queued by an
    older release) inside the practice the message's row names, and everything after it
    inside that practice's scope.
    """
    if practice_id is None:
        practice_id = _practice_of(message_id)
    message = _claim(message_id, practice_id) if practice_id is not None else None
    if message is None:
        log.info("outbound message %s is not queued (or does not exist)", message_id)
        return None
    with practice_scope(message.practice_id):
        try:
            if message.channel == OutboundMessage.Channel.SMS:
                from sodium.sms import messages as sms  # sms imports this module

                provider_id = sms.send(message)[:200]
            else:
                email = _build_email(message)
                email.send(fail_silently=False)
                provider_id = _provider_id(email)
        except SecretUnavailable as exc:  # sending it again would not help
            log.warning("outbound message %s not sent: %s", message_id, exc)
            return _record_failure(message, exc, final=True)
        except Exception as exc:
            log.exception("sending outbound message %s failed", message_id)
            return _record_failure(message, exc)
        return _record_sent(message, provider_id)


def redispatch_stale(
    now: dt.datetime | None = None,
    older_than: dt.timedelta = dt.timedelta(minutes=1),
    limit: int = 500,
) -> int:
    """Enqueue delivery again for messages queued longer than `older_than`; return how many.

    The safety net behind on_commit enqueueing: a crash between commit and publish, or a
    failed send put back to queued, is picked up here. Messages stuck in `sending` for
    `sending_timeout()` (their worker died mid-send) are put back to queued first. Enqueueing
    twice is harmless: `deliver` claims a row only once.
    """
    from sodium import tasks

    now = now or timezone.now()
    # Cross-tenant by design: the sweep serves every practice, and `deliver` opens each
    # message's own practice scope.
    with scopes_disabled():
        stuck = OutboundMessage.objects.filter(
            status=Status.SENDING, status_changed_at__lte=now - sending_timeout()
        )
        for pk, practice_id in stuck.values_list("pk", "practice_id")[:limit]:
            if OutboundMessage.objects.filter(pk=pk, status=Status.SENDING).update(
                status=Status.QUEUED,
                queued_at=F("created_at"),  # due for redispatch right away
                status_changed_at=now,
                error="The worker stopped while sending; sending again.",
            ):
                MessageEvent.objects.create(
                    practice_id=practice_id,
                    message_id=pk,
                    event="requeued",
                    detail="The worker stopped while sending.",
                )
        ids = list(
            OutboundMessage.objects.filter(status=Status.QUEUED, queued_at__lte=now - older_than)
            .order_by("queued_at")
            .values_list("pk", "practice_id")[:limit]
        )
    for pk, practice_id in ids:
        tasks.deliver_message_task.delay(pk, practice_id)
    return len(ids)


def record_tracking(event: AnymailTrackingEvent) -> OutboundMessage | None:
    """Apply a provider's tracking event to its message; return the message, or None.

    Finds the message by our id in the event's metadata, else by the provider's message id.
    Moves status forward only (sent < delivered < opened); a bounce or failure overrides sent
    and delivered. Records a MessageEvent for every event of a known message, including the
    ones that change nothing. Events for unknown messages are ignored.
    """
    message = _find_tracked(event)
    if message is None:
        log.info("tracking event %s for unknown message %s", event.event_type, event.message_id)
        return None
    with practice_scope(message.practice_id), transaction.atomic():
        message = OutboundMessage.objects.select_for_update().get(pk=message.pk)
        target = _TRACKING_STATUS.get(event.event_type or "")
        if target is not None and _moves_to(message.status, target):
            message.status = target
            message.status_changed_at = timezone.now()
            if target in (Status.BOUNCED, Status.FAILED):
                message.error = _detail(event) or f"The provider reports {event.event_type}."
                message.save(update_fields=["status", "status_changed_at", "error"])
            else:
                message.save(update_fields=["status", "status_changed_at"])
        _event(message, event.event_type or "unknown", _detail(event))
    return message


def on_tracking(sender, event: AnymailTrackingEvent, esp_name: str = "", **kwargs) -> None:
    """Receive anymail's `tracking` signal (connected in SodiumConfig.ready)."""
    record_tracking(event)


# --- Helpers --------------------------------------------------------------------------------


def _event(message: OutboundMessage, event: str, detail: str = "") -> MessageEvent:
    row = MessageEvent(
        practice_id=message.practice_id, message=message, event=event[:30], detail=detail[:300]
    )
    rows.insert(row)
    return row


def _build_email(message: OutboundMessage) -> EmailMultiAlternatives:
    if message.channel != OutboundMessage.Channel.EMAIL:
        raise ValueError(f"No backend delivers {message.get_channel_display()} messages yet.")
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=join_secrets(message, message.body_text),
        from_email=from_header(message),
        to=list(message.to),
        cc=list(message.cc),
        reply_to=[message.reply_to] if message.reply_to else None,
        headers={"Message-ID": message_id_header(message)},
    )
    if message.body_html:
        email.attach_alternative(join_secrets(message, message.body_html), "text/html")
    # Anymail sends these to the provider, which echoes the metadata in tracking webhooks.
    email.metadata = {"sodium_message_id": str(message.pk), "practice": str(message.practice_id)}
    email.tags = [message.source_type or "message"]
    return email


def message_id_header(message: OutboundMessage) -> str:
    """Return the Message-ID of the message's email: the same every time that row is sent.

    A worker killed after its send went out but before it recorded `sent` leaves the row
    `sending`, and the sweep sends it again after the sending timeout. Nothing on our side can
    tell whether the first send got out, so the second carries the same Message-ID, and mail
    systems that drop a message whose Message-ID they already hold (Gmail does) show it once.
    Keyed with the secret key, so ids from different installations cannot collide.
    """
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "sodium.localhost"
    digest = salted_hmac("sodium.outbox.message-id", str(message.pk)).hexdigest()[:16]
    return f"<sodium.{message.pk}.{digest}@{domain}>"


def _provider_id(email: EmailMultiAlternatives) -> str:
    status = getattr(email, "anymail_status", None)  # absent on non-anymail backends
    message_id = getattr(status, "message_id", None)
    if message_id is None:
        return ""
    if isinstance(message_id, set):  # one id per recipient; tracking also matches metadata
        return ",".join(sorted(str(m) for m in message_id))[:200]
    return str(message_id)[:200]


def _practice_of(message_id: int) -> int | None:
    # Cross-tenant by design, like the sweep: a delivery task names a message, not a practice.
    with scopes_disabled():
        return (
            OutboundMessage.objects.filter(pk=message_id)
            .values_list("practice_id", flat=True)
            .first()
        )


def _claim(message_id: int, practice_id: int) -> OutboundMessage | None:
    # queued → sending and the row read back, in one statement (deliver runs once per message,
    # on the engine's hot path): nothing when another delivery claimed it first.
    # The statement's own parameters, then the practice filter's.
    params = [Status.SENDING, _timestamp(), message_id, Status.QUEUED] + [practice_id]
    found = rows.fetch(OutboundMessage, _claim_sql(), params)
    return found[0] if found else None


@functools.cache
def _claim_sql() -> str:
    m = Table(OutboundMessage)
    return (
        scoped_sql(
            f"UPDATE {m} SET {m.status} = %s, {m.attempts} = {m.attempts} + 1,"
            f" {m.status_changed_at} = %s WHERE {m.id} = %s AND {m.status} = %s",
            m,
        )
        + " RETURNING *"
    )


def _record_sent(message: OutboundMessage, provider_id: str) -> OutboundMessage:
    now = _timestamp()
    # The statement's own parameters, then the practice filter's.
    params = [Status.SENDING, Status.SENT, Status.SENDING, now, now, provider_id, message.pk]
    params += [message.practice_id]
    detail = provider_id and f"Provider id {provider_id}"
    if connection.vendor == "postgresql":
        # The row and its "sent" event in one statement, committed on its own: a quarter of
        # the round trips of BEGIN, UPDATE, INSERT, COMMIT, on every message a worker sends.
        found = rows.fetch(OutboundMessage, _record_sent_with_event_sql(), [*params, detail, now])
        if not found:
            raise OutboundMessage.DoesNotExist(f"No message {message.pk} in its practice.")
        return found[0]
    with transaction.atomic():
        found = rows.fetch(OutboundMessage, _record_sent_sql() + " RETURNING *", params)
        if not found:
            raise OutboundMessage.DoesNotExist(f"No message {message.pk} in its practice.")
        message = found[0]
        _event(message, "sent", detail)
    return message


@functools.cache
def _record_sent_sql() -> str:
    m = Table(OutboundMessage)
    # A webhook may already have moved it past sent; then it keeps that status.
    sending = f"{m.status} = %s"
    return scoped_sql(
        f"UPDATE {m} SET {m.status} = CASE WHEN {sending} THEN %s ELSE {m.status} END,"
        f" {m.status_changed_at} = CASE WHEN {sending} THEN %s ELSE {m.status_changed_at} END,"
        f" {m.sent_at} = %s, {m.provider_message_id} = %s, {m.error} = '' WHERE {m.id} = %s",
        m,
    )


@functools.cache
def _record_sent_with_event_sql() -> str:
    # PostgreSQL only (SQLite has no data-modifying WITH): the event is written only when the
    # UPDATE found the row in its practice, and carries the row's own practice and id.
    e, m = Table(MessageEvent), Table(OutboundMessage, "m")
    names = columns(MessageEvent, ["practice", "message", "event", "detail", "created_at"])
    return (
        f"WITH m AS ({_record_sent_sql()} RETURNING *),"
        f" e AS (INSERT INTO {e} ({names}) SELECT {m.practice}, {m.id}, 'sent', %s, %s FROM m)"
        " SELECT * FROM m"
    )


def _timestamp():
    # The current time as this database stores it (SQLite keeps text, PostgreSQL timestamptz).
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _record_failure(
    message: OutboundMessage, exc: Exception, *, final: bool = False
) -> OutboundMessage:
    now = timezone.now()
    error = str(exc) if isinstance(exc, SecretUnavailable) else f"{type(exc).__name__}: {exc}"
    final = final or message.attempts >= MAX_ATTEMPTS
    with transaction.atomic():
        OutboundMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
            status=Status.FAILED if final else Status.QUEUED,
            status_changed_at=now,
            # Restart the clock so the sweep retries a minute from now, not at once.
            queued_at=message.queued_at if final else now,
            error=error,
        )
        message.refresh_from_db()
        detail = error if final else f"Attempt {message.attempts} of {MAX_ATTEMPTS}: {error}"
        _event(message, "failed" if final else "error", detail)
    return message


def _find_tracked(event: AnymailTrackingEvent) -> OutboundMessage | None:
    # Webhooks arrive with no practice scope: look the message up across practices, then
    # work inside its practice's scope. Provider ids are unique across practices.
    metadata = event.metadata or {}
    ours = str(metadata.get("sodium_message_id", ""))
    with scopes_disabled():
        if ours.isdigit():
            message = OutboundMessage.objects.filter(pk=int(ours)).first()
            if message is not None:
                return message
        if event.message_id not in (None, ""):
            return (
                OutboundMessage.objects.filter(provider_message_id=str(event.message_id))
                .order_by("-pk")
                .first()
            )
    return None


def _moves_to(current: str, target: str) -> bool:
    if target in (Status.BOUNCED, Status.FAILED):
        return current in _BOUNCEABLE
    if current not in _PROGRESS:  # bounced or failed stay so
        return False
    return _PROGRESS[current] < _PROGRESS[target]


def _detail(event: AnymailTrackingEvent) -> str:
    parts = [
        hide_tokens(event.click_url or ""),
        event.recipient or "",
        event.reject_reason or "",
        event.description or event.mta_response or "",
    ]
    return " · ".join(p for p in parts if p)[:300]
