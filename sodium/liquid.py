"""One Liquid environment for every message: parse once, cache by content, validate on save.

Message bodies are written as plain text with Liquid. They are rendered twice: as text (no
escaping) for the text part, and with HTML autoescaping for the HTML part, whose paragraphs and
line breaks come from the text. Values from the database can therefore never inject markup.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from liquid import Environment
from liquid.exceptions import LiquidError

_TEXT = Environment(autoescape=False)
_HTML = Environment(autoescape=True)


class TemplateError(Exception):
    """A Liquid template that cannot be parsed or rendered; the message is for people."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=4096)
def _compile(kind: str, digest: str, source: str):
    env = _HTML if kind == "html" else _TEXT
    return env.from_string(source)


def compile_template(source: str, *, kind: str = "text"):
    """Return the parsed template for `source`, parsing each distinct text once."""
    digest = hashlib.sha256(source.encode()).hexdigest()
    try:
        return _compile(kind, digest, source)
    except LiquidError as exc:
        raise TemplateError(_describe(exc)) from None


def _describe(exc: LiquidError) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def render_string(source: str, context: Mapping[str, Any], *, kind: str = "text") -> str:
    """Render `source` with `context`. Raises TemplateError with a readable reason."""
    template = compile_template(source, kind=kind)
    try:
        return template.render(**context)
    except LiquidError as exc:
        raise TemplateError(_describe(exc)) from None


_URL = re.compile(r"(https?://[^\s<]+)")


def text_to_html(escaped: str) -> str:
    """Turn already-escaped text into paragraphs, line breaks and links."""
    paragraphs = [p for p in re.split(r"\n\s*\n", escaped.strip()) if p.strip()]
    out = []
    for para in paragraphs:
        linked = _URL.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', para)
        out.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return "\n".join(out)


def render_message(subject: str, body: str, context: Mapping[str, Any]) -> Rendered:
    """Render an email's subject and body into text and HTML parts."""
    subject_out = " ".join(render_string(subject, context).split())
    text = render_string(body, context).strip()
    html_body = text_to_html(render_string(body, context, kind="html"))
    return Rendered(subject=subject_out, text=text, html=html_body)


def validate(source: str, known: Iterable[str]) -> list[str]:
    """Return readable problems with `source`: syntax errors, unknown filters and variables.

    `known` holds the variable paths a message may use ("client.name", "contacts.main.name").
    A path is accepted when it, or a path it extends, is known.
    """
    try:
        template = compile_template(source)
    except TemplateError as exc:
        return [f"Syntax error: {exc}"]
    problems = []
    unknown_filters = sorted(set(template.filter_names()) - set(_TEXT.filters))
    problems += [f"Unknown filter “{name}”." for name in unknown_filters]
    known_set = set(known)
    for path in sorted(set(template.global_variable_paths())):
        if not _is_known(path, known_set):
            problems.append(f"Unknown variable “{path}”.")
    return problems


def _is_known(path: str, known: set[str]) -> bool:
    parts = path.split(".")
    return any(".".join(parts[:i]) in known for i in range(len(parts), 0, -1))


def escape(value: str) -> str:
    return html.escape(value)
