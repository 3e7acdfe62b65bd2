"""The live preview of a message being edited: validated against its use, rendered for a
real client (their latest task) or with the use's documented examples."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sodium import liquid
from sodium.messaging import context as core_context
from sodium.messaging import variables
from sodium.models import Client, Practice, Task

# (practice, client, task or None) -> the Liquid context; an app's builder (workflows').
ContextBuilder = Callable[..., dict[str, Any]]


@dataclass
class Preview:
    subject: str = ""
    html: str = ""
    problems: list[str] = field(default_factory=list)
    client: Client | None = None
    task: Task | None = None

    @property
    def srcdoc(self) -> str:
        return liquid.preview_document(self.html)


def examples(practice: Practice, use: str | None = None) -> dict[str, Any]:
    """Return the use's example context with the practice's own name."""
    context = variables.sample_context(use)
    context.setdefault("practice", {})["name"] = practice.name
    return context


def render_preview(
    practice: Practice,
    subject: str,
    body: str,
    *,
    client: Client | None = None,
    use: str | None = None,
    build: ContextBuilder | None = None,
) -> Preview:
    """Render subject and body for `client` (their latest task) or with the examples.

    Validates against the variables of message `use` (every registered one when None);
    `build(practice=, client=, task=)` makes a real client's context (else the use's own
    builder, else the core's groups only). Problems (syntax errors, unknown variables, a
    render failure) are returned, not raised.
    """
    preview = Preview(client=client)
    known = variables.known_paths(use)
    for label, source in (("Subject", subject), ("Body", body)):
        preview.problems += [f"{label}: {p}" for p in liquid.validate(source, known)]
    if client is None:
        context = examples(practice, use)
    else:
        preview.task = (
            Task.objects.filter(practice=practice, client=client)
            .select_related("service", "owner")
            .order_by("-created_at", "-id")
            .first()
        )
        if build is None and use is not None:
            build = variables.get_use(use).build
        if build is None:
            context = core_context.client_context(practice=practice, client=client)
        else:
            context = build(practice=practice, client=client, task=preview.task)
    try:
        rendered = liquid.render_message(subject, body, context)
    except liquid.TemplateError as exc:
        # A problem validation found already (a syntax error, a limit) is said once.
        said = any(p.startswith(("Subject: Syntax", "Body: Syntax")) for p in preview.problems)
        if not said and not any(p.endswith(str(exc)) for p in preview.problems):
            preview.problems.append(f"It cannot be rendered: {exc}")
    else:
        preview.subject, preview.html = rendered.subject, rendered.html
    return preview


def preview_clients(practice: Practice) -> list[tuple[int, str]]:
    """Return (id, name) of the practice's active clients, for "Preview for"."""
    return list(
        Client.objects.filter(practice=practice, status=Client.Status.ACTIVE)
        .order_by("name")
        .values_list("pk", "name")
    )
