"""The content block library: reusable emails, the token picker and a live preview.

The practice's copies of built-in texts (`sodium.messaging.builtins`, registered by apps) are
listed apart; they can be edited but not deleted. Each block is edited with exactly the
variables of its message use: a built-in text's own, a practice's blocks a step email's.
Saving validates the Liquid (sodium.messaging.blocks); the preview (the core's,
sodium.messaging.preview) renders it for a real client of the practice, or with the use's
documented examples when none is chosen.
"""

from __future__ import annotations

import operator
import re
from functools import reduce

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, OuterRef, ProtectedError, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sodium.messaging import blocks, builtins, includes, variables
from sodium.messaging.blocks import BlockError
from sodium.messaging.forms import ContentBlockForm
from sodium.messaging.preview import Preview, preview_clients
from sodium.messaging.preview import render_preview as preview_message
from sodium.models import Client, ContentBlock, Practice
from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest

LIST = "sodium/messaging/content_block_list.html"
FORM = "sodium/messaging/content_block_form.html"
PREVIEW = "sodium/messaging/content_block_preview.html"

# --- the preview -----------------------------------------------------------------------------


def render_preview(
    practice: Practice,
    subject: str,
    body: str,
    client: Client | None = None,
    *,
    use: str | None = None,
) -> Preview:
    """Render subject and body for `client` (their latest task) or with the examples of
    `use`; see sodium.messaging.preview. Without a use (editors that name none) a real
    client's context is built as for a practice's own blocks."""
    own = blocks.own_block_use()
    build = variables.get_use(use or own).build if (use or own) else None
    return preview_message(practice, subject, body, client=client, use=use, build=build)


def _chosen_client(practice: Practice, value: str | None) -> Client | None:
    try:
        pk = int(value or "")
    except ValueError:
        return None
    # Another practice's id simply finds nothing here: the examples are shown instead.
    return Client.objects.filter(practice=practice, pk=pk).first()


_TARGET = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


def _posted_use(value: str | None) -> str | None:
    # An editor names the use it edits; an unknown or missing one validates against all.
    try:
        return variables.get_use(value).key if value else None
    except LookupError:
        return None


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
    use = _posted_use(data.get("use"))
    preview = render_preview(
        request.practice, data.get(key("subject"), ""), data.get(key("body"), ""), client, use=use
    )
    context = {
        "preview": preview,
        "preview_id": f"{prefix}-preview" if prefix else "block-preview",
        "preview_clients": preview_clients(request.practice),
        "chosen_client": client.pk if client else None,
        "use": variables.get_use(use) if use else None,
    }
    template = f"{PREVIEW}#preview" if request.htmx else PREVIEW
    return render(request, template, context)


# --- the library -----------------------------------------------------------------------------


def _get_block(practice: Practice, content_block_id: int) -> ContentBlock:
    return get_object_or_404(ContentBlock.objects.filter(practice=practice), pk=content_block_id)


def _uses():
    counted = [_usage(u.model) for u in blocks.BLOCK_USERS if u.counted]
    return reduce(operator.add, counted) if counted else Value(0)


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
    library = list(
        ContentBlock.objects.filter(practice=practice)
        .annotate(template_uses=_uses())
        .order_by("name", "id")
    )
    # Built-in emails the practice has never edited are listed with their default wording;
    # the practice's own copy is written when someone saves one (never by opening a page).
    saved = {b.system_key for b in library if b.system_key}
    library += [builtins.default_block(practice, key) for key in builtins.BUILTINS]
    library = [b for b in library if b.pk or b.system_key not in saved]
    for block in library:
        block.purpose = _purpose(block)
    return render(
        request,
        LIST,
        {
            "library_links": blocks.LIBRARY_LINKS,
            "own_blocks": [b for b in library if not b.system_key],
            "system_blocks": sorted(
                (b for b in library if b.system_key),
                key=lambda b: builtins.position(b.system_key),
            ),
        },
    )


def _purpose(block: ContentBlock | None) -> str:
    builtin = builtins.BUILTINS.get(block.system_key) if block and block.system_key else None
    return builtin.purpose if builtin else ""


def _use_of(block: ContentBlock | None) -> str:
    return builtins.use_of_block(block, blocks.own_block_use())


def _editor(
    request: HtmxHttpRequest, form: ContentBlockForm, block: ContentBlock | None = None
) -> HttpResponse:
    practice = request.practice
    subject = form["subject"].value() or ""
    body = form["body"].value() or ""
    client = _chosen_client(practice, request.POST.get("preview_client"))
    use = _use_of(block)
    return render(
        request,
        FORM,
        {
            "form": form,
            "content_block": block,
            "use": variables.get_use(use),
            "token_groups": variables.token_groups(use),
            "preview": render_preview(practice, subject, body, client, use=use),
            "preview_id": "block-preview",
            "preview_clients": preview_clients(practice),
            "chosen_client": client.pk if client else None,
            "purpose": _purpose(block),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_TEMPLATES)
def content_block_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ContentBlockForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            block = blocks.save_content_block(
                practice=request.practice,
                actor=request.user,
                use=blocks.own_block_use(),
                **form.cleaned_data,
            )
        except BlockError as exc:
            form.add_block_errors(exc)
        else:
            messages.success(request, f"Saved the content block {block.name}.")
            return redirect("sodium:content-block-edit", content_block_id=block.pk)
    return _editor(request, form)


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_TEMPLATES)
def content_block_edit(request: HtmxHttpRequest, content_block_id: int) -> HttpResponse:
    return _edit(request, _get_block(request.practice, content_block_id))


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_TEMPLATES)
def content_block_system_edit(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """Edit a built-in email the practice has not changed yet; saving writes its own copy."""
    if key not in builtins.BUILTINS:
        raise Http404("No such built-in email.")
    saved = ContentBlock.objects.filter(practice=request.practice, system_key=key).first()
    if saved is not None:
        return redirect("sodium:content-block-edit", content_block_id=saved.pk)
    return _edit(request, builtins.default_block(request.practice, key))


def _edit(request: HtmxHttpRequest, block: ContentBlock) -> HttpResponse:
    # A saved block, or a built-in one's default wording (saved as the practice's copy).
    initial = {"name": block.name, "subject": block.subject, "body": block.body}
    form = ContentBlockForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            block = blocks.save_content_block(
                practice=request.practice,
                actor=request.user,
                block=block,
                use=_use_of(block),
                **form.cleaned_data,
            )
        except BlockError as exc:
            form.add_block_errors(exc)
        else:
            messages.success(request, f"Saved the content block {block.name}.")
            return redirect("sodium:content-block-edit", content_block_id=block.pk)
    return _editor(request, form, block)


def _users_of(exc: ProtectedError) -> str:
    names = [n for n in (blocks.describe_user(o) for o in list(exc.protected_objects)[:3]) if n]
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
        return redirect("sodium:content-block-edit", content_block_id=block.pk)
    if includers := includes.included_by(block):
        messages.error(
            request,
            f"{block.name} is included by {', '.join(f'“{n}”' for n in includers)}. Take "
            "it out of them first, then delete the block.",
        )
        return redirect("sodium:content-block-edit", content_block_id=block.pk)
    try:
        # There is no delete service for blocks; PROTECT on the users' foreign keys is the rule.
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
        return redirect("sodium:content-block-edit", content_block_id=block.pk)
    messages.success(request, f"Deleted the content block {block.name}.")
    return redirect("sodium:content-block-list")
