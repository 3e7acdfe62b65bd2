"""Content-Security-Policy on every page (staff, portal, errors), and nothing inline it blocks."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.test import SimpleTestCase
from django.urls import reverse

from tests import factories as f
from tests.base import BaseTestCase
from tests.portal.helpers import sign_in

TEMPLATES = Path(settings.BASE_DIR) / "templates"

# What the policy must say, directive by directive (the nonce is checked separately).
REQUIRED = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}


def directives(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    parts = [p.strip().split(None, 1) for p in header.split(";") if p.strip()]
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


class ContentSecurityPolicyHeaderTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        cache.clear()

    def assert_strict_policy(self, response) -> dict[str, str]:
        policy = directives(response)
        for name, value in REQUIRED.items():
            self.assertEqual(policy.get(name), value, name)
        for name in ("script-src", "style-src"):
            sources = policy[name].split()
            self.assertIn("'self'", sources)
            self.assertNotIn("'unsafe-inline'", sources)
            self.assertNotIn("'unsafe-eval'", sources)
        return policy

    def test_it_sends_the_policy_on_a_staff_page_with_the_pages_nonce(self) -> None:
        self.client.force_login(self.owner)
        r = self.client.get(reverse("sodium:dashboard"))
        self.assertEqual(r.status_code, 200)
        policy = self.assert_strict_policy(r)
        nonce = re.search(r"'nonce-([^']+)'", policy["script-src"]).group(1)
        # The htmx script and the practice's colour carry this request's nonce.
        self.assertContains(r, f'<style nonce="{nonce}">')
        self.assertContains(r, f'defer nonce="{nonce}"')
        self.assertIn(f"'nonce-{nonce}'", policy["style-src"])

    def test_it_gives_each_request_its_own_nonce(self) -> None:
        self.client.force_login(self.owner)
        first = directives(self.client.get(reverse("sodium:dashboard")))["script-src"]
        second = directives(self.client.get(reverse("sodium:dashboard")))["script-src"]
        self.assertNotEqual(first, second)

    def test_it_sends_the_policy_on_the_sign_in_page(self) -> None:
        self.assert_strict_policy(self.client.get(reverse("sodium:login")))

    def test_it_sends_the_policy_on_the_portal_home(self) -> None:
        client = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        contact = f.ContactFactory(client=client, email="ellie@x.example")
        sign_in(self.client, contact)
        r = self.client.get(reverse("portal:home"))
        self.assertEqual(r.status_code, 200)
        self.assert_strict_policy(r)

    def test_it_sends_the_policy_on_error_pages(self) -> None:
        self.client.force_login(self.staff)
        not_found = self.client.get("/clients/999999/")
        self.assertEqual(not_found.status_code, 404)
        self.assert_strict_policy(not_found)
        forbidden = self.client.get(reverse("sodium:practice-settings"))
        self.assertEqual(forbidden.status_code, 403)
        self.assert_strict_policy(forbidden)

    def test_it_configures_htmx_not_to_inject_styles_or_evaluate(self) -> None:
        self.client.force_login(self.owner)
        r = self.client.get(reverse("sodium:dashboard"))
        self.assertContains(r, '<meta name="htmx-config"')
        self.assertContains(r, '"includeIndicatorStyles": false')
        self.assertContains(r, '"allowEval": false')


class NoInlineCodeInTemplatesTests(SimpleTestCase):
    """The policy blocks inline scripts, handlers and style attributes, so no template has any."""

    FORBIDDEN = [
        (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
        (re.compile(r"\son[a-z]+\s*=", re.I), "an on*= handler"),
        (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
        (re.compile(r"\shx-on", re.I), "an hx-on attribute"),
        (re.compile(r"javascript:", re.I), "a javascript: URL"),
        (re.compile(r"<style(?![^>]*\bnonce=)[^>]*>", re.I), "a <style> without the nonce"),
    ]

    def test_no_template_has_inline_code_the_policy_would_block(self) -> None:
        found = []
        for path in sorted(TEMPLATES.rglob("*.html")):
            text = path.read_text()
            for pattern, what in self.FORBIDDEN:
                for match in pattern.finditer(text):
                    line = text.count("\n", 0, match.start()) + 1
                    found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
        self.assertEqual(found, [])
