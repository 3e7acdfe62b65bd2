"""The content block library: reusable emails, the token picker and a live preview.

The practice's copies of the portal's built-in emails are listed apart; they can be edited
but not deleted. Saving validates the Liquid (building.save_content_block); the preview renders
it for a real client of the practice, or with the documented examples when none is chosen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, OuterRef, ProtectedError, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sodium import liquid
from sodium.models import Client, Practice, Task
from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest
from workflows import building, system_blocks
from workflows.building import TemplateError
from workflows.context import KNOWN_PATHS, VARIABLES, build_context, sample_context
from workflows.forms import ContentBlockForm
from workflows.models import ContentBlock, Step, TemplateStep

LIST = "workflows/content_block_list.html"
FORM = "workflows/content_block_form.html"
PREVIEW = "workflows/content_block_preview.html"

# When each built-in email goes out, shown in the library.
SYSTEM_PURPOSE = {
    "portal.sign_in": "Sent when a client asks for a link to sign in to the portal.",
    "portal.request_opened": "Document request steps without content of their own.",
    "portal.submission_rejected": "Sent when you return a client's upload.",
    "portal.approval_waiting": "Document approval steps without content of their own.",
    "portal.confirmation": "Client confirmation steps without content of their own.",
    "portal.confirmation_chase": "Confirmation chases without content of their own.",
}


# --- the token picker ------------------------------------------------------------------------

_GROUP_LABELS = {
    "practice": "Practice",
    "client": "Client",
    "contacts": "Contacts",
    "task": "Task",
    "step": "Step",
    "assignee": "Assignee",
    "links": "Links and dates",
    "portal": "Portal emails only",
}
# Variables filled in only by the portal's built-in emails (see workflows.context.VARIABLES).
_PORTAL_ONLY = {"contact", "reason", "document", "confirmation"}


@dataclass(frozen=True)
class Token:
    path: str
    description: str
    example: str

    @property
    def text(self) -> str:
        return "{{ " + self.path + " }}"


@dataclass
class TokenGroup:
    key: str
    label: str
    tokens: list[Token] = field(default_factory=list)


def token_groups() -> list[TokenGroup]:
    """Return VARIABLES grouped by their first path segment, for the token picker."""
    groups: dict[str, TokenGroup] = {}
    for var in VARIABLES:
        head = var.path.split(".")[0]
        if head in _PORTAL_ONLY:
            key = "portal"
        elif "." not in var.path:
            key = "links"
        else:
            key = head
        if key not in groups:
            groups[key] = TokenGroup(key, _GROUP_LABELS.get(key, head.capitalize()))
        groups[key].tokens.append(Token(var.path, var.description, var.example))
    return list(groups.values())


# --- the preview -----------------------------------------------------------------------------


# The preview's iframe document: the rendered HTML part with a plain, readable style (a
# stylesheet file, not an inline <style>: the frame inherits the page's CSP).
_EMAIL_SHELL = (
    "<!doctype html><html><head><meta charset=utf-8>"
    '<link rel="stylesheet" href="{stylesheet}"></head><body>{body}</body></html>'
)


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


def render_preview(
    practice: Practice, subject: str, body: str, client: Client | None = None
) -> Preview:
    """Render subject and body for `client` (their latest task) or with the examples.

    Problems (syntax errors, unknown variables, a render failure) are returned, not raised.
    """
    preview = Preview(client=client)
    for label, source in (("Subject", subject), ("Body", body)):
        preview.problems += [f"{label}: {p}" for p in liquid.validate(source, KNOWN_PATHS)]
    if client is None:
        context = sample_context(practice)
    else:
        preview.task = (
            Task.objects.filter(practice=practice, client=client)
            .select_related("service", "owner")
            .order_by("-created_at", "-id")
            .first()
        )
        context = build_context(practice=practice, client=client, task=preview.task)
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
    return list(
        Client.objects.filter(practice=practice, status=Client.Status.ACTIVE)
        .order_by("name")
        .values_list("pk", "name")
    )


def _chosen_client(practice: Practice, value: str | None) -> Client | None:
    try:
        pk = int(value or "")
    except ValueError:
        return None
    # Another practice's id simply finds nothing here: the examples are shown instead.
    return Client.objects.filter(practice=practice, pk=pk).first()


_TARGET = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


@require_POST
@role_required(Perm.MANAGE_TEMPLATES)
def content_block_preview(request: HtmxHttpRequest) -> HttpResponse:
    """Render posted Liquid for a chosen client; the step editor posts its prefixed fields."""
    data = request.POST
    prefix = data.get("prefix", "")
    if not _TARGET.match(prefix):
        prefix = ""
    key = (lambda name: f"{prefix}-{name}") if prefix else (lambda name: name)
    client = _chosen_client(request.practice, data.get("preview_client"))
    preview = render_preview(
        request.practice, data.get(key("subject"), ""), data.get(key("body"), ""), client
    )
    context = {
        "preview": preview,
        "preview_id": f"{prefix}-preview" if prefix else "block-preview",
        "preview_clients": preview_clients(request.practice),
        "chosen_client": client.pk if client else None,
    }
    template = f"{PREVIEW}#preview" if request.htmx else PREVIEW
    return render(request, template, context)


# --- the library -----------------------------------------------------------------------------


def _get_block(practice: Practice, content_block_id: int) -> ContentBlock:
    return get_object_or_404(ContentBlock.objects.filter(practice=practice), pk=content_block_id)


def _usage(model) -> Subquery:
    counts = (
        model.objects.filter(content_block=OuterRef("pk"))
        .order_by()
        .values("content_block")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts), 0)


@require_GET
@role_required(Perm.MANAGE_TEMPLATES)
def content_block_list(request: HtmxHttpRequest) -> HttpResponse:
    practice = request.practice
    blocks = list(
        ContentBlock.objects.filter(practice=practice)
        .annotate(template_uses=_usage(TemplateStep))
        .order_by("name", "id")
    )
    # Built-in emails the practice has never edited are listed with their default wording;
    # the practice's own copy is written when someone saves one (never by opening a page).
    saved = {b.system_key for b in blocks if b.system_key}
    blocks += [system_blocks.default_block(practice, key) for key in system_blocks.DEFAULTS]
    blocks = [b for b in blocks if b.pk or b.system_key not in saved]
    for block in blocks:
        block.purpose = SYSTEM_PURPOSE.get(block.system_key, "")
    return render(
        request,
        LIST,
        {
            "own_blocks": [b for b in blocks if not b.system_key],
            "system_blocks": sorted(
                (b for b in blocks if b.system_key),
                key=lambda b: system_blocks.position(b.system_key),
            ),
        },
    )


def _editor(
    request: HtmxHttpRequest, form: ContentBlockForm, block: ContentBlock | None = None
) -> HttpResponse:
    practice = request.practice
    subject = form["subject"].value() or ""
    body = form["body"].value() or ""
    client = _chosen_client(practice, request.POST.get("preview_client"))
    return render(
        request,
        FORM,
        {
            "form": form,
            "content_block": block,
            "token_groups": token_groups(),
            "preview": render_preview(practice, subject, body, client),
            "preview_id": "block-preview",
            "preview_clients": preview_clients(practice),
            "chosen_client": client.pk if client else None,
            "purpose": SYSTEM_PURPOSE.get(block.system_key, "") if block else "",
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_TEMPLATES)
def content_block_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ContentBlockForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            block = building.save_content_block(
                practice=request.practice, actor=request.user, **form.cleaned_data
            )
        except TemplateError as exc:
            form.add_building_errors(exc)
        else:
            messages.success(request, f"Saved the content block {block.name}.")
            return redirect("workflows:content-block-edit", content_block_id=block.pk)
    return _editor(request, form)


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_TEMPLATES)
def content_block_edit(request: HtmxHttpRequest, content_block_id: int) -> HttpResponse:
    return _edit(request, _get_block(request.practice, content_block_id))


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_TEMPLATES)
def content_block_system_edit(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """Edit a built-in email the practice has not changed yet; saving writes its own copy."""
    if key not in system_blocks.DEFAULTS:
        raise Http404("No such built-in email.")
    saved = ContentBlock.objects.filter(practice=request.practice, system_key=key).first()
    if saved is not None:
        return redirect("workflows:content-block-edit", content_block_id=saved.pk)
    return _edit(request, system_blocks.default_block(request.practice, key))


def _edit(request: HtmxHttpRequest, block: ContentBlock) -> HttpResponse:
    # A saved block, or a built-in one's default wording (saved as the practice's copy).
    initial = {"name": block.name, "subject": block.subject, "body": block.body}
    form = ContentBlockForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            block = building.save_content_block(
                practice=request.practice, actor=request.user, block=block, **form.cleaned_data
            )
        except TemplateError as exc:
            form.add_building_errors(exc)
        else:
            messages.success(request, f"Saved the content block {block.name}.")
            return redirect("workflows:content-block-edit", content_block_id=block.pk)
    return _editor(request, form, block)


def _users_of(exc: ProtectedError) -> str:
    names = []
    for obj in list(exc.protected_objects)[:3]:
        if isinstance(obj, TemplateStep):
            names.append(f"{obj.group.template.name}: {obj.name}")
        elif isinstance(obj, Step):
            names.append(f"{obj.task.name}: {obj.name}")
    more = len(exc.protected_objects) - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


@require_POST
@role_required(Perm.MANAGE_TEMPLATES)
def content_block_delete(request: HtmxHttpRequest, content_block_id: int) -> HttpResponse:
    block = _get_block(request.practice, content_block_id)
    if block.system_key:
        messages.error(
            request, f"{block.name} is a built-in email: you can change its wording, not delete it."
        )
        return redirect("workflows:content-block-edit", content_block_id=block.pk)
    try:
        # building has no delete for blocks; PROTECT on the steps' foreign key is the rule.
        with transaction.atomic():
            block.delete()
    except ProtectedError as exc:
        count = len(exc.protected_objects)
        messages.error(
            request,
            f"{block.name} is used by {count} step{'s' if count != 1 else ''} "
            f"({_users_of(exc)}). Choose other content for "
            f"{'them' if count != 1 else 'it'} first, then delete the block.",
        )
        return redirect("workflows:content-block-edit", content_block_id=block.pk)
    messages.success(request, f"Deleted the content block {block.name}.")
    return redirect("workflows:content-block-list")
