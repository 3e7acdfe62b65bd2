"""Messages: every email and text of the practice with its delivery status, one read in full."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from sodium import liquid, outbox, queries
from sodium.models import Client, OutboundMessage, Task
from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest, paginate, partial, query_without_page


@require_GET
@vary_on_headers("HX-Request")
@role_required(Perm.VIEW_PRACTICE)
def message_list(request: HtmxHttpRequest) -> HttpResponse:
    practice = request.practice
    clients = queries.clients_with_messages(practice)
    wanted = request.GET.get("client", "")
    client = next((c for c in clients if str(c.pk) == wanted), None)
    if client is None and wanted.isdigit():
        # A client of ours with no messages yet (a link from the client page); ids of other
        # practices find nothing and are ignored.
        client = Client.objects.filter(practice=practice, pk=wanted).first()
        if client is not None:
            clients.append(client)
    wanted_task = request.GET.get("task", "")
    task = None
    if wanted_task.isdigit():
        task = Task.objects.filter(practice=practice, pk=wanted_task).first()
    status = request.GET.get("status", "")
    if status not in OutboundMessage.Status.values:
        status = ""
    channel = request.GET.get("channel", "")
    if channel not in OutboundMessage.Channel.values:
        channel = ""
    search = request.GET.get("q", "").strip()
    messages = queries.messages_for_list(
        practice, search=search, status=status, client=client, task=task, channel=channel
    )
    return render(
        request,
        partial(request, "sodium/message_list.html", "message-table"),
        {
            "page": paginate(request, messages),
            "clients": clients,
            "client": client,
            "task": task,
            "status": status,
            "statuses": OutboundMessage.Status.choices,
            "channel": channel,
            "channels": OutboundMessage.Channel.choices,
            "q": search,
            "filtered": bool(client or task or status or search or channel),
            "query": query_without_page(request),
        },
    )


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def message_detail(request: HtmxHttpRequest, message_id: int) -> HttpResponse:
    message = queries.get_message(request.practice, message_id)
    # Bodies store a placeholder where a client's access token goes (sodium.outbox); only
    # development (SHOW_CLIENT_LINKS) fills it in, so the demo's links can be followed.
    reveal = settings.SHOW_CLIENT_LINKS
    text = outbox.shown_secrets(message, message.body_text, reveal=reveal)
    html = outbox.shown_secrets(message, message.body_html, reveal=reveal)
    tokens_hidden = outbox.HIDDEN in text
    events = list(message.events.all())
    if not reveal:
        for event in events:  # a provider's "clicked" event names the link clicked
            event.detail = outbox.hide_tokens(event.detail)
    return render(
        request,
        "sodium/message_detail.html",
        {
            "message": message,
            "body_text": text,
            "body_html": liquid.preview_document(html) if html else "",
            "tokens_hidden": tokens_hidden,
            "from_header": outbox.from_header(message),
            "links": [] if tokens_hidden else outbox.links_in(text),
            "events": events,
        },
    )
