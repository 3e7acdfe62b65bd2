"""Two-factor sign-in for staff (django-otp): what a session still needs, and set-up reads.

A member with a confirmed authenticator app must enter a code after their password before
any staff page opens (django-otp's verified session, `user.is_verified()`); a member of a
practice that requires two-factor and has no app is sent to set it up. `practice_required`
(sodium/tenancy.py), which every staff view goes through, asks `missing_step`.
Writes (set-up, codes, disabling) are in sodium/services/two_factor.py.
"""

from __future__ import annotations

from base64 import b32encode
from datetime import datetime

import segno
from django.http import HttpRequest
from django.utils import timezone
from django.utils.timesince import timeuntil
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from sodium.tenancy import memberships_of

VERIFY = "verify"
SET_UP = "set-up"


def missing_step(request: HttpRequest) -> str | None:
    """Return VERIFY or SET_UP when the signed-in session may not open staff pages yet.

    Reads only what the request already holds (the user row, the active practice), so a
    session that needs nothing costs no query.
    """
    user = request.user
    if user.two_factor_enabled:
        # OTPMiddleware installs is_verified(); a user swapped in by login() has none yet.
        verified = getattr(user, "is_verified", None)
        return None if verified is not None and verified() else VERIFY
    practice = getattr(request, "practice", None)
    if practice is not None and practice.require_two_factor:
        return SET_UP
    return None


def required_by(user) -> list[str]:
    """Return the names of the user's practices that require two-factor sign-in."""
    return [m.practice.name for m in memberships_of(user) if m.practice.require_two_factor]


def pending_device(user) -> TOTPDevice | None:
    """Return the authenticator app being set up (not yet confirmed with a code), if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def app_device(user) -> TOTPDevice | None:
    """Return the user's confirmed authenticator app, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def backup_codes_left(user) -> int:
    """Return how many unused backup codes the user has."""
    return StaticToken.objects.filter(device__user=user).count()


def wait_message(until: datetime) -> str:
    """Return the sentence for codes held back by django-otp's throttle until `until`."""
    now = timezone.now()
    wait = timeuntil(until, now) if until > now else "a moment"
    return f"Too many wrong codes. Wait {wait}, then try again."


def secret_text(device: TOTPDevice) -> str:
    """Return the device's secret in base32, in groups of four, for typing into an app."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    """Return inline SVG markup of the device's otpauth:// link (no style attributes, no script)."""
    qr = segno.make(device.config_url, error="m")
    return qr.svg_inline(
        scale=5, border=4, dark="#000", light="#fff", svgclass="qr-code", title="QR code"
    )
