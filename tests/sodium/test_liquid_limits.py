"""sodium.liquid: every render is bounded, include is refused when parsed, render needs a block."""

from __future__ import annotations

import time
from unittest import mock

from django.test import SimpleTestCase

from sodium import liquid
from workflows.context import KNOWN_PATHS

# The template of issue 10: ten billion passes, pinning a process until it was killed.
HOSTILE = "{% for a in (1..100000) %}{% for b in (1..100000) %}x{% endfor %}{% endfor %}"
LONG = "x" * 90


class BoundedRenderTests(SimpleTestCase):
    def assert_refused(self, source: str, words: str, context: dict | None = None) -> None:
        started = time.monotonic()
        with self.assertRaises(liquid.TemplateError) as caught:
            liquid.render_string(source, context or {})
        self.assertLess(time.monotonic() - started, 2)
        self.assertIn(words, str(caught.exception))
        self.assertFalse(caught.exception.syntax)

    def test_the_hostile_template_of_the_issue_stops_at_once(self) -> None:
        self.assert_refused(HOSTILE, "This template loops too many times")
        for kind in ("text", "html"):
            with self.assertRaises(liquid.TemplateError):
                liquid.render_string(HOSTILE, {}, kind=kind)

    def test_nested_loops_over_many_items_stop_before_they_start(self) -> None:
        items = list(range(200))
        self.assert_refused(
            "{% for a in items %}{% for b in items %}{{ b }}{% endfor %}{% endfor %}",
            "loops too many times",
            {"items": items},
        )

    def test_loops_side_by_side_count_together(self) -> None:
        # Each loop alone is within python-liquid's limit of nested loops; together they
        # would make a million passes.
        source = "{% for a in (1..100) %}" + "{% for b in (1..100) %}{% endfor %}" * 100
        self.assert_refused(source + "{% endfor %}", "loops too many times")

    def test_too_much_output_stops_with_a_message(self) -> None:
        self.assert_refused(
            "{% for a in (1..9000) %}" + LONG + "{% endfor %}",
            "This template produces too much output",
        )
        self.assert_refused(
            "{% capture s %}{% for a in (1..9000) %}" + LONG + "{% endfor %}{% endcapture %}",
            "produces too much output",
        )

    def test_growing_variables_stop_with_a_message(self) -> None:
        self.assert_refused(
            "{% assign s = 'xxxxxxxxxx' %}{% for i in (1..40) %}"
            "{% assign s = s | append: s %}{% endfor %}",
            "This template stores too much in its variables",
        )

    def test_a_list_repeating_one_long_string_counts_every_copy(self) -> None:
        self.assert_refused(
            f"{{% assign big = '{LONG}' | split: ',' %}}{{% for i in (1..20) %}}"
            "{% assign big = big | concat: big %}{% endfor %}",
            "stores too much in its variables",
        )

    def test_a_huge_range_is_refused_even_outside_a_loop(self) -> None:
        for source in (
            "{{ (1..100000000) | join: ',' | size }}",
            "{{ (1..100000000) | sort | size }}",
            "{% for i in (1..100000000) offset: 99999990 %}x{% endfor %}",
            "{% assign n = 100000000 %}{{ (1..n) | reverse | first }}",
            # Longer than a machine integer: len() of such a range raises OverflowError.
            "{% for i in (1..99999999999999999999) %}x{% endfor %}",
            "{{ (1..99999999999999999999) | size }}",
        ):
            with self.subTest(source=source):
                self.assert_refused(source, "a range may hold at most 10,000 numbers")

    def test_replace_and_join_are_refused_before_they_build_a_huge_string(self) -> None:
        self.assert_refused(
            f"{{% assign s = '{LONG}' %}}{{% for i in (1..9) %}}{{% assign s = s | append: s %}}"
            "{% endfor %}{{ s | replace: 'x', s | size }}",
            "produces too much output",
        )
        self.assert_refused(
            f"{{{{ (1..9000) | join: '{LONG}' | size }}}}", "produces too much output"
        )

    def test_a_render_that_runs_too_long_stops_with_a_message(self) -> None:
        slow = "{% for a in (1..5000) %}" + "{% if x %}{% endif %}" * 400 + "{% endfor %}"
        with mock.patch.object(liquid, "RENDER_SECONDS", 0.05):
            self.assert_refused(slow, "This template takes too long to write")

    def test_ordinary_templates_still_render(self) -> None:
        source = (
            "{% for c in contacts %}{{ forloop.index }}. {{ c | upcase }}\n{% endfor %}"
            "{{ 'a,b,c' | split: ',' | join: ' and ' }} {{ 'Dear X' | replace: 'X', name }}"
            "{% for i in (1..3) %}{{ i }}{% endfor %}"
            "{% tablerow i in (1..2) %}{{ i }}{% endtablerow %}"
        )
        out = liquid.render_string(source, {"contacts": ["ann", "bob"], "name": "Ann"})
        self.assertTrue(out.startswith("1. ANN\n2. BOB\na and b and c Dear Ann123"))
        self.assertIn('<td class="col2">2</td>', out)


class ArithmeticErrorTests(SimpleTestCase):
    def test_an_arithmetic_error_inside_a_render_is_a_template_error(self) -> None:
        def overflowing(value, *args):
            raise OverflowError("int too large to convert")

        for kind, env in (("text", liquid._TEXT), ("html", liquid._HTML)):
            filters = {"overflowing": overflowing}
            with self.subTest(kind=kind), mock.patch.dict(env.filters, filters):
                with self.assertRaises(liquid.TemplateError) as caught:
                    liquid.render_string("{{ 1 | overflowing }}", {}, kind=kind)
                self.assertIn("a number too large", str(caught.exception))


class IncludeAndRenderTests(SimpleTestCase):
    def test_include_is_refused_as_a_problem_not_a_syntax_error(self) -> None:
        problems = liquid.validate("Hi {% include 'footer' %}", KNOWN_PATHS)
        self.assertEqual(len(problems), 1)
        self.assertTrue(problems[0].startswith("“{% include %}” is not supported"))
        with self.assertRaises(liquid.TemplateError) as caught:
            liquid.render_string("{% include 'footer' %}", {})
        self.assertIn("is not supported", str(caught.exception))

    def test_render_of_an_unknown_block_is_refused_and_fails_the_render(self) -> None:
        # A render includes a content block (tests/sodium/test_block_includes.py); with no
        # practice known there is none to include.
        problems = liquid.validate("Hi {% render 'footer' %}", KNOWN_PATHS, blocks=["Signature"])
        self.assertEqual(problems, ["There is no content block named “footer”."])
        with self.assertRaises(liquid.TemplateError) as caught:
            liquid.render_string("{% render 'footer' %}", {})
        self.assertEqual(str(caught.exception), "There is no content block named “footer”.")


class ValidateLimitTests(SimpleTestCase):
    def test_a_template_that_hits_a_limit_without_values_is_refused_when_saved(self) -> None:
        started = time.monotonic()
        problems = liquid.validate(HOSTILE, KNOWN_PATHS)
        self.assertLess(time.monotonic() - started, 2)
        self.assertEqual(len(problems), 1)
        self.assertIn("This template loops too many times", problems[0])
        self.assertEqual(
            liquid.validate("{% for a in (1..9000) %}" + LONG + "{% endfor %}", KNOWN_PATHS),
            ["This template produces too much output (over 200 KB of text)."],
        )

    def test_loops_over_the_messages_values_are_not_refused(self) -> None:
        self.assertEqual(
            liquid.validate(
                "{% for c in contacts.main %}{{ c }}{% endfor %}"
                "{% for i in (1..12) %}-{% endfor %}",
                KNOWN_PATHS,
            ),
            [],
        )
