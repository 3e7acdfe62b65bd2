"""Signing in and out, the no-practice page, switching practice and the forgotten password."""

from __future__ import annotations

import re

from django.core import mail
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from sodium.roles import Role
from sodium.tenancy import SESSION_KEY
from tests import factories as f
from tests.base import BaseTestCase

SIGN_IN_URL = reverse("sodium:login")
SIGN_OUT_URL = reverse("sodium:logout")
DASHBOARD_URL = reverse("sodium:dashboard")
SWITCH_URL = reverse("sodium:practice-switch")
FORGOT_URL = reverse("sodium:forgot-password")
PASSWORD = "pw-for-tests-1"
WRONG_LOGIN = "That email and password do not match an account."
RESET_SENT = "If that address has an account, we have emailed it a link to set a new password."


class SignInViewTests(BaseTestCase):
    def _signed_in_user_id(self) -> str | None:
        return self.client.session.get("_auth_user_id")

    def test_it_shows_the_sign_in_form(self) -> None:
        r = self.client.get(SIGN_IN_URL)
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/sign_in.html")
        self.assertContains(r, 'name="username"')
        self.assertContains(r, 'name="password"')

    def test_it_refuses_a_wrong_password(self) -> None:
        r = self.client.post(SIGN_IN_URL, {"username": self.staff.email, "password": "nope"})
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/sign_in.html")
        self.assertContains(r, WRONG_LOGIN)
        self.assertIsNone(self._signed_in_user_id())

    def test_it_refuses_an_unknown_email_with_the_same_message(self) -> None:
        r = self.client.post(SIGN_IN_URL, {"username": "nobody@example.com", "password": "x"})
        self.assertContains(r, WRONG_LOGIN)
        self.assertIsNone(self._signed_in_user_id())

    def test_it_signs_in_and_goes_to_the_dashboard(self) -> None:
        r = self.client.post(SIGN_IN_URL, {"username": self.staff.email, "password": PASSWORD})
        self.assertRedirects(r, DASHBOARD_URL)
        self.assertEqual(self._signed_in_user_id(), str(self.staff.pk))

    def test_it_accepts_the_email_in_any_case(self) -> None:
        r = self.client.post(
            SIGN_IN_URL, {"username": self.staff.email.upper(), "password": PASSWORD}
        )
        self.assertRedirects(r, DASHBOARD_URL)
        self.assertEqual(self._signed_in_user_id(), str(self.staff.pk))

    def test_it_ignores_a_next_on_another_host(self) -> None:
        r = self.client.post(
            SIGN_IN_URL,
            {
                "username": self.staff.email,
                "password": PASSWORD,
                "next": "https://evil.example/steal",
            },
        )
        self.assertRedirects(r, DASHBOARD_URL)


class SignOutViewTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.staff)

    def test_it_refuses_get(self) -> None:
        r = self.client.get(SIGN_OUT_URL)
        self.assertEqual(r.status_code, 405)
        self.assertEqual(self.client.session.get("_auth_user_id"), str(self.staff.pk))

    def test_it_signs_out_on_post(self) -> None:
        r = self.client.post(SIGN_OUT_URL)
        self.assertRedirects(r, SIGN_IN_URL)
        self.assertIsNone(self.client.session.get("_auth_user_id"))
        r = self.client.get(DASHBOARD_URL)
        self.assertRedirects(r, f"{SIGN_IN_URL}?next={DASHBOARD_URL}")


class NoPracticeTests(BaseTestCase):
    def test_a_user_without_a_practice_is_told_so(self) -> None:
        loner = f.UserFactory()
        self.client.force_login(loner)
        r = self.client.get(DASHBOARD_URL)
        self.assertEqual(r.status_code, 403)
        self.assertTemplateUsed(r, "sodium/no_practice.html")
        self.assertContains(r, loner.email, status_code=403)

    def test_a_member_sees_the_dashboard(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(DASHBOARD_URL)
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/dashboard.html")
        self.assertTemplateNotUsed(r, "sodium/no_practice.html")


class PracticeSwitchViewTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        # The staff member also works for the rival practice, whose name sorts later.
        f.MembershipFactory(practice=self.other_practice, user=self.staff, role=Role.STAFF)
        self.client.force_login(self.staff)

    def test_it_starts_in_the_first_practice_by_name(self) -> None:
        r = self.client.get(DASHBOARD_URL)
        self.assertEqual(r.context["practice"], self.practice)
        self.assertContains(r, 'id="practice-switch"')

    def test_it_switches_to_another_practice_of_the_user(self) -> None:
        r = self.client.post(SWITCH_URL, {"practice": self.other_practice.pk})
        self.assertRedirects(r, DASHBOARD_URL)
        self.assertEqual(self.client.session[SESSION_KEY], self.other_practice.pk)
        r = self.client.get(DASHBOARD_URL)
        self.assertEqual(r.context["practice"], self.other_practice)
        self.assertContains(r, "Rival Accountants")

    def test_it_opens_the_last_chosen_practice_at_the_next_sign_in(self) -> None:
        self.client.post(SWITCH_URL, {"practice": self.other_practice.pk})
        self.client.logout()
        self.client.post(SIGN_IN_URL, {"username": self.staff.email, "password": PASSWORD})
        r = self.client.get(DASHBOARD_URL)
        self.assertEqual(r.context["practice"], self.other_practice)

    def test_it_refuses_a_practice_the_user_is_not_in(self) -> None:
        third = f.PracticeFactory(name="Third Practice")
        r = self.client.post(SWITCH_URL, {"practice": third.pk}, follow=True)
        self.assertRedirects(r, DASHBOARD_URL)
        self.assertContains(r, "You are not a member of that practice.")
        self.assertNotIn(SESSION_KEY, self.client.session)
        self.assertEqual(r.context["practice"], self.practice)

    def test_it_keeps_the_current_practice_when_a_switch_is_refused(self) -> None:
        self.client.post(SWITCH_URL, {"practice": self.other_practice.pk})
        r = self.client.post(SWITCH_URL, {"practice": "not-a-number"}, follow=True)
        self.assertContains(r, "You are not a member of that practice.")
        self.assertEqual(self.client.session[SESSION_KEY], self.other_practice.pk)
        self.assertEqual(r.context["practice"], self.other_practice)

    def test_it_follows_a_next_on_this_site(self) -> None:
        r = self.client.post(SWITCH_URL, {"practice": self.other_practice.pk, "next": "/tasks/"})
        self.assertRedirects(r, "/tasks/")

    def test_it_ignores_a_next_on_another_host(self) -> None:
        for nxt in ("https://evil.example/", "//evil.example/"):
            with self.subTest(next=nxt):
                r = self.client.post(SWITCH_URL, {"practice": self.other_practice.pk, "next": nxt})
                self.assertRedirects(r, DASHBOARD_URL)

    def test_it_refuses_get(self) -> None:
        r = self.client.get(SWITCH_URL, {"practice": self.other_practice.pk})
        self.assertEqual(r.status_code, 405)
        self.assertNotIn(SESSION_KEY, self.client.session)

    def test_it_asks_anonymous_visitors_to_sign_in(self) -> None:
        self.client.logout()
        r = self.client.post(SWITCH_URL, {"practice": self.other_practice.pk})
        self.assertRedirects(r, f"{SIGN_IN_URL}?next={SWITCH_URL}", fetch_redirect_response=False)


class ForgotPasswordViewTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        cache.clear()  # the reset rate limits count in the cache
        self.addCleanup(cache.clear)

    def _ask(self, email: str):
        return self.client.post(FORGOT_URL, {"email": email}, follow=True)

    @staticmethod
    def _without_csrf_tokens(content: bytes) -> str:
        # Masked CSRF tokens (64 letters and digits) and CSP nonces differ on every response.
        text = re.sub(r'nonce="[^"]+"', 'nonce="<nonce>"', content.decode())
        return re.sub(r"\b[A-Za-z0-9]{64}\b", "<csrf>", text)

    def test_it_shows_the_form(self) -> None:
        r = self.client.get(FORGOT_URL)
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/forgot_password.html")

    def test_it_emails_a_link_to_a_known_address(self) -> None:
        r = self._ask(self.staff.email)
        self.assertRedirects(r, SIGN_IN_URL)
        self.assertContains(r, RESET_SENT)
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, [self.staff.email])
        self.assertRegex(mail.outbox[0].body, r"http://testserver/set-password/\S+/\S+/")

    def test_the_emailed_link_sets_a_new_password(self) -> None:
        self._ask(self.staff.email)
        link = re.search(r"http://testserver(/set-password/\S+/)", mail.outbox[0].body)[1]
        r = self.client.get(link, follow=True)
        self.assertTrue(r.context["validlink"])
        r = self.client.post(
            r.redirect_chain[-1][0],
            {"new_password1": "Marmalade-Harbour-91", "new_password2": "Marmalade-Harbour-91"},
        )
        self.assertRedirects(r, DASHBOARD_URL)
        self.staff.refresh_from_db()
        self.assertTrue(self.staff.check_password("Marmalade-Harbour-91"))

    def test_it_says_the_same_and_sends_nothing_for_an_unknown_address(self) -> None:
        known = self._ask(self.staff.email)
        mail.outbox.clear()
        unknown = self._ask("nobody@example.com")
        self.assertRedirects(unknown, SIGN_IN_URL)
        self.assertContains(unknown, RESET_SENT)
        self.assertEqual(
            self._without_csrf_tokens(unknown.content), self._without_csrf_tokens(known.content)
        )
        self.assertEqual(len(mail.outbox), 0)

    def test_it_emails_an_invited_member_who_never_chose_a_password(self) -> None:
        # An invitation link expires; its "expired" page sends the person here for a new one.
        invited = f.MembershipFactory(practice=self.practice, user__email="new@example.com").user
        invited.set_unusable_password()
        invited.save(update_fields=["password"])
        self._ask("new@example.com")
        self.assertEqual(len(mail.outbox), 1)


class PasswordResetLimitTests(BaseTestCase):
    TOO_MANY = "Too many requests"

    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        self.addCleanup(cache.clear)

    def _ask(self, email: str, ip: str = "10.0.0.1", follow: bool = False):
        return self.client.post(FORGOT_URL, {"email": email}, REMOTE_ADDR=ip, follow=follow)

    def test_twenty_five_requests_for_one_address_send_three_emails(self) -> None:
        answers = [self._ask(self.staff.email) for _ in range(25)]
        self.assertEqual(len(mail.outbox), 3)
        self.assertEqual([a.status_code for a in answers], [302] * 3 + [429] * 22)
        self.assertContains(answers[-1], self.TOO_MANY, status_code=429)
        self.assertEqual(answers[-1]["Retry-After"], str(15 * 60))

    def test_the_limited_answer_is_the_same_for_an_unknown_address(self) -> None:
        for _ in range(4):
            known = self._ask(self.staff.email, follow=True)
            unknown = self._ask("nobody@example.com", follow=True)
        self.assertEqual((known.status_code, unknown.status_code), (429, 429))
        self.assertEqual(
            ForgotPasswordViewTests._without_csrf_tokens(known.content),
            ForgotPasswordViewTests._without_csrf_tokens(unknown.content),
        )

    def test_it_counts_an_address_whatever_its_case(self) -> None:
        for email in (self.staff.email, self.staff.email.upper(), f" {self.staff.email} "):
            self._ask(email)
        self.assertEqual(self._ask(self.staff.email.title()).status_code, 429)
        self.assertEqual(len(mail.outbox), 3)

    def test_one_network_address_gets_ten_requests_in_the_window(self) -> None:
        for n in range(10):
            self.assertEqual(self._ask(f"person{n}@example.com").status_code, 302)
        self.assertEqual(self._ask(self.staff.email).status_code, 429)
        self.assertEqual(len(mail.outbox), 0)
        # Another address is still served.
        self.assertEqual(self._ask(self.staff.email, ip="10.0.0.2").status_code, 302)
        self.assertEqual(len(mail.outbox), 1)

    @override_settings(SODIUM_PROXY_HOPS=1)
    def test_behind_a_proxy_it_counts_the_address_the_proxy_saw(self) -> None:
        for n in range(10):
            self.client.post(
                FORGOT_URL,
                {"email": f"person{n}@example.com"},
                REMOTE_ADDR="10.0.0.9",
                headers={"X-Forwarded-For": f"6.6.6.{n}, 198.51.100.20"},
            )
        r = self.client.post(
            FORGOT_URL,
            {"email": self.staff.email},
            REMOTE_ADDR="10.0.0.9",
            headers={"X-Forwarded-For": "7.7.7.7, 198.51.100.21"},
        )
        self.assertEqual(r.status_code, 302)
