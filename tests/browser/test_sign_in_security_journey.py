"""A member of a practice that requires two-factor sign-in sets it up, then signs in with a code;
someone guessing a member's password meets the lockout page.

The test computes the authenticator app's code from the device's secret, as the app would.

An owner then unlocks the locked-out member from Members.

Screenshots: var/screenshots/two_factor_*_<width>.png, lockout_<width>.png,
members_locked_<width>.png and practice_settings_security_<width>.png.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from sodium.roles import Role
from sodium.services import two_factor as two_factor_services
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-1"
EMAIL = "olivia@hartleyfinch.example"


@pytest.fixture
def olivia():
    with scopes_disabled():
        practice = f.PracticeFactory(
            name="Hartley & Finch", slug="hartley-finch", require_two_factor=True
        )
        return f.MembershipFactory(
            practice=practice,
            role=Role.OWNER,
            user=f.UserFactory(full_name="Olivia Hartley", email=EMAIL),
        ).user


def app_code(user, ahead: int = 0) -> str:
    device = TOTPDevice.objects.get(user=user)
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + ahead)
    return f"{code:06d}"


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def sign_in(page, base: str, password: str = PASSWORD, email: str = EMAIL) -> None:
    page.goto(f"{base}/sign-in/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_member_sets_up_two_factor_and_signs_in_with_a_code(
    live_server, browser, screenshot, olivia, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    base = live_server.url

    # The practice requires two-factor: after the password, only the set-up opens.
    sign_in(page, base)
    page.wait_for_url(f"{base}/account/two-factor/")
    page.get_by_text("requires two-factor sign-in").wait_for()
    page.goto(f"{base}/tasks/")
    page.wait_for_url(f"{base}/account/two-factor/")
    screenshot(page, "two_factor_start")
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    page.get_by_role("img", name="QR code to scan with your authenticator app").wait_for()
    secret = page.locator("#totp-secret").inner_text()
    assert len(secret.replace(" ", "")) == 32
    assert no_horizontal_scroll(page)
    screenshot(page, "two_factor_set_up")

    page.get_by_label("Code from the app").fill(app_code(olivia))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.wait_for_url(f"{base}/account/two-factor/codes/")
    codes = page.locator(".backup-codes li").all_inner_texts()
    assert len(codes) == 10
    assert page.get_by_role("button", name="Print").is_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, "two_factor_backup_codes")
    page.get_by_role("button", name="I have kept them").click()
    page.wait_for_url(f"{base}/account/two-factor/")
    page.get_by_role("heading", name="On").wait_for()
    screenshot(page, "two_factor_on")

    # Next time: password, then a code.
    page.goto(f"{base}/")
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/sign-in/")
    sign_in(page, base)
    page.wait_for_url(f"{base}/sign-in/code/?next=%2F")
    screenshot(page, "two_factor_code")
    page.get_by_label("Code", exact=True).fill(app_code(olivia, ahead=1))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/")
    assert errors == []
    context.close()


def signed_in_context(browser, base: str, user, width: int):
    """Return a browser context already signed in as `user` (as Django's force_login does)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )
    return context


@pytest.mark.parametrize("width", [1280, 390])
def test_repeated_wrong_passwords_meet_the_lockout_page_and_an_owner_unlocks(
    live_server, browser, screenshot, olivia, width
):
    with scopes_disabled():
        practice = olivia.memberships.get().practice
        practice.require_two_factor = False
        practice.save(update_fields=["require_two_factor"])
        sam = f.MembershipFactory(
            practice=practice,
            role=Role.STAFF,
            user=f.UserFactory(full_name="Sam Carter", email="sam@hartleyfinch.example"),
        ).user
        # Sam has two-factor on, and has lost his phone and his backup codes.
        device = two_factor_services.start_setup(sam)
        two_factor_services.confirm_setup(
            sam, code=f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"
        )
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    base = live_server.url
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(page, base, password="not-the-password", email=sam.email)
        page.get_by_text("That email and password do not match an account.").wait_for()
    sign_in(page, base, password="not-the-password", email=sam.email)
    page.get_by_role("heading", name="Signing in is paused").wait_for()
    # Even the right password is refused now.
    sign_in(page, base, email=sam.email)
    page.get_by_role("heading", name="Signing in is paused").wait_for()
    assert page.get_by_role("link", name="choose a new password").is_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, "lockout")

    # The owner sees Sam locked out on Members and unlocks him.
    owner = signed_in_context(browser, base, olivia, width)
    owner_page = owner.new_page()
    owner_page.goto(f"{base}/settings/members/")
    row = owner_page.locator("tr", has_text="Sam Carter")
    row.get_by_text("Locked out until").wait_for()
    screenshot(owner_page, "members_locked")
    row.get_by_role("button", name="Unlock Sam Carter").click()
    owner_page.get_by_text("Sam Carter can sign in again.").wait_for()
    # ... and resets his two-factor sign-in, after saying yes to the question.
    owner_page.once("dialog", lambda dialog: dialog.accept())
    row = owner_page.locator("tr", has_text="Sam Carter")
    row.get_by_role("button", name="Reset two-factor of Sam Carter").click()
    owner_page.get_by_text("Two-factor sign-in is reset for Sam Carter").wait_for()
    screenshot(owner_page, "members_two_factor_reset")
    owner_page.goto(f"{base}/settings/practice/")
    owner_page.get_by_label("Require two-factor sign-in for every member").wait_for()
    screenshot(owner_page, "practice_settings_security")
    owner.close()

    sign_in(page, base, email=sam.email)
    page.wait_for_url(f"{base}/")
    context.close()
