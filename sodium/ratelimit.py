"""A fixed-window request counter in Django's cache (Redis in production), and the client address.

Shared by the portal's sign-in links, the staff password reset and django-axes (sign-in lockout).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def hit(key: str, limit: int, window: int) -> bool:
    """Count one request against `key`; return True while at most `limit` fall in the window.

    The window (seconds) starts at the first request. `cache.add` only sets a missing key and
    `cache.incr` is atomic on Redis, so concurrent requests in several processes count right.
    """
    key = "ratelimit:" + hashlib.sha256(key.encode()).hexdigest()
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.add(key, 1, timeout=window)
        count = 1
    return count <= limit


def client_ip(request: HttpRequest) -> str:
    """Return the address the request came from, seen through SODIUM_PROXY_HOPS proxies.

    Each trusted proxy appends the address it saw to X-Forwarded-For, so the client is that
    many entries from the right; anything further left was written by the client itself.
    """
    hops = settings.SODIUM_PROXY_HOPS
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if hops and forwarded:
        return forwarded[-min(hops, len(forwarded))]
    return request.META.get("REMOTE_ADDR", "")
