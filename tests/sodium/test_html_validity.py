"""Rendered pages hold together for assistive technology and the Nu Html Checker.

Every aria-describedby/aria-labelledby id exists on the page, `<time datetime>` values are valid
HTML dates and times (no microseconds), and `tel:` links carry no spaces.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from django_scopes import scopes_disabled

from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.wf_factories import chain_template
from workflows import building

IDREF_ATTRS = ("aria-describedby", "aria-labelledby", "aria-controls")
# HTML's valid date string, or global date and time string (fractions of a second: 1–3 digits).
VALID_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}"
    r"(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2}))?$"
)


class PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, id)
        self.datetimes: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for name in IDREF_ATTRS:
            for ref in (attrs.get(name) or "").split():
                self.refs.append((tag, name, ref))
        if tag == "time" and "datetime" in attrs:
            self.datetimes.append(attrs["datetime"])
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])


def parse(response) -> PageParser:
    parser = PageParser()
    parser.feed(response.content.decode())
    return parser


class PageChecks(BaseTestCase):
    def assert_references_exist(self, response) -> None:
        page = parse(response)
        missing = [f"<{t} {a}={r!r}>" for t, a, r in page.refs if r not in page.ids]
        self.assertEqual(missing, [], response.request["PATH_INFO"])


class AriaReferencesTests(PageChecks):
    """Fields' help texts and errors are where their aria-describedby says."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.acme = f.ClientFactory(practice=cls.practice, name="Acme Ltd")
        cls.template = chain_template(cls.practice, cls.owner)
        with scopes_disabled():
            cls.block = building.save_content_block(
                practice=cls.practice, actor=cls.owner, name="Ask", subject="Hi", body="Hello"
            )

    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.owner)

    def test_form_pages_point_only_at_ids_on_the_page(self) -> None:
        group = self.template.groups.get()
        step = group.steps.order_by("position").last()
        pages = [
            "/account/",
            "/settings/practice/",
            "/clients/new/",
            f"/clients/{self.acme.pk}/edit/",
            "/tasks/new/",
            "/settings/teams/new/",
            "/workflows/templates/new/",
            f"/workflows/templates/{self.template.pk}/",
            f"/workflows/templates/steps/{step.pk}/edit/",
            "/workflows/content-blocks/new/",
            f"/workflows/content-blocks/{self.block.pk}/",
        ]
        for url in pages:
            with self.subTest(url=url):
                r = self.client.get(url)
                self.assertEqual(r.status_code, 200, url)
                self.assert_references_exist(r)

    def test_forms_with_errors_point_at_their_error_messages(self) -> None:
        for url, data in [
            ("/clients/new/", {"name": ""}),
            ("/settings/practice/", {"name": "", "primary_colour": "red"}),
            ("/workflows/templates/new/", {"name": ""}),
            ("/workflows/content-blocks/new/", {"name": "", "body": "{% if %}"}),
        ]:
            with self.subTest(url=url):
                r = self.client.post(url, data)
                self.assertEqual(r.status_code, 200, url)
                self.assertContains(r, 'aria-invalid="true"')
                self.assert_references_exist(r)

    def test_the_wizard_stages_point_only_at_ids_on_the_page(self) -> None:
        group = self.template.groups.get()
        r = self.client.post(f"/workflows/groups/{group.pk}/wizard/", {"type": "email"})
        self.assertEqual(r.status_code, 302)
        draft = r["Location"].strip("/").split("/")[-2]
        name = self.client.get(f"/workflows/wizard/{draft}/name/")
        self.assert_references_exist(name)
        self.client.post(
            f"/workflows/wizard/{draft}/name/", {"name": "Ask for records", "action": "next"}
        )
        content = self.client.get(f"/workflows/wizard/{draft}/content/")
        self.assertEqual(content.status_code, 200)
        self.assert_references_exist(content)
        empty = self.client.post(
            f"/workflows/wizard/{draft}/content/", {"source": "", "action": "next"}
        )
        self.assertEqual(empty.status_code, 200)
        self.assert_references_exist(empty)


class TimeAndTelephoneTests(PageChecks):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.acme = f.ClientFactory(practice=cls.practice, name="Acme Ltd")
        cls.contact = f.ContactFactory(
            client=cls.acme, first_name="Ann", phone="+44 (20) 7946-0000", email="a@x.example"
        )
        cls.template = chain_template(cls.practice, cls.owner)
        with scopes_disabled():
            f.ActivityEventFactory(practice=cls.practice, client=cls.acme)

    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.owner)

    def test_time_elements_carry_valid_html_datetimes(self) -> None:
        # Stored timestamps carry microseconds; the datetime attribute must not.
        checked = 0
        for url in ("/workflows/templates/", f"/clients/{self.acme.pk}/"):
            with self.subTest(url=url):
                page = parse(self.client.get(url))
                for value in page.datetimes:
                    self.assertRegex(value, VALID_DATETIME)
                    checked += 1
        self.assertGreater(checked, 0)

    def test_phone_links_have_no_spaces(self) -> None:
        page = parse(self.client.get(f"/clients/{self.acme.pk}/"))
        tel = [h for h in page.hrefs if h.startswith("tel:")]
        self.assertEqual(tel, ["tel:+44207946" + "0000"])
