"""One Liquid environment for every message: parse once, cache by content, validate on save.

Message bodies are written as plain text with Liquid. They are rendered twice: as text (no
escaping) for the text part, and with HTML autoescaping for the HTML part, whose paragraphs and
line breaks come from the text. Values from the database can therefore never inject markup.

Every render is bounded, because a manager's template runs in web processes (preview, composer)
and in workers (sending): python-liquid's own limits on loop iterations, output, local variables
and context depth, plus what they leave open — a total of loop passes and a time budget per
render, ranges no longer than the loop limit (a filter would otherwise walk a billion-number
range), and `replace` / `join` refused before they build a string over the output limit. A
template that hits a limit fails with a message saying which, like any other render error.
`{% render "signature" %}` includes the practice's content block of that name (its body): the
loader reads blocks of the practice `liquid_blocks.blocks_of(...)` names, else the one in
scope, so a practice only ever includes its own. The included block renders inside the same
budget (loop passes, time, output, depth: a loop of blocks including each other fails with
"nests too deeply"), each parsed once per text like every template. Saving a block refuses an
unknown name and a loop (`sodium.messaging.includes`). `{% include %}` is refused when parsed.
"""

from __future__ import annotations

import hashlib
import html
import re
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any

from django.templatetags.static import static
from liquid import BoundTemplate, Environment, RenderContext
from liquid.builtin.expressions.primitive import RangeLiteral, StringLiteral
from liquid.builtin.tags.render_tag import RenderNode
from liquid.exceptions import (
    BlockNestingError,
    ContextDepthError,
    LiquidError,
    LiquidSyntaxError,
    LocalNamespaceLimitError,
    LoopIterationLimitError,
    OutputStreamLimitError,
    ResourceLimitError,
)
from liquid.tag import Tag

from sodium.liquid_blocks import block_source, blocks_practice_id

LOOP_LIMIT = 10_000  # loop passes in one render, nested or not; also the longest range
OUTPUT_LIMIT = 200_000  # bytes one render may write (an email body is a few KB)
LOCALS_LIMIT = 100_000  # bytes held in assign / capture variables
DEPTH_LIMIT = 30
RENDER_SECONDS = 0.5  # an ordinary email renders in well under a millisecond


class _TooSlow(ResourceLimitError):
    pass


class _RangeTooLong(ResourceLimitError):
    pass


class _Unsupported(LiquidSyntaxError):
    pass


class _NoSuchBlock(LiquidError):
    pass


_LIMIT_MESSAGES: dict[type[LiquidError], str] = {
    LoopIterationLimitError: (
        f"This template loops too many times (over {LOOP_LIMIT:,} passes in all). "
        "Loop over fewer items or add a limit."
    ),
    _RangeTooLong: (
        f"This template loops too many times: a range may hold at most {LOOP_LIMIT:,} numbers."
    ),
    OutputStreamLimitError: (
        f"This template produces too much output (over {OUTPUT_LIMIT // 1000} KB of text)."
    ),
    LocalNamespaceLimitError: (
        "This template stores too much in its variables "
        f"(over {LOCALS_LIMIT // 1000} KB in assign or capture)."
    ),
    ContextDepthError: "This template nests too deeply.",
    BlockNestingError: "This template nests its tags too deeply.",
    _TooSlow: f"This template takes too long to write (over {RENDER_SECONDS} seconds).",
}


class _Budget:
    """Loop passes and the deadline of one render, shared by every loop in it."""

    def __init__(self) -> None:
        self.passes = 0
        self.deadline = time.monotonic() + RENDER_SECONDS
        self.blocks: dict[str, BoundTemplate] = {}  # included blocks, loaded once per render

    def count(self, items: Iterator[Any]) -> Iterator[Any]:
        for item in items:
            self.passes += 1
            if self.passes > LOOP_LIMIT:
                raise LoopIterationLimitError("loop iteration limit reached", token=None)
            if time.monotonic() > self.deadline:
                raise _TooSlow("render time limit reached", token=None)
            yield item


def _size(value: Any, budget: int) -> int:
    # Bytes a value really holds: a list holding one long string many times counts each time
    # (sys.getsizeof, python-liquid's default measure, counts only the list's pointers).
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (list, tuple)):
        total = sys.getsizeof(value)
        for item in value:
            total += _size(item, budget - total)
            if total > budget:
                break
        return total
    if isinstance(value, dict):
        return _size(list(value.values()), budget)
    return sys.getsizeof(value, 1)


class _BoundedContext(RenderContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = _Budget()

    @contextmanager
    def loop(self, namespace: Mapping[str, object], forloop: Any) -> Iterator[RenderContext]:
        # Every for and tablerow loop enters here; counting its passes bounds the work of
        # loops side by side, which python-liquid's limit (nested loops only) does not.
        forloop.it = self.budget.count(forloop.it)
        with super().loop(namespace, forloop) as context:
            yield context

    def copy(self, *args: Any, **kwargs: Any) -> RenderContext:
        # A {% render %} renders in a copy: it spends the budget of the render it is part of.
        ctx = super().copy(*args, **kwargs)
        ctx.budget = self.budget
        return ctx

    def get_size_of_locals(self) -> int:
        limit = self.env.local_namespace_limit or 0
        return _size(list(self.locals.values()), limit) + self.local_namespace_size_carry


class _BoundedTemplate(BoundTemplate):
    context_class = _BoundedContext


class _Refused(Tag):
    block = False

    def __init__(self, env: Environment, name: str) -> None:
        super().__init__(env)
        self.name = name

    def parse(self, stream):
        raise _Unsupported(
            f"“{{% {self.name} %}}” is not supported. To include a content block, write "
            '{% render "the block\'s name" %}.',
            token=stream.current,
        )


def _bounded_replace(replace):
    @wraps(replace)
    def bounded(val: Any, *args: Any, **kwargs: Any) -> Any:
        if args:
            text, old = str(val), str(args[0])
            new = str(args[1]) if len(args) > 1 else ""
            grows = len(new) - len(old)
            if grows > 0 and len(text) + text.count(old) * grows > OUTPUT_LIMIT:
                raise OutputStreamLimitError("output stream limit reached", token=None)
        return replace(val, *args, **kwargs)

    return bounded


def _bounded_join(join):
    @wraps(join)
    def bounded(left: Any, separator: Any = " ", *args: Any, **kwargs: Any) -> Any:
        if isinstance(left, (list, tuple, range)):
            total = len(str(separator)) * max(len(left) - 1, 0)
            for item in left:
                if total > OUTPUT_LIMIT:
                    break
                total += len(item) if isinstance(item, str) else 8
            if total > OUTPUT_LIMIT:
                raise OutputStreamLimitError("output stream limit reached", token=None)
        return join(left, separator, *args, **kwargs)

    return bounded


class _Environment(Environment):
    loop_iteration_limit = LOOP_LIMIT
    output_stream_limit = OUTPUT_LIMIT
    local_namespace_limit = LOCALS_LIMIT
    context_depth_limit = DEPTH_LIMIT
    template_class = _BoundedTemplate
    range_limit = LOOP_LIMIT

    def get_template(
        self, name: str, *, globals=None, context: RenderContext | None = None, **kwargs: Any
    ) -> BoundTemplate:
        """Return the practice's content block `name` for a {% render %} tag, parsed once."""
        budget = getattr(context, "budget", None)
        key = name.casefold()
        if budget is not None and key in budget.blocks:
            return budget.blocks[key]
        source = block_source(name)
        if source is None:
            raise _NoSuchBlock(f"There is no content block named “{name}”.", token=None)
        kind = "html" if self.autoescape else "text"
        template = _compile_block(kind, hashlib.sha256(source.encode()).hexdigest(), name, source)
        if budget is not None:
            budget.blocks[key] = template
        return template

    def setup_tags_and_filters(self, *, extra: bool = False) -> None:
        super().setup_tags_and_filters(extra=extra)
        self.tags["include"] = _Refused(self, "include")
        self.filters["replace"] = _bounded_replace(self.filters["replace"])
        self.filters["join"] = _bounded_join(self.filters["join"])


def _check_range(value: Any, literal: RangeLiteral, context: RenderContext) -> Any:
    limit = getattr(context.env, "range_limit", None)
    if limit and isinstance(value, range):
        # Not len(): a range longer than the largest machine integer raises OverflowError.
        if max(0, (value.stop - value.start) // value.step) > limit:
            raise _RangeTooLong("range limit reached", token=literal.token)
    return value


def _bounded_range(evaluate):
    # python-liquid builds a range literal inside its expression classes, with no hook of the
    # environment's; this wrapper refuses long ones, only for templates of _Environment.
    @wraps(evaluate)
    def bounded(self: RangeLiteral, context: RenderContext) -> Any:
        return _check_range(evaluate(self, context), self, context)

    return bounded


def _bounded_range_async(evaluate_async):
    @wraps(evaluate_async)
    async def bounded(self: RangeLiteral, context: RenderContext) -> Any:
        return _check_range(await evaluate_async(self, context), self, context)

    return bounded


if not getattr(RangeLiteral.evaluate, "__wrapped__", None):
    RangeLiteral.evaluate = _bounded_range(RangeLiteral.evaluate)
    RangeLiteral.evaluate_async = _bounded_range_async(RangeLiteral.evaluate_async)


def rendered_blocks(source: str) -> list[str]:
    """Return the block names `source` includes with {% render "…" %}, in order, once each.

    A render of a variable (not a quoted name) is listed as "" so validation can refuse it.
    Raises TemplateError when `source` does not parse.
    """
    template = compile_template(source)
    context = RenderContext(template)
    names: list[str] = []

    def walk(nodes) -> None:
        for node in nodes:
            if isinstance(node, RenderNode):
                name = node.name.value if isinstance(node.name, StringLiteral) else ""
                if name not in names:
                    names.append(name)
            walk(node.children(context, include_partials=False))

    walk(template.nodes)
    return names


_TEXT = _Environment(autoescape=False)
_HTML = _Environment(autoescape=True)


class TemplateError(Exception):
    """A Liquid template that cannot be parsed or rendered; the message is for people.

    `syntax` is false when the text parses but is refused (a tag we do not support, a limit).
    """

    def __init__(self, message: str, *, syntax: bool = True) -> None:
        super().__init__(message)
        self.syntax = syntax


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=4096)
def _compile(kind: str, digest: str, source: str):
    env = _HTML if kind == "html" else _TEXT
    return env.from_string(source)


@lru_cache(maxsize=1024)
def _compile_block(kind: str, digest: str, name: str, source: str):
    env = _HTML if kind == "html" else _TEXT
    try:
        return env.from_string(source, name=name)
    except LiquidError as exc:
        raise _NoSuchBlock(f"The content block “{name}” has an error: {_error(exc)}") from None


def compile_template(source: str, *, kind: str = "text"):
    """Return the parsed template for `source`, parsing each distinct text once."""
    digest = hashlib.sha256(source.encode()).hexdigest()
    try:
        return _compile(kind, digest, source)
    except LiquidError as exc:
        raise _error(exc) from None


_OUT_OF_RANGE = "This template works with a number too large to write."


def _error(exc: LiquidError) -> TemplateError:
    for kind, message in _LIMIT_MESSAGES.items():
        if isinstance(exc, kind):
            return TemplateError(message, syntax=False)
    text = str(exc).strip()
    message = text.splitlines()[0] if text else type(exc).__name__
    return TemplateError(message, syntax=not isinstance(exc, _Unsupported))


def render_string(source: str, context: Mapping[str, Any], *, kind: str = "text") -> str:
    """Render `source` with `context`. Raises TemplateError with a readable reason."""
    template = compile_template(source, kind=kind)
    try:
        return template.render(**context)
    except LiquidError as exc:
        raise _error(exc) from None
    except (ArithmeticError, RecursionError):
        # Not a LiquidError, yet a template can cause one (a number past what Python holds):
        # it must fail the render with a reason, never escape to a view or a worker.
        raise TemplateError(_OUT_OF_RANGE, syntax=False) from None


_URL = re.compile(r"(https?://[^\s<]+)")


def text_to_html(escaped: str) -> str:
    """Turn already-escaped text into paragraphs, line breaks and links."""
    paragraphs = [p for p in re.split(r"\n\s*\n", escaped.strip()) if p.strip()]
    out = []
    for para in paragraphs:
        linked = _URL.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', para)
        out.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return "\n".join(out)


def preview_document(body_html: str) -> str:
    """Return an email's HTML as a document for a sandboxed preview frame (`srcdoc`).

    The look comes from a stylesheet file, not an inline <style>: a srcdoc frame inherits the
    page's Content-Security-Policy, which allows no inline styles.
    """
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f'<link rel="stylesheet" href="{static("css/email-preview.css")}"></head>'
        f"<body>{body_html}</body></html>"
    )


def render_message(subject: str, body: str, context: Mapping[str, Any]) -> Rendered:
    """Render an email's subject and body into text and HTML parts."""
    subject_out = " ".join(render_string(subject, context).split())
    text = render_string(body, context).strip()
    html_body = text_to_html(render_string(body, context, kind="html"))
    return Rendered(subject=subject_out, text=text, html=html_body)


def validate(
    source: str, known: Iterable[str], *, blocks: Iterable[str] | None = None
) -> list[str]:
    """Return readable problems with `source`: syntax errors, unknown filters, variables and
    content blocks.

    `known` holds the variable paths a message may use ("client.name", "contacts.main.name").
    A path is accepted when it, or a path it extends, is known. `blocks` holds the names a
    {% render %} may use; when None, each is looked up in the practice (skipped when no
    practice is known). An included block's own variables are checked when it is saved.
    """
    try:
        template = compile_template(source)
    except TemplateError as exc:
        return [f"Syntax error: {exc}" if exc.syntax else str(exc)]
    problems = []
    unknown_filters = sorted(
        set(template.filter_names(include_partials=False)) - set(_TEXT.filters)
    )
    problems += [f"Unknown filter “{name}”." for name in unknown_filters]
    known_set = set(known)
    for path in sorted(set(template.global_variable_paths(include_partials=False))):
        if not _is_known(path, known_set):
            problems.append(f"Unknown variable “{path}”.")
    included = rendered_blocks(source)
    problems += _block_problems(included, blocks)
    if included:
        # The trial render reads the practice's blocks: its answer is not the text's alone.
        limit = _limit_reached.__wrapped__("", source)
    else:
        limit = _limit_reached(hashlib.sha256(source.encode()).hexdigest(), source)
    return problems + ([limit] if limit else [])


@lru_cache(maxsize=1024)
def _limit_reached(digest: str, source: str) -> str:
    # A trial render with no values: a template that hits a limit even so (loops over literal
    # ranges, say) is refused when saved. Other render errors depend on the values; the
    # preview shows them.
    try:
        compile_template(source).render()
    except ResourceLimitError as exc:
        return str(_error(exc))
    except (ArithmeticError, RecursionError):
        return _OUT_OF_RANGE
    except LiquidError:
        pass
    return ""


def _block_problems(names: list[str], blocks: Iterable[str] | None) -> list[str]:
    problems = []
    allowed = {b.strip().casefold() for b in blocks} if blocks is not None else None
    checkable = allowed is not None or blocks_practice_id() is not None
    for name in names:
        if not name:
            problems.append('Include a content block by its name in quotes: {% render "Name" %}.')
        elif checkable and (
            name.strip().casefold() not in allowed
            if allowed is not None
            else block_source(name) is None
        ):
            problems.append(f"There is no content block named “{name}”.")
    return problems


def _is_known(path: str, known: set[str]) -> bool:
    parts = path.split(".")
    return any(".".join(parts[:i]) in known for i in range(len(parts), 0, -1))


def escape(value: str) -> str:
    return html.escape(value)
