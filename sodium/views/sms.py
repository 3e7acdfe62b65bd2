"""The "Send a text" composer for one contact: write → preview → send through the outbox."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from sodium import liquid, queries
from sodium.messaging.variables import token_groups
from sodium.roles import Perm
from sodium.sms import messages as sms
from sodium.sms.forms import SmsForm
from sodium.sms.segments import count_segments
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest


@require_http_methods(["GET", "POST"])
@role_required(Perm.SEND_SMS)
def contact_sms(request: HtmxHttpRequest, client_id: int, contact_id: int) -> HttpResponse:
    client = queries.get_client(request.practice, client_id)
    contact = queries.get_contact(client, contact_id)
    form = SmsForm(request.POST if request.method == "POST" else None, use=sms.CONTACT_SMS)
    context = {
        "client": client,
        "contact": contact,
        "form": form,
        "refused": sms.refusal(contact),
        "token_groups": token_groups(sms.CONTACT_SMS),
    }
    if request.method == "POST" and form.is_valid():
        body = form.cleaned_data["body"]
        try:
            preview = sms.render_sms(body, sms.contact_context(contact))
        except liquid.TemplateError as exc:
            form.add_error("body", str(exc))
            return render(request, "sodium/contact_sms.html", context)
        if "send" not in request.POST:
            context.update(preview=preview, segments=count_segments(preview))
            return render(request, "sodium/contact_sms.html", context)
        try:
            sms.text_contact(
                contact, actor=request.user, body=body, nonce=form.cleaned_data["nonce"]
            )
        except sms.SmsRefused as exc:
            messages.error(request, f"Not sent: {exc}")
            return render(request, "sodium/contact_sms.html", context)
        messages.success(request, f"Text to {contact.full_name} queued.")
        return redirect("sodium:client-detail", client_id=client.pk)
    return render(request, "sodium/contact_sms.html", context)
