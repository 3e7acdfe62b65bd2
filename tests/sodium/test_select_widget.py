"""Selects: sodium/form_renderer.py (written in Python) and the project's select.html (the
template it falls back on) give the same HTML as Django's own renderer."""

from __future__ import annotations

from django import forms
from django.forms.renderers import DjangoTemplates, TemplatesSetting, get_default_renderer
from django.test import SimpleTestCase
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from sodium.form_renderer import FormRenderer, select_html


class Selects(forms.Form):
    plain = forms.ChoiceField(
        choices=[("", "Anyone"), ("me", "Me"), ("7", 'Ann <& "Co"> O\'Neil'), (8, "Eight")]
    )
    grouped = forms.ChoiceField(
        choices=[("Open & shut", [("ready", "Ready"), ("failed", "Failed")]), ("done", "Done")],
        widget=forms.Select(attrs={"class": "a<b", "data-autosubmit": True, "size": 3}),
    )
    several = forms.MultipleChoiceField(choices=[("1", "One"), ("2", "Two"), ("3", "Three")])
    maybe = forms.NullBooleanField()
    lazy = forms.ChoiceField(choices=[("x", gettext_lazy("Open")), ("y", "Plain")])
    safe = forms.ChoiceField(choices=[(mark_safe("a&amp;b"), mark_safe("<b>bold</b>"))])
    off = forms.ChoiceField(
        choices=[("a", "A")], widget=forms.Select(attrs={"disabled": False, "required": True})
    )


class CheckedOption(forms.Select):
    option_template_name = "django/forms/widgets/input_option.html"


class SelectTests(SimpleTestCase):
    def _same(self, form: forms.Form) -> None:
        for field in form:
            with self.subTest(field=field.name, data=form.data):
                ours = str(field)
                for renderer in (TemplatesSetting(), DjangoTemplates()):
                    field.form.renderer = renderer
                    self.assertEqual(ours, field.as_widget())
                field.form.renderer = get_default_renderer()

    def test_the_renderer_and_the_template_are_the_projects(self) -> None:
        self.assertIsInstance(get_default_renderer(), FormRenderer)
        template = get_default_renderer().get_template("django/forms/widgets/select.html")
        self.assertIn("templates/django/forms/widgets/select.html", template.origin.name)

    def test_they_render_what_djangos_renders(self) -> None:
        self._same(Selects())
        self._same(Selects({"plain": "7", "grouped": "failed", "several": ["1", "3"]}))

    def test_plain_selects_are_written_directly_and_the_rest_left_to_the_template(self) -> None:
        form = Selects()
        context = {n: form[n].field.widget.get_context(n, None, {}) for n in form.fields}
        for name in ("plain", "grouped", "several", "safe", "off"):
            self.assertIsNotNone(select_html(context[name]["widget"]), name)
        for name in ("lazy", "maybe"):  # lazy labels: localised by the template
            self.assertIsNone(select_html(context[name]["widget"]), name)

    def test_an_option_of_another_template_is_still_included(self) -> None:
        class Form(forms.Form):
            odd = forms.ChoiceField(choices=[("a", "A")], widget=CheckedOption)

        widget = Form()["odd"].field.widget
        self.assertIsNone(select_html(widget.get_context("odd", None, {})["widget"]))
        self._same(Form())
        self.assertIn('type="select"', str(Form()["odd"]))
