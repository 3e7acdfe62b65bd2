"""Reverse URLs by their ids without Django's resolver each time.

`reverse()` costs about 45 µs a call (it walks the resolver's candidates and checks each
against its pattern); a list row links its task two or three times, so a page of 25 rows
spent more on links than on its queries. `reverse_ids()` reverses a URL name once with
stand-in ids, keeps the text around them (its *shape*) and then only joins the real ids
in: the same string `reverse()` gives, for ids that are non-negative ints. Anything else
(no such name, other arguments, a pattern the stand-ins do not fit) goes to `reverse()`.
One name with two patterns of the same arguments that accept different ids (re_path) would
break this; the project has none, and tests/sodium/test_urlshapes.py compares every route.

The project's `{% url %}` tag (sodium/templatetags/urls.py, a template builtin) uses it, so
templates keep writing `{% url 'sodium:task-detail' task.pk %}`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe

# Stand-ins for the ids: long enough that no path holds them by chance.
_STAND_IN = 7_306_251_848_193_000

# key -> (texts between the ids, the same HTML-escaped, the order of the arguments in the
# URL) or None when the name does not reverse with stand-ins (then reverse() does it).
_shapes: dict[tuple, tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...]] | None] = {}


def _is_id(value: Any) -> bool:
    return type(value) is int and value >= 0


def _shape(key: tuple, view_name: str, nargs: int, names: tuple[str, ...], current_app):
    stand_ins = [_STAND_IN + i for i in range(nargs + len(names))]
    try:
        url = reverse(
            view_name,
            args=stand_ins[:nargs],
            kwargs=dict(zip(names, stand_ins[nargs:], strict=True)),
            current_app=current_app,
        )
    except NoReverseMatch:
        _shapes[key] = None
        return None
    found = []
    for index, stand_in in enumerate(stand_ins):
        text = str(stand_in)
        if url.count(text) != 1:
            _shapes[key] = None
            return None
        found.append((url.index(text), index, len(text)))
    found.sort()
    texts, order, start = [], [], 0
    for position, index, length in found:
        texts.append(url[start:position])
        order.append(index)
        start = position + length
    texts.append(url[start:])
    # Escaping works character by character and leaves digits alone, so the escaped texts
    # joined around the ids are the escaped URL.
    shape = (tuple(texts), tuple(escape(t) for t in texts), tuple(order))
    _shapes[key] = shape
    return shape


def reverse_ids(
    view_name: str,
    args: list | tuple = (),
    kwargs: dict[str, Any] | None = None,
    current_app: str | None = None,
    *,
    escaped: bool = False,
) -> str:
    """Return `reverse(view_name, args=args, kwargs=kwargs)`, cheaply when every argument
    is a non-negative int; HTML-escaped (a SafeString) when `escaped`.

    Raises NoReverseMatch as reverse() does.
    """
    kwargs = kwargs or {}
    values = [*args, *kwargs.values()]
    shape = None
    if all(_is_id(v) for v in values):
        names = tuple(kwargs)
        key = (
            view_name,
            len(args),
            names,
            current_app,
            get_urlconf() or settings.ROOT_URLCONF,
            get_script_prefix(),
        )
        if key in _shapes:
            shape = _shapes[key]
        else:
            shape = _shape(key, view_name, len(args), names, current_app)
    if shape is None:
        url = reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
        return conditional_escape(url) if escaped else url
    raw, html, order = shape
    texts = html if escaped else raw
    out = [texts[0]]
    for i, index in enumerate(order):
        out.append(str(values[index]))
        out.append(texts[i + 1])
    url = "".join(out)
    return mark_safe(url) if escaped else url


def _forget(*, setting: str, **_kwargs) -> None:
    # Tests that swap the URL configuration must not see the shapes of the old one.
    if setting == "ROOT_URLCONF":
        _shapes.clear()


setting_changed.connect(_forget)
