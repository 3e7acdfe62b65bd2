"""A new invoice typed in by hand (imports bring most invoices in)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from collections_ar import engine
from collections_ar.forms import InvoiceForm
from sodium.roles import Perm
from sodium.schedules.practice import today_for
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_AR)
def invoice_new(request: HtmxHttpRequest):
    """Add an open invoice for one of the practice's clients; errors re-show the form."""
    practice = request.practice
    today = today_for(practice)
    form = InvoiceForm(
        request.POST if request.method == "POST" else None,
        practice=practice,
        initial={"issue_date": today, "currency": "GBP"},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            customer = engine.get_or_create_customer(data["client"], actor=request.user)
            invoice = engine.create_invoice(
                customer,
                actor=request.user,
                number=data["number"],
                issue_date=data["issue_date"],
                due_date=data["due_date"],
                total=data["total"],
                currency=data["currency"],
            )
        except engine.ARError as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, f"Added invoice {invoice.number}.")
            return redirect("collections_ar:customer", customer_id=customer.pk)
    return render(request, "collections_ar/invoice_new.html", {"form": form})
