"""The form renderer: Django's TemplatesSetting, with the select widget written in Python.

A select of the practice's members renders a template of about a hundred template
operations an option (Django's select.html, its option and attribute templates); the task
list has two of them. `FormRenderer` writes the same HTML directly when every part of it is
plain text (str labels and names, the standard option template) and hands anything else to
the template, templates/django/forms/widgets/select.html. tests/sodium/test_select_widget.py
compares both with Django's own renderer.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import TemplatesSetting
from django.utils.html import escape
from django.utils.safestring import SafeData

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"


def _text(value: Any) -> str:
    # `{{ value }}` of a str: escaped unless marked safe.
    return value if isinstance(value, SafeData) else escape(value)


def _format(value: Any) -> str:
    # `{{ value|stringformat:'s' }}` ("%s" % value, a tuple shown whole, so str()); safe
    # input stays safe.
    text = str(value)
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs: dict[str, Any]) -> str | None:
    # django/forms/widgets/attrs.html
    out = []
    for name, value in attrs.items():
        if not isinstance(name, str):
            return None
        if value is False:
            continue
        out.append(f" {_text(name)}")
        if value is not True:
            out.append(f'="{_format(value)}"')
    return "".join(out)


def select_html(widget: dict[str, Any]) -> str | None:
    """Return select.html's HTML for a widget's context, or None to leave it to the template
    (a label, group or name that is not a str, an option of another template)."""
    attrs = _attrs(widget["attrs"])
    if attrs is None or not isinstance(widget["name"], str):
        return None
    out = [f'<select name="{_text(widget["name"])}"{attrs}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            if not isinstance(group_name, str):
                return None
            out.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            label = option["label"]
            option_attrs = _attrs(option["attrs"])
            if option["template_name"] != OPTION or not isinstance(label, str):
                return None
            if option_attrs is None:
                return None
            out.append(
                f'\n  <option value="{_format(option["value"])}"{option_attrs}>'
                f"{_text(label)}</option>\n"
            )
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out).strip()


class FormRenderer(TemplatesSetting):
    """TemplatesSetting (widgets through the project's engine), selects written directly."""

    def render(self, template_name: str, context: dict[str, Any], request=None) -> str:
        if template_name == SELECT and request is None:
            html = select_html(context["widget"])
            if html is not None:
                return html
        return super().render(template_name, context, request=request)
