"""templates/django/forms/widgets/select.html: the options written in, the same HTML as Django's."""

from __future__ import annotations

from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.test import SimpleTestCase


class ThreeSelects(forms.Form):
    plain = forms.ChoiceField(choices=[("", "Anyone"), ("me", "Me"), ("7", "Ann <& Co>")])
    grouped = forms.ChoiceField(
        choices=[("Open", [("ready", "Ready"), ("failed", "Failed")]), ("done", "Done")],
        widget=forms.Select(attrs={"class": "wide", "data-autosubmit": True}),
    )
    several = forms.MultipleChoiceField(choices=[("1", "One"), ("2", "Two"), ("3", "Three")])
    maybe = forms.NullBooleanField()


class CheckedOption(forms.Select):
    option_template_name = "django/forms/widgets/input_option.html"
    option_inherits_attrs = True


class SelectTemplateTests(SimpleTestCase):
    def _both(self, form: forms.Form) -> None:
        django = DjangoTemplates()
        for field in form:
            with self.subTest(field=field.name):
                ours = str(field)
                theirs = field.as_widget(attrs=None)
                self.assertEqual(ours, theirs)
                field.form.renderer = django
                self.assertEqual(ours, field.as_widget())
                field.form.renderer = None

    def test_the_project_template_is_the_one_rendered(self) -> None:
        template = get_default_renderer().get_template("django/forms/widgets/select.html")
        self.assertIn("templates/django/forms/widgets/select.html", template.origin.name)

    def test_it_renders_what_djangos_renders(self) -> None:
        self._both(ThreeSelects())
        self._both(ThreeSelects({"plain": "7", "grouped": "failed", "several": ["1", "3"]}))

    def test_an_option_of_another_template_is_still_included(self) -> None:
        class Form(forms.Form):
            odd = forms.ChoiceField(choices=[("a", "A")], widget=CheckedOption)

        self._both(Form())
        self.assertIn('type="select"', str(Form()["odd"]))
