"""`{% url %}` as Django writes it, reversing ids through sodium.urlshapes (a template
builtin in settings, so it stands in for Django's own tag in every template)."""

from __future__ import annotations

from django import template
from django.template import defaulttags
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape

from sodium.urlshapes import reverse_ids

register = template.Library()


class URLNode(defaulttags.URLNode):
    """Django's URLNode, with `reverse_ids` in place of `reverse`."""

    def render(self, context) -> str:
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            url = reverse_ids(view_name, args, kwargs, current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token) -> URLNode:
    """Parse `{% url %}` exactly as Django does (`django.template.defaulttags.url`)."""
    node = defaulttags.url(parser, token)
    return URLNode(node.view_name, node.args, node.kwargs, node.asvar)
