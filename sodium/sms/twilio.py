"""Twilio's request signature (X-Twilio-Signature) and its delivery statuses."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence

from sodium.models import OutboundMessage

# MessageStatus values that move our row; the rest (queued, sending, sent, …) change nothing.
STATUS = {
    "delivered": OutboundMessage.Status.DELIVERED,
    "undelivered": OutboundMessage.Status.FAILED,
    "failed": OutboundMessage.Status.FAILED,
}


def signature(url: str, params: Mapping[str, Sequence[str]], auth_token: str) -> str:
    """Return Twilio's signature of a POST: HMAC-SHA1 of the full URL followed by every
    parameter name and value in name order, keyed with the auth token, in base64."""
    payload = url + "".join(
        name + value for name in sorted(params) for value in sorted(set(params[name]))
    )
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def is_valid_signature(
    url: str, params: Mapping[str, Sequence[str]], auth_token: str, given: str
) -> bool:
    """Return whether `given` is Twilio's signature of this request (constant time)."""
    if not given or not auth_token:
        return False
    return hmac.compare_digest(signature(url, params, auth_token), given)
