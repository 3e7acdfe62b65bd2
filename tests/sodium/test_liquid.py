"""sodium.liquid: rendering (escaped HTML, raw text), validation, the parse cache, the
context builder, and a render failure at send time."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from django.test import SimpleTestCase

from sodium import liquid
from sodium.models import OutboundMessage
from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.test_liquid_variables import built_by_build_context
from workflows import context, engine
from workflows.models import Mode, Step, StepGroup, StepType


class RenderTests(SimpleTestCase):
    def test_values_are_escaped_in_the_html_part_and_raw_in_the_text_part(self) -> None:
        rendered = liquid.render_message(
            "Accounts for {{ client.name }}",
            "Dear {{ client.name }},\n\nThanks.",
            {"client": {"name": "<b>Tom & Jerry</b>"}},
        )
        self.assertEqual(rendered.subject, "Accounts for <b>Tom & Jerry</b>")
        self.assertEqual(rendered.text, "Dear <b>Tom & Jerry</b>,\n\nThanks.")
        self.assertIn("&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;", rendered.html)
        self.assertNotIn("<b>", rendered.html)
        self.assertEqual(rendered.html.count("<p>"), 2)

    def test_the_html_part_has_paragraphs_line_breaks_and_links(self) -> None:
        rendered = liquid.render_message(
            "Hi", "Line one\nLine two\n\nSee {{ link }}", {"link": "https://portal.example/x"}
        )
        self.assertEqual(
            rendered.html,
            "<p>Line one<br>\nLine two</p>\n"
            '<p>See <a href="https://portal.example/x">https://portal.example/x</a></p>',
        )

    def test_the_subject_is_one_line(self) -> None:
        rendered = liquid.render_message("Hello\n  {{ name }}\n", "Body", {"name": "Ann"})
        self.assertEqual(rendered.subject, "Hello Ann")

    def test_missing_values_render_empty_and_default_fills_them(self) -> None:
        source = (
            "Dear {{ contacts.main.first_name | default: 'client' }}"
            "{{ nothing.at.all }}, {{ absent | default: 'friend' }}"
        )
        self.assertEqual(
            liquid.render_string(source, {"contacts": {"main": {"first_name": ""}}}),
            "Dear client, friend",
        )
        self.assertEqual(
            liquid.render_string(source, {"contacts": {"main": {"first_name": "Ann"}}}),
            "Dear Ann, friend",
        )

    def test_a_syntax_error_raises_template_error(self) -> None:
        for source in ("{{ client.name ", "{% if %}yes{% endif %}", "{% for x in %}"):
            with self.subTest(source=source):
                with self.assertRaises(liquid.TemplateError) as caught:
                    liquid.render_string(source, {})
                self.assertTrue(str(caught.exception))
                self.assertNotIn("\n", str(caught.exception))
                with self.assertRaises(liquid.TemplateError):
                    liquid.compile_template(source)

    def test_a_runtime_error_raises_template_error(self) -> None:
        for source in ("{{ x | no_such_filter }}", "{{ 1 | divided_by: 0 }}"):
            with self.subTest(source=source):
                with self.assertRaises(liquid.TemplateError):
                    liquid.render_string(source, {"x": 1})


class ValidateTests(SimpleTestCase):
    def validate(self, source: str) -> list[str]:
        return liquid.validate(source, context.KNOWN_PATHS)

    def test_a_syntax_error_is_reported(self) -> None:
        problems = self.validate("Dear {{ client.name")
        self.assertEqual(len(problems), 1)
        self.assertTrue(problems[0].startswith("Syntax error: "))

    def test_unknown_filters_are_reported(self) -> None:
        self.assertEqual(
            self.validate("{{ client.name | shout | upcase | whisper }}"),
            ["Unknown filter “shout”.", "Unknown filter “whisper”."],
        )

    def test_unknown_variables_are_reported(self) -> None:
        self.assertEqual(
            self.validate("{{ client.nickname }} {{ secret }} {{ contacts.cousin.name }}"),
            [
                "Unknown variable “client.nickname”.",
                "Unknown variable “contacts.cousin.name”.",
                "Unknown variable “secret”.",
            ],
        )

    def test_every_documented_variable_is_accepted(self) -> None:
        self.assertGreater(len(context.VARIABLES), 20)
        for var in context.VARIABLES:
            with self.subTest(path=var.path):
                self.assertEqual(self.validate(f"{{{{ {var.path} | default: 'x' }}}}"), [])
        everything = " ".join(f"{{{{ {v.path} }}}}" for v in context.VARIABLES)
        self.assertEqual(self.validate(everything), [])

    def test_a_whole_contact_and_loops_over_it_are_accepted(self) -> None:
        self.assertEqual(self.validate("{{ contacts.director }}"), [])
        self.assertEqual(
            self.validate(
                "{% assign who = client.name %}{{ who }}"
                "{% for c in contacts.main %}{{ c }}{% endfor %}"
            ),
            [],
        )

    def test_plain_text_has_no_problems(self) -> None:
        self.assertEqual(self.validate("Thanks for your records."), [])


class ParseCacheTests(SimpleTestCase):
    def test_the_same_text_is_parsed_once(self) -> None:
        source = "Cached {{ client.name }} " + self.id()
        before = liquid._compile.cache_info()
        first = liquid.compile_template(source)
        second = liquid.compile_template(source)
        after = liquid._compile.cache_info()
        self.assertIs(first, second)
        self.assertEqual(after.misses, before.misses + 1)
        self.assertEqual(after.hits, before.hits + 1)

    def test_html_and_text_are_cached_separately(self) -> None:
        source = "{{ v }} " + self.id()
        text = liquid.compile_template(source)
        html = liquid.compile_template(source, kind="html")
        self.assertIsNot(text, html)
        self.assertEqual(html.render(v="<i>"), "&lt;i&gt; " + self.id())
        self.assertEqual(text.render(v="<i>"), "<i> " + self.id())

    def test_rendering_reuses_the_parsed_template(self) -> None:
        source = "Hello {{ name }} " + self.id()
        liquid.render_string(source, {"name": "A"})
        with mock.patch.object(
            liquid._TEXT, "from_string", side_effect=AssertionError("parsed again")
        ):
            self.assertEqual(liquid.render_string(source, {"name": "B"}), "Hello B " + self.id())


class BuildContextTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.practice.sender_name = "Ledger"
        self.practice.reply_to = "hello@ledger.example"
        self.service = f.ServiceFactory(practice=self.practice, name="Year-end accounts")
        self.acme = f.ClientFactory(
            practice=self.practice,
            name="Acme Ltd",
            reference="ACME01",
            year_end_day=31,
            year_end_month=3,
            company_number="0123",
        )
        f.ContactFactory(
            client=self.acme,
            first_name="Ann",
            last_name="Ash",
            email="ann@acme.example",
            is_main=True,
        )
        f.ContactFactory(
            client=self.acme,
            first_name="Dee",
            last_name="Dale",
            email="dee@acme.example",
            is_main=False,
            is_director=True,
            is_billing=True,
        )
        self.staff.full_name = "Sam Okafor"
        self.staff.save()
        self.task = f.TaskFactory(
            client=self.acme,
            owner=self.manager,
            name="Accounts 2026",
            service=self.service,
            start_date=dt.date(2026, 12, 1),
            due_date=dt.date(2026, 12, 31),
        )
        group = StepGroup.objects.create(practice=self.practice, task=self.task, name="G")
        self.step = Step.objects.create(
            practice=self.practice,
            task=self.task,
            group=group,
            name="Send draft",
            assignee=self.staff,
            deadline=dt.date(2026, 12, 7),
        )

    def build(self, **kwargs) -> dict:
        return context.build_context(practice=self.practice, client=self.acme, **kwargs)

    def test_contacts_are_filled_by_role(self) -> None:
        ctx = self.build()
        self.assertEqual(
            ctx["contacts"]["main"],
            {"name": "Ann Ash", "first_name": "Ann", "email": "ann@acme.example"},
        )
        self.assertEqual(ctx["contacts"]["director"]["name"], "Dee Dale")
        self.assertEqual(ctx["contacts"]["billing"]["email"], "dee@acme.example")
        self.assertEqual(ctx["contacts"]["payroll"], {"name": "", "first_name": "", "email": ""})

    def test_task_dates_owner_and_service_are_filled(self) -> None:
        ctx = self.build(task=self.task)
        self.assertEqual(ctx["task"]["name"], "Accounts 2026")
        self.assertEqual(ctx["task"]["start_date"], "1 December 2026")
        self.assertEqual(ctx["task"]["due_date"], "31 December 2026")
        self.assertEqual(ctx["task"]["service"], "Year-end accounts")
        self.assertEqual(ctx["task"]["owner"]["email"], self.manager.email)

    def test_the_step_and_its_assignee_are_filled(self) -> None:
        ctx = self.build(task=self.task, step=self.step, action_link="https://x.example/a")
        self.assertEqual(
            ctx["step"],
            {"name": "Send draft", "deadline": "7 December 2026", "title": self.task.name},
        )
        self.assertEqual(
            ctx["assignee"], {"name": "Sam Okafor", "first_name": "Sam", "email": self.staff.email}
        )
        self.assertEqual(ctx["action_link"], "https://x.example/a")

    def test_the_client_and_practice_are_filled(self) -> None:
        ctx = self.build()
        self.assertEqual(ctx["client"]["name"], "Acme Ltd")
        self.assertEqual(ctx["client"]["reference"], "ACME01")
        self.assertEqual(ctx["client"]["year_end"], "31 March")
        self.assertEqual(ctx["client"]["type"], "Limited company")
        self.assertEqual(
            ctx["practice"],
            {"name": "Ledger & Co", "sender_name": "Ledger", "reply_to": "hello@ledger.example"},
        )

    def test_every_documented_variable_renders_from_a_full_context(self) -> None:
        ctx = self.build(task=self.task, step=self.step, action_link="https://x.example/a")
        for var in built_by_build_context():
            with self.subTest(path=var.path):
                node = ctx
                for part in var.path.split("."):
                    self.assertIn(part, node)
                    node = node[part]
        text = liquid.render_string(
            "{{ contacts.main.first_name }} / {{ task.owner.name }} / {{ assignee.first_name }}",
            ctx,
        )
        self.assertEqual(text, f"Ann / {self.manager.full_name} / Sam")

    def test_without_a_task_the_task_variables_are_empty(self) -> None:
        ctx = self.build()
        self.assertEqual(
            liquid.render_string("[{{ task.name }}][{{ assignee.name }}]", ctx), "[][]"
        )


class RenderFailureAtSendTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        f.ContactFactory(client=acme, email="ann@acme.example", is_main=True)
        self.task = f.TaskFactory(client=acme, owner=self.staff, status="in_progress")
        group = StepGroup.objects.create(practice=self.practice, task=self.task, name="G")
        # Written directly, past the validation that would refuse it when saved.
        self.step = Step.objects.create(
            practice=self.practice,
            task=self.task,
            group=group,
            name="Chase records",
            type=StepType.EMAIL,
            mode=Mode.AUTOMATIC,
            status=Step.Status.READY,
            subject="Records",
            body="Dear {{ client.name | shout }}",
            to_recipients=["contact:main"],
        )

    def test_an_automatic_email_that_cannot_render_fails_with_the_reason(self) -> None:
        with mock.patch("sodium.tasks.deliver_message_task.delay") as deliver:
            result = engine.run_step(self.step.pk)
        self.assertEqual(result.status, Step.Status.FAILED)
        self.step.refresh_from_db()
        self.assertEqual(self.step.status, Step.Status.FAILED)
        self.assertIn("could not be written", self.step.failure_reason)
        self.assertIn("shout", self.step.failure_reason)
        self.assertFalse(OutboundMessage.objects.exists())
        deliver.assert_not_called()

    def test_a_runtime_error_that_validation_allows_also_fails_the_step(self) -> None:
        Step.objects.filter(pk=self.step.pk).update(body="Owed: {{ 100 | divided_by: 0 }}")
        self.assertEqual(
            liquid.validate("Owed: {{ 100 | divided_by: 0 }}", context.KNOWN_PATHS), []
        )
        engine.run_step(self.step.pk)
        self.step.refresh_from_db()
        self.assertEqual(self.step.status, Step.Status.FAILED)
        self.assertIn("could not be written", self.step.failure_reason)
        self.assertFalse(OutboundMessage.objects.exists())
