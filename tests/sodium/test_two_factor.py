"""Two-factor sign-in (django-otp): set-up, the code after the password, backup codes, the gate
on every staff page, the practice's requirement, turning it off."""

from __future__ import annotations

import re
from datetime import timedelta

from django.contrib.sessions.models import Session
from django.urls import get_resolver, reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from sodium.models import ActivityEvent, Practice, User
from sodium.roles import Role
from sodium.services import two_factor as services
from sodium.views.two_factor import CODES_COOKIE
from tests import factories as f
from tests.base import BaseTestCase
from tests.sodium.test_isolation import PUBLIC, walk

SIGN_IN_URL = reverse("sodium:login")
VERIFY_URL = reverse("sodium:two-factor-verify")
PAGE_URL = reverse("sodium:two-factor")
START_URL = reverse("sodium:two-factor-start")
CONFIRM_URL = reverse("sodium:two-factor-confirm")
CODES_URL = reverse("sodium:two-factor-codes")
DASHBOARD_URL = reverse("sodium:dashboard")
PASSWORD = "pw-for-tests-1"


def code_for(device: TOTPDevice, ahead: int = 0) -> str:
    """Return the code an authenticator app shows now (`ahead` steps later), as a test would."""
    return (
        f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + ahead):06d}"
    )


def wrong_code(device: TOTPDevice) -> str:
    accepted = {code_for(device, n) for n in (-1, 0, 1, 2)}
    return next(c for c in (f"{n:06d}" for n in range(10)) if c not in accepted)


def new_codes(client) -> list[str]:
    """Return the backup codes waiting in the browser's signed cookie (value:time:signature)."""
    return client.cookies[CODES_COOKIE].value.rsplit(":", 2)[0].split()


def backup_codes_of(user: User) -> set[str]:
    return set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))


def enable_two_factor(user: User) -> tuple[TOTPDevice, list[str]]:
    """Set up an authenticator app and backup codes for `user` through the services."""
    device = services.start_setup(user)
    device, codes = services.confirm_setup(user, code=code_for(device))
    return device, codes


class TwoFactorSetUpTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.staff)

    def test_the_account_page_links_to_it(self) -> None:
        r = self.client.get(reverse("sodium:account"))
        self.assertContains(r, f'href="{PAGE_URL}"')
        self.assertContains(r, "Set up two-factor sign-in")

    def test_opening_the_page_changes_nothing(self) -> None:
        r = self.client.get(PAGE_URL)
        self.assertContains(r, "Set up two-factor sign-in")
        self.assertFalse(TOTPDevice.objects.filter(user=self.staff).exists())

    def test_starting_shows_a_qr_code_and_the_key_to_type(self) -> None:
        r = self.client.post(START_URL)
        self.assertRedirects(r, PAGE_URL)
        device = TOTPDevice.objects.get(user=self.staff)
        self.assertFalse(device.confirmed)
        r = self.client.get(PAGE_URL)
        svg = re.search(r"<svg.*?</svg>", r.content.decode(), re.S)[0]
        self.assertNotIn("style=", svg)
        self.assertNotIn("<script", svg)
        self.assertContains(r, "Turn on two-factor sign-in")
        secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', r.content.decode())[1]
        self.assertEqual(
            secret.replace(" ", ""), re.search(r"secret=([A-Z2-7]+)", device.config_url)[1]
        )

    def test_a_wrong_code_does_not_turn_it_on(self) -> None:
        self.client.post(START_URL)
        device = TOTPDevice.objects.get(user=self.staff)
        r = self.client.post(CONFIRM_URL, {"code": wrong_code(device)})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "That code is not right")
        self.assertContains(r, "<svg")
        device.refresh_from_db()
        self.assertFalse(device.confirmed)
        self.staff.refresh_from_db()
        self.assertFalse(self.staff.two_factor_enabled)
        self.assertEqual(device.throttling_failure_count, 1)

    def test_the_right_code_turns_it_on_and_shows_the_backup_codes_once(self) -> None:
        self.client.post(START_URL)
        device = TOTPDevice.objects.get(user=self.staff)
        r = self.client.post(CONFIRM_URL, {"code": code_for(device)})
        self.assertRedirects(r, CODES_URL)
        self.staff.refresh_from_db()
        self.assertTrue(self.staff.two_factor_enabled)
        tokens = set(new_codes(self.client))
        self.assertEqual(len(tokens), 10)
        # Kept in the browser until the member has them, not in the session's database row.
        for session in Session.objects.all():
            self.assertFalse(tokens & set(str(session.get_decoded()).split("'")))
            self.assertFalse(any(t in session.session_data for t in tokens))
        # The database keeps digests only: none of the codes shown is stored.
        self.assertEqual(len(backup_codes_of(self.staff)), 10)
        self.assertFalse(tokens & backup_codes_of(self.staff))
        r = self.client.get(CODES_URL)
        for token in tokens:
            self.assertContains(r, token)
        download = self.client.get(reverse("sodium:two-factor-codes-download"))
        self.assertEqual(
            download["Content-Disposition"], 'attachment; filename="sodium-backup-codes.txt"'
        )
        self.assertTrue(all(t in download.content.decode() for t in tokens))
        self.client.post(reverse("sodium:two-factor-codes-done"))
        r = self.client.get(CODES_URL, follow=True)
        self.assertRedirects(r, PAGE_URL)
        for token in tokens:
            self.assertNotContains(r, token)
        # This session is verified: staff pages open without asking for a code.
        self.assertEqual(self.client.get(DASHBOARD_URL).status_code, 200)
        self.assertEqual(
            ActivityEvent.objects.filter(verb="member.two_factor_on", actor=self.staff).count(), 1
        )

    def test_confirming_without_starting_is_refused_clearly(self) -> None:
        r = self.client.post(CONFIRM_URL, {"code": "123456"}, follow=True)
        self.assertRedirects(r, PAGE_URL)
        self.assertContains(r, "Start the set-up again")
        self.staff.refresh_from_db()
        self.assertFalse(self.staff.two_factor_enabled)


class TwoFactorSignInTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.device, self.codes = enable_two_factor(self.staff)

    def _password(self):
        return self.client.post(SIGN_IN_URL, {"username": self.staff.email, "password": PASSWORD})

    def test_after_the_password_it_asks_for_a_code(self) -> None:
        r = self._password()
        self.assertRedirects(r, f"{VERIFY_URL}?next=%2F")
        r = self.client.get(DASHBOARD_URL)
        self.assertRedirects(r, f"{VERIFY_URL}?next=%2F")
        r = self.client.get(VERIFY_URL)
        self.assertTemplateUsed(r, "sodium/two_factor_verify.html")

    def test_the_app_code_opens_the_session(self) -> None:
        self._password()
        r = self.client.post(VERIFY_URL, {"code": code_for(self.device, 1), "next": "/tasks/"})
        self.assertRedirects(r, "/tasks/")
        self.assertEqual(self.client.get(DASHBOARD_URL).status_code, 200)

    def test_a_wrong_code_keeps_the_session_closed(self) -> None:
        self._password()
        r = self.client.post(VERIFY_URL, {"code": wrong_code(self.device)})
        self.assertContains(r, "That code is not right")
        self.assertRedirects(self.client.get(DASHBOARD_URL), f"{VERIFY_URL}?next=%2F")

    def test_wrong_codes_hold_back_even_the_right_one_for_a_while(self) -> None:
        self._password()
        for _ in range(3):
            self.client.post(VERIFY_URL, {"code": wrong_code(self.device)})
        r = self.client.post(VERIFY_URL, {"code": code_for(self.device, 1)})
        self.assertContains(r, "Too many wrong codes. Wait")
        self.assertRedirects(self.client.get(DASHBOARD_URL), f"{VERIFY_URL}?next=%2F")
        TOTPDevice.objects.filter(pk=self.device.pk).update(
            throttling_failure_timestamp=timezone.now() - timedelta(minutes=1)
        )
        r = self.client.post(VERIFY_URL, {"code": code_for(self.device, 1)})
        self.assertRedirects(r, DASHBOARD_URL)

    def test_a_backup_code_works_once(self) -> None:
        self._password()
        r = self.client.post(VERIFY_URL, {"code": self.codes[0].upper()})
        self.assertRedirects(r, DASHBOARD_URL)
        self.client.post(reverse("sodium:logout"))
        self._password()
        r = self.client.post(VERIFY_URL, {"code": self.codes[0]})
        self.assertContains(r, "That code is not right")
        self.assertEqual(StaticToken.objects.filter(device__user=self.staff).count(), 9)

    def test_what_the_database_keeps_of_a_backup_code_does_not_sign_in(self) -> None:
        stored = sorted(backup_codes_of(self.staff))
        self.assertEqual(len(stored), 10)
        self._password()
        r = self.client.post(VERIFY_URL, {"code": stored[0]})
        self.assertContains(r, "That code is not right")
        self.assertEqual(len(backup_codes_of(self.staff)), 10)

    def test_a_code_is_not_accepted_twice(self) -> None:
        self._password()
        code = code_for(self.device, 1)
        self.client.post(VERIFY_URL, {"code": code})
        self.client.post(reverse("sodium:logout"))
        self._password()
        r = self.client.post(VERIFY_URL, {"code": code})
        self.assertContains(r, "That code is not right")

    def test_it_ignores_a_next_on_another_host(self) -> None:
        self._password()
        r = self.client.post(
            VERIFY_URL, {"code": code_for(self.device, 1), "next": "https://evil.example/"}
        )
        self.assertRedirects(r, DASHBOARD_URL)

    def test_every_staff_page_needs_the_code(self) -> None:
        self.client.force_login(self.staff)  # password checked, no code yet
        checked = 0
        for name, route, convs in walk(get_resolver().url_patterns):
            if convs or name in PUBLIC or name == "sodium:two-factor-verify":
                continue
            with self.subTest(url=route):
                r = self.client.get("/" + route)
                self.assertIn(r.status_code, {302, 405})
                if r.status_code == 302:
                    self.assertTrue(r["Location"].startswith(VERIFY_URL), r["Location"])
                checked += 1
        self.assertGreater(checked, 20)
        r = self.client.post(reverse("sodium:practice-switch"), {"practice": self.practice.pk})
        self.assertTrue(r["Location"].startswith(VERIFY_URL))

    def test_an_htmx_request_is_sent_to_the_code_page_whole(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(
            "/tasks/?page=2",
            headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/clients/"},
        )
        self.assertEqual(r["HX-Redirect"], f"{VERIFY_URL}?next=%2Fclients%2F")

    def test_a_member_without_two_factor_is_not_asked(self) -> None:
        r = self.client.post(SIGN_IN_URL, {"username": self.manager.email, "password": PASSWORD})
        self.assertRedirects(r, DASHBOARD_URL, fetch_redirect_response=False)
        self.assertEqual(self.client.get(DASHBOARD_URL).status_code, 200)


class PracticeRequiresTwoFactorTests(BaseTestCase):
    SETTINGS_URL = reverse("sodium:practice-settings")

    def _settings(self, **overrides) -> dict:
        data = {
            "name": self.practice.name,
            "sender_name": "",
            "reply_to": "",
            "primary_colour": "#1f5fbf",
            "time_zone": "Europe/London",
            "bank_holiday_nation": "england_wales",
            "country": "GB",
            "send_from": "09:00",
            "send_until": "17:30",
        }
        data.update(overrides)
        return data

    def test_an_owner_can_require_it(self) -> None:
        self.client.force_login(self.owner)
        r = self.client.get(self.SETTINGS_URL)
        self.assertContains(r, 'name="require_two_factor"')
        self.client.post(self.SETTINGS_URL, self._settings(require_two_factor="on"))
        self.assertTrue(Practice.objects.get(pk=self.practice.pk).require_two_factor)
        self.assertTrue(
            ActivityEvent.objects.filter(
                verb="practice.updated", summary__contains="two-factor"
            ).exists()
        )

    def test_an_admin_sees_the_setting_but_cannot_change_it(self) -> None:
        self.client.force_login(self.admin)
        r = self.client.get(self.SETTINGS_URL)
        self.assertNotContains(r, 'name="require_two_factor"')
        self.assertContains(r, "Only an owner can change this.")
        r = self.client.post(self.SETTINGS_URL, self._settings(require_two_factor="on"))
        self.assertRedirects(r, self.SETTINGS_URL)
        self.assertFalse(Practice.objects.get(pk=self.practice.pk).require_two_factor)

    def test_a_member_without_an_app_is_sent_to_set_it_up_and_reaches_nothing_else(self) -> None:
        Practice.objects.filter(pk=self.practice.pk).update(require_two_factor=True)
        self.client.force_login(self.staff)
        for url in (DASHBOARD_URL, "/tasks/", "/clients/", reverse("sodium:account")):
            with self.subTest(url=url):
                self.assertRedirects(self.client.get(url), PAGE_URL)
        r = self.client.get(PAGE_URL)
        self.assertContains(r, "requires two-factor sign-in")
        self.client.post(START_URL)
        device = TOTPDevice.objects.get(user=self.staff)
        r = self.client.post(CONFIRM_URL, {"code": code_for(device)})
        self.assertRedirects(r, CODES_URL)
        self.assertEqual(self.client.get(DASHBOARD_URL).status_code, 200)

    def test_the_requirement_follows_the_practice_being_worked_in(self) -> None:
        other = f.PracticeFactory(name="Zeta Partners", require_two_factor=True)
        f.MembershipFactory(practice=other, user=self.staff, role=Role.STAFF)
        self.client.force_login(self.staff)
        self.assertEqual(self.client.get(DASHBOARD_URL).status_code, 200)
        self.client.post(reverse("sodium:practice-switch"), {"practice": other.pk})
        self.assertRedirects(self.client.get(DASHBOARD_URL), PAGE_URL)


class TurnOffTwoFactorTests(BaseTestCase):
    DISABLE_URL = reverse("sodium:two-factor-disable")

    def setUp(self) -> None:
        super().setUp()
        self.device, self.codes = enable_two_factor(self.staff)
        self.client.post(SIGN_IN_URL, {"username": self.staff.email, "password": PASSWORD})
        self.client.post(VERIFY_URL, {"code": self.codes[0]})

    def test_a_current_code_turns_it_off(self) -> None:
        r = self.client.post(self.DISABLE_URL, {"code": code_for(self.device, 1)}, follow=True)
        self.assertContains(r, "Two-factor sign-in is off.")
        self.staff.refresh_from_db()
        self.assertFalse(self.staff.two_factor_enabled)
        self.assertFalse(TOTPDevice.objects.filter(user=self.staff).exists())
        self.assertFalse(StaticDevice.objects.filter(user=self.staff).exists())
        self.assertTrue(ActivityEvent.objects.filter(verb="member.two_factor_off").exists())
        self.client.post(reverse("sodium:logout"))
        r = self.client.post(SIGN_IN_URL, {"username": self.staff.email, "password": PASSWORD})
        self.assertRedirects(r, DASHBOARD_URL, fetch_redirect_response=False)

    def test_a_wrong_code_changes_nothing(self) -> None:
        r = self.client.post(self.DISABLE_URL, {"code": wrong_code(self.device)}, follow=True)
        self.assertContains(r, "That code is not right")
        self.staff.refresh_from_db()
        self.assertTrue(self.staff.two_factor_enabled)
        self.assertTrue(TOTPDevice.objects.filter(user=self.staff, confirmed=True).exists())

    def test_it_cannot_be_turned_off_where_the_practice_requires_it(self) -> None:
        Practice.objects.filter(pk=self.practice.pk).update(require_two_factor=True)
        r = self.client.get(PAGE_URL)
        self.assertNotContains(r, f'action="{self.DISABLE_URL}"')
        r = self.client.post(self.DISABLE_URL, {"code": code_for(self.device, 1)}, follow=True)
        self.assertContains(r, "requires two-factor sign-in, so it cannot be turned off")
        self.staff.refresh_from_db()
        self.assertTrue(self.staff.two_factor_enabled)

    def test_new_backup_codes_replace_the_old_ones(self) -> None:
        r = self.client.post(reverse("sodium:two-factor-codes-new"))
        self.assertRedirects(r, CODES_URL)
        new = set(new_codes(self.client))
        self.assertEqual(len(new), 10)
        self.assertFalse(new & set(self.codes))
        services.check_code(self.staff, new.pop())
        with self.assertRaises(services.TwoFactorError):
            services.check_code(self.staff, self.codes[1])


class OwnerResetsTwoFactorTests(BaseTestCase):
    """A member who lost their phone and codes: an owner resets their two-factor."""

    def setUp(self) -> None:
        super().setUp()
        self.device, _codes = enable_two_factor(self.staff)
        self.membership = self.memberships[Role.STAFF]
        self.url = reverse("sodium:member-two-factor-reset", args=[self.membership.pk])

    def test_an_owner_resets_it_and_the_member_signs_in_with_the_password(self) -> None:
        self.client.force_login(self.owner)
        self.assertContains(self.client.get(reverse("sodium:member-list")), f'action="{self.url}"')
        r = self.client.post(self.url, follow=True)
        self.assertContains(r, "Two-factor sign-in is reset for")
        self.staff.refresh_from_db()
        self.assertFalse(self.staff.two_factor_enabled)
        self.assertFalse(TOTPDevice.objects.filter(user=self.staff).exists())
        self.assertFalse(StaticDevice.objects.filter(user=self.staff).exists())
        self.assertTrue(
            ActivityEvent.objects.filter(
                practice=self.practice, verb="member.two_factor_reset", object_id=self.membership.pk
            ).exists()
        )
        self.client.logout()
        r = self.client.post(SIGN_IN_URL, {"username": self.staff.email, "password": PASSWORD})
        self.assertRedirects(r, DASHBOARD_URL, fetch_redirect_response=False)
        self.assertEqual(self.client.get(DASHBOARD_URL).status_code, 200)

    def test_an_admin_cannot_and_sees_no_button(self) -> None:
        self.client.force_login(self.admin)
        self.assertNotContains(self.client.get(reverse("sodium:member-list")), self.url)
        self.assertEqual(self.client.post(self.url).status_code, 403)
        self.assertTrue(TOTPDevice.objects.filter(user=self.staff).exists())

    def test_it_refuses_get(self) -> None:
        self.client.force_login(self.owner)
        self.assertEqual(self.client.get(self.url).status_code, 405)
        self.assertTrue(TOTPDevice.objects.filter(user=self.staff).exists())

    def test_an_owner_cannot_reset_someone_who_also_works_in_a_practice_they_do_not_own(
        self,
    ) -> None:
        added = f.MembershipFactory(practice=self.other_practice, user=self.staff)
        self.client.force_login(self.outsider)
        url = reverse("sodium:member-two-factor-reset", args=[added.pk])
        r = self.client.post(url, follow=True)
        self.assertContains(r, "also works in a practice you do not own")
        self.assertTrue(TOTPDevice.objects.filter(user=self.staff, confirmed=True).exists())

    def test_another_practices_member_is_404(self) -> None:
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.post(self.url).status_code, 404)
        self.assertTrue(TOTPDevice.objects.filter(user=self.staff).exists())
