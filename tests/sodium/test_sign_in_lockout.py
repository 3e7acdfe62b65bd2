"""Sign-in lockout (django-axes): per account, per address, the lockout page, an owner's unlock."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import skipUnless

from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from sodium.models import ActivityEvent
from sodium.services import two_factor as two_factor_services
from tests import factories as f
from tests.base import BaseTestCase
from tests.sodium.test_two_factor import enable_two_factor, wrong_code

SIGN_IN_URL = reverse("sodium:login")
MEMBERS_URL = reverse("sodium:member-list")
PASSWORD = "pw-for-tests-1"


class LockoutCase(BaseTestCase):
    def sign_in(self, email: str, password: str, ip: str = "10.0.0.1", **headers):
        return self.client.post(
            SIGN_IN_URL, {"username": email, "password": password}, REMOTE_ADDR=ip, **headers
        )

    def fail(self, email: str, times: int, ip: str = "10.0.0.1") -> None:
        for _ in range(times):
            self.sign_in(email, "wrong-password", ip)

    def signed_in(self) -> bool:
        return "_auth_user_id" in self.client.session


class SignInLockoutTests(LockoutCase):
    def test_forty_wrong_passwords_then_the_right_one_does_not_sign_in(self) -> None:
        self.fail(self.staff.email, 40)
        r = self.sign_in(self.staff.email, PASSWORD)
        self.assertEqual(r.status_code, 429)
        self.assertTemplateUsed(r, "sodium/locked_out.html")
        self.assertFalse(self.signed_in())

    @skipUnless(connection.vendor == "postgresql", "PostgreSQL's case folding of lookalikes")
    def test_lookalike_spellings_of_the_address_count_as_the_same_account(self) -> None:
        # PostgreSQL matches "ſ" (long s) to "s" case-insensitively, so "perſon@…" signs in as
        # "person@…": its failures must count against that account, not start a fresh count.
        # (SQLite matches only ASCII case, so there a lookalike never signs in at all.)
        person = f.UserFactory(email="person@example.com")
        person.set_password(PASSWORD)
        person.save()
        f.MembershipFactory(practice=self.practice, user=person)
        spellings = ["perſon@example.com", "PERSON@example.com", "person@example.com"]
        for n in range(settings.AXES_FAILURE_LIMIT):  # a new address each try: by account only
            self.sign_in(spellings[n % 3], "wrong-password", ip=f"10.0.1.{n}")
        for n, spelling in enumerate(spellings):
            self.sign_in(spelling, PASSWORD, ip=f"10.0.2.{n}")
            self.assertFalse(self.signed_in(), spelling)

    def test_four_wrong_passwords_then_the_right_one_signs_in(self) -> None:
        self.fail(self.staff.email, settings.AXES_FAILURE_LIMIT - 1)
        r = self.sign_in(self.staff.email, PASSWORD)
        self.assertRedirects(r, "/", fetch_redirect_response=False)
        self.assertTrue(self.signed_in())

    def test_the_fifth_wrong_password_shows_when_to_try_again(self) -> None:
        self.fail(self.staff.email, settings.AXES_FAILURE_LIMIT - 1)
        r = self.sign_in(self.staff.email, "wrong-password")
        self.assertEqual(r.status_code, 429)
        until = timezone.localtime(timezone.now() + settings.AXES_COOLOFF_TIME)
        self.assertContains(r, "Signing in is paused", status_code=429)
        self.assertContains(r, until.strftime("%H:%M"), status_code=429)
        self.assertContains(r, reverse("sodium:forgot-password"), status_code=429)
        self.assertAlmostEqual(int(r["Retry-After"]), 15 * 60, delta=5)

    def test_it_counts_the_account_whatever_the_case_of_the_email(self) -> None:
        # From a new address each time, so only the account's count can lock.
        emails = [self.staff.email.upper(), self.staff.email, self.staff.email.title()]
        for n, email in enumerate(emails + [f" {self.staff.email} ", self.staff.email.upper()]):
            self.sign_in(email, "wrong-password", ip=f"192.0.2.{n + 1}")
        r = self.sign_in(self.staff.email.title(), PASSWORD, ip="198.51.100.7")
        self.assertEqual(r.status_code, 429)

    def test_it_locks_the_account_whatever_address_the_tries_come_from(self) -> None:
        for n in range(settings.AXES_FAILURE_LIMIT):
            self.sign_in(self.staff.email, "wrong-password", ip=f"192.0.2.{n + 1}")
        r = self.sign_in(self.staff.email, PASSWORD, ip="198.51.100.7")
        self.assertEqual(r.status_code, 429)
        self.assertFalse(self.signed_in())
        # Other accounts from that address are not affected.
        r = self.sign_in(self.manager.email, PASSWORD, ip="198.51.100.7")
        self.assertRedirects(r, "/", fetch_redirect_response=False)

    def test_it_locks_an_address_that_tries_many_accounts(self) -> None:
        for user in (self.owner, self.admin, self.manager, self.ar_manager, self.ar_specialist):
            self.sign_in(user.email, "wrong-password", ip="203.0.113.9")
        r = self.sign_in(self.staff.email, PASSWORD, ip="203.0.113.9")
        self.assertEqual(r.status_code, 429)
        r = self.sign_in(self.staff.email, PASSWORD, ip="10.9.9.9")
        self.assertRedirects(r, "/", fetch_redirect_response=False)

    def test_the_count_is_kept_in_the_database_for_every_web_process(self) -> None:
        self.fail(self.staff.email, 3)
        self.assertEqual(settings.AXES_HANDLER, "axes.handlers.database.AxesDatabaseHandler")
        self.assertEqual(
            sum(
                AccessAttempt.objects.filter(username=self.staff.email).values_list(
                    "failures_since_start", flat=True
                )
            ),
            3,
        )

    @override_settings(SODIUM_PROXY_HOPS=1)
    def test_behind_a_proxy_it_counts_the_address_the_proxy_saw(self) -> None:
        # The client writes whatever it likes left of what our proxy appends.
        for n in range(settings.AXES_FAILURE_LIMIT):
            self.client.post(
                SIGN_IN_URL,
                {"username": f"nobody{n}@example.com", "password": "x"},
                REMOTE_ADDR="10.0.0.2",
                headers={"X-Forwarded-For": f"6.6.6.{n}, 198.51.100.20"},
            )
        self.assertEqual(
            set(AccessAttempt.objects.values_list("ip_address", flat=True)), {"198.51.100.20"}
        )
        r = self.client.post(
            SIGN_IN_URL,
            {"username": self.staff.email, "password": PASSWORD},
            REMOTE_ADDR="10.0.0.2",
            headers={"X-Forwarded-For": "7.7.7.7, 198.51.100.20"},
        )
        self.assertEqual(r.status_code, 429)

    def test_the_lock_lifts_after_the_cool_off(self) -> None:
        self.fail(self.staff.email, settings.AXES_FAILURE_LIMIT)
        AccessAttempt.objects.update(
            attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
        )
        r = self.sign_in(self.staff.email, PASSWORD)
        self.assertRedirects(r, "/", fetch_redirect_response=False)

    def test_tries_while_locked_do_not_push_the_time_back(self) -> None:
        self.fail(self.staff.email, settings.AXES_FAILURE_LIMIT)
        before = AccessAttempt.objects.get().attempt_time
        self.fail(self.staff.email, 3)
        self.assertEqual(AccessAttempt.objects.get().attempt_time, before)


class UnlockMemberTests(LockoutCase):
    def setUp(self) -> None:
        super().setUp()
        self.staff_membership = self.memberships["staff"]
        self.url = reverse("sodium:member-unlock", args=[self.staff_membership.pk])
        self.fail(self.staff.email, settings.AXES_FAILURE_LIMIT)

    def test_an_owner_sees_who_is_locked_out_and_can_unlock_them(self) -> None:
        self.client.force_login(self.owner)
        r = self.client.get(MEMBERS_URL)
        self.assertContains(r, "Locked out until")
        self.assertContains(r, f'action="{self.url}"')
        self.assertEqual(len(re.findall(r"/unlock/", r.content.decode())), 1)
        r = self.client.post(self.url, follow=True)
        self.assertContains(r, f"{self.staff} can sign in again.")
        self.assertNotContains(r, "Locked out until")
        self.assertTrue(
            ActivityEvent.objects.filter(
                practice=self.practice, verb="member.unlocked", object_id=self.staff_membership.pk
            ).exists()
        )
        self.client.logout()
        r = self.sign_in(self.staff.email, PASSWORD)
        self.assertRedirects(r, "/", fetch_redirect_response=False)

    def test_an_admin_cannot_unlock(self) -> None:
        self.client.force_login(self.admin)
        r = self.client.get(MEMBERS_URL)
        self.assertNotContains(r, "/unlock/")
        r = self.client.post(self.url)
        self.assertEqual(r.status_code, 403)
        self.assertTrue(AccessAttempt.objects.filter(username=self.staff.email).exists())

    def test_it_refuses_get(self) -> None:
        self.client.force_login(self.owner)
        r = self.client.get(self.url)
        self.assertEqual(r.status_code, 405)
        self.assertTrue(AccessAttempt.objects.filter(username=self.staff.email).exists())

    def test_it_cannot_unlock_another_practices_member(self) -> None:
        rival = f.MembershipFactory(practice=self.other_practice)
        self.fail(rival.user.email, settings.AXES_FAILURE_LIMIT, ip="192.0.2.50")
        self.client.force_login(self.owner)
        r = self.client.post(reverse("sodium:member-unlock", args=[rival.pk]))
        self.assertEqual(r.status_code, 404)
        self.assertTrue(AccessAttempt.objects.filter(username=rival.user.email).exists())

    def test_an_owner_cannot_unlock_someone_who_also_works_in_a_practice_they_do_not_own(
        self,
    ) -> None:
        # The owner of any practice can add an existing address as a member; unlocking that
        # account after every few guesses would make the lockout worthless.
        rival_owner = f.MembershipFactory(practice=self.other_practice, role="owner")
        added = f.MembershipFactory(practice=self.other_practice, user=self.staff)
        self.client.force_login(rival_owner.user)
        r = self.client.post(reverse("sodium:member-unlock", args=[added.pk]), follow=True)
        self.assertContains(r, "also works in a practice you do not own")
        self.assertTrue(AccessAttempt.objects.filter(username=self.staff.email).exists())
        self.assertFalse(ActivityEvent.objects.filter(verb="member.unlocked").exists())

    def test_it_also_lets_a_member_try_two_factor_codes_again(self) -> None:
        device, _codes = enable_two_factor(self.manager)
        with self.assertRaises(two_factor_services.TwoFactorError):
            two_factor_services.check_code(self.manager, wrong_code(device))
        self.client.force_login(self.owner)
        r = self.client.get(MEMBERS_URL)
        self.assertContains(r, "Codes held back")
        manager_membership = self.memberships["manager"]
        self.client.post(reverse("sodium:member-unlock", args=[manager_membership.pk]))
        device.refresh_from_db()
        self.assertEqual(device.throttling_failure_count, 0)
