"""`{% url %}` as Django writes it, reversing ids through sodium.urlshapes (a template
builtin in settings, so it stands in for Django's own tag in every template)."""

from __future__ import annotations

from django import template
from django.template import defaulttags
from django.urls import NoReverseMatch

from sodium.urlshapes import reverse_ids

register = template.Library()
_MISSING = object()


class URLNode(defaulttags.URLNode):
    """Django's URLNode, with `reverse_ids` in place of `reverse`."""

    def render(self, context) -> str:
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        # As Django's: the request's current_app, else its resolver match's namespace (read
        # without raising, which cost more than the rest of a link).
        request = getattr(context, "request", None)
        current_app = getattr(request, "current_app", _MISSING)
        if current_app is _MISSING:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        escaped = bool(context.autoescape) and not self.asvar
        url = ""
        try:
            url = reverse_ids(view_name, args, kwargs, current_app, escaped=escaped)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return url


@register.tag
def url(parser, token) -> URLNode:
    """Parse `{% url %}` exactly as Django does (`django.template.defaulttags.url`)."""
    node = defaulttags.url(parser, token)
    return URLNode(node.view_name, node.args, node.kwargs, node.asvar)
