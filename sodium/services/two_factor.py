"""Set up, use and turn off two-factor sign-in (django-otp devices) for a staff member.

Each member has at most one authenticator app (a TOTP device) and one set of backup codes (a
static device whose tokens are deleted as they are used, stored only as keyed digests).
`User.two_factor_enabled` follows the confirmed app, so the staff gate knows without a query
that a session needs a code.
Wrong codes are throttled by django-otp on each device (exponential back-off).
"""

from __future__ import annotations

import re
from datetime import datetime

from django.db import transaction
from django.utils.crypto import salted_hmac
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from sodium import activity
from sodium.models import User
from sodium.tenancy import memberships_of
from sodium.two_factor import required_by

BACKUP_CODES = 10
APP_NAME = "Authenticator app"
BACKUP_NAME = "Backup codes"


class TwoFactorError(Exception):
    """A code or change refused; the message is shown to the member."""


class Throttled(TwoFactorError):
    """Too many wrong codes in a row: no code is checked until `until`."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__("Too many wrong codes.")


WRONG_CODE = "That code is not right. Check your app's current code, or use a backup code."


def _clean(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _stored(code: str) -> str:
    """Return what the database keeps of a backup code: a keyed digest, never the code.

    django-otp matches a static token by equality, so storing the digest and checking the
    digest of what was typed keeps its one-use deletion and throttling, while a copy of the
    database (without SECRET_KEY) holds no code that signs anyone in. The token column holds
    16 characters: 64 bits of HMAC-SHA256.
    """
    return salted_hmac("sodium.two_factor.backup_code", code, algorithm="sha256").hexdigest()[:16]


def _verify(device: Device, code: str) -> bool:
    """Check `code` on a locked row of `device`; raise Throttled while django-otp holds it back."""
    allowed, info = device.verify_is_allowed()
    if not allowed:
        if info and "locked_until" in info:
            raise Throttled(info["locked_until"])
        raise TwoFactorError(WRONG_CODE)
    return device.verify_token(code)


def _record(user: User, *, verb: str, summary: str) -> None:
    # The member's security is the business of every practice they work in.
    for membership in memberships_of(user):
        activity.record(
            practice=membership.practice_id,
            actor=user,
            verb=verb,
            obj=membership,
            summary=summary,
        )


def _new_backup_codes(user: User) -> list[str]:
    # Keep the device, replace its tokens: a session verified with a backup code stays verified.
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": BACKUP_NAME, "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=_stored(c)) for c in codes)
    return codes


@transaction.atomic
def start_setup(user: User) -> TOTPDevice:
    """Create a new, unconfirmed authenticator app for `user`, replacing any unfinished one.

    Raises TwoFactorError when the user already has a confirmed app.
    """
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise TwoFactorError("Two-factor sign-in is already on.")
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=APP_NAME, confirmed=False)


def confirm_setup(user: User, *, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the app being set up with a code from it; return it and new backup codes.

    Raises TwoFactorError when nothing is being set up or the code is wrong (Throttled after
    repeated wrong codes).
    """
    # A wrong code's throttle count must be committed, so the refusal is raised outside.
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("-pk")
            .first()
        )
        if device is None:
            raise TwoFactorError("Start the set-up again: this page was out of date.")
        accepted = _verify(device, _clean(code))
        if accepted:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _new_backup_codes(user)
            User.objects.filter(pk=user.pk).update(two_factor_enabled=True)
            user.two_factor_enabled = True
            _record(
                user, verb="member.two_factor_on", summary=f"{user} turned on two-factor sign-in"
            )
    if not accepted:
        raise TwoFactorError("That code is not right. Enter the 6 digits your app shows now.")
    return device, codes


def check_code(user: User, code: str) -> Device:
    """Return the device that accepts `code`: the app's current code, or an unused backup code.

    A backup code is deleted as it is used. Raises TwoFactorError for a wrong code and
    Throttled while django-otp refuses to check more after wrong ones.
    """
    code = _clean(code)
    # Six digits are the app's; anything else can only be a backup code. Checking one device
    # keeps each device's throttle counting only the codes meant for it.
    model = TOTPDevice if re.fullmatch(r"\d{6}", code) else StaticDevice
    # A wrong code's throttle count must be committed, so the refusal is raised outside.
    with transaction.atomic():
        device = model.objects.select_for_update().filter(user=user, confirmed=True).first()
        token = code if model is TOTPDevice else _stored(code)
        accepted = device is not None and bool(code) and _verify(device, token)
    if not accepted:
        raise TwoFactorError(WRONG_CODE)
    return device


@transaction.atomic
def regenerate_backup_codes(user: User) -> list[str]:
    """Replace the user's backup codes with new ones; the old ones stop working."""
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise TwoFactorError("Turn on two-factor sign-in first.")
    codes = _new_backup_codes(user)
    _record(user, verb="member.backup_codes", summary=f"{user} made new two-factor backup codes")
    return codes


def disable(user: User, *, code: str) -> None:
    """Turn off two-factor sign-in after checking a current code.

    Raises TwoFactorError when a practice of the user requires it or the code is wrong.
    """
    practices = required_by(user)
    if practices:
        raise TwoFactorError(
            f"{', '.join(practices)} requires two-factor sign-in, so it cannot be turned off."
        )
    check_code(user, code)
    with transaction.atomic():
        remove_devices(user)
        _record(user, verb="member.two_factor_off", summary=f"{user} turned off two-factor sign-in")


@transaction.atomic
def remove_devices(user: User) -> None:
    """Delete the user's authenticator app and backup codes; they sign in with a password."""
    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
    User.objects.filter(pk=user.pk).update(two_factor_enabled=False)
    user.two_factor_enabled = False


def reset_throttles(user: User) -> int:
    """Let the user try codes again at once (an owner's unlock); return the devices reset."""
    count = 0
    for device in devices_for_user(user, confirmed=None):
        if device.throttling_failure_count:
            device.throttle_reset()
            count += 1
    return count


def throttled_users(users: list[User]) -> set[int]:
    """Return the ids of `users` whose codes are held back now after wrong ones."""
    held = set()
    for model in (TOTPDevice, StaticDevice):
        for device in model.objects.filter(user__in=users, throttling_failure_count__gt=0):
            if not device.verify_is_allowed()[0]:
                held.add(device.user_id)
    return held
