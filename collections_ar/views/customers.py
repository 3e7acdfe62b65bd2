"""The receivables pages: customers with an open balance, and one customer's account."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from collections_ar import engine, queries
from collections_ar.forms import CustomerFilterForm, PaymentForm
from collections_ar.models import INVOICE_MACHINE, CollectionStatus, Invoice
from sodium.csv_export import csv_response
from sodium.roles import Perm, role_can
from sodium.schedules.practice import today_for
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest, paginate

# An invoice's actions on its row: the POSTed "action", the status it leads to, the label.
INVOICE_ACTIONS = {
    "dispute": (Invoice.Status.DISPUTED, "Mark disputed"),
    "resolve": (None, "Resolve dispute"),
    "void": (Invoice.Status.VOID, "Void"),
}


def _filter_form(request: HtmxHttpRequest, data) -> CustomerFilterForm:
    membership = request.membership
    return CustomerFilterForm(
        data,
        specialists=queries.specialists_for(membership),
        workflows=queries.workflow_choices_for(membership),
        statuses=queries.statuses_for_user(membership),
    )


CUSTOMERS_PER_PAGE = 50


@require_GET
@role_required(Perm.WORK_AR)
def customer_list(request: HtmxHttpRequest) -> HttpResponse:
    """List the customers that owe money, filtered, with their balance, oldest overdue
    invoice, specialist and workflow; managers pick some (or all that match) to assign."""
    today = today_for(request.practice)
    form = _filter_form(request, request.GET)
    filters = form.filters()
    page = paginate(
        request, queries.customer_queryset(request.membership, today, filters), CUSTOMERS_PER_PAGE
    )
    can_manage = role_can(request.membership.role, Perm.MANAGE_AR)
    return render(
        request,
        "collections_ar/customer_list.html",
        {
            "rows": queries.rows_of(page.object_list, today),
            "page": page,
            "today": today,
            "form": form,
            "filters": filters,
            "query": urlencode(filters.as_params()),
            "sees_all": queries.sees_every_customer(request.membership),
            "can_manage": can_manage,
            "on_workflows": queries.on_workflows_for(request.membership) if can_manage else [],
        },
    )


@require_GET
@role_required(Perm.WORK_AR)
def customer_csv(request: HtmxHttpRequest) -> HttpResponse:
    """Download the filtered customers tab as CSV (cells neutralised against formulas)."""
    today = today_for(request.practice)
    filters = _filter_form(request, request.GET).filters()
    rows = queries.customer_rows(request.membership, today, filters)
    table = [
        [
            "Customer",
            "AR specialist",
            "Workflow",
            "Workflow paused",
            "Open invoices",
            "Balance",
            "Oldest overdue (days)",
            "Age band",
        ]
    ]
    for row in rows:
        c = row.customer
        table.append(
            [
                c.client.name,
                str(c.specialist) if c.specialist else "",
                c.workflow.name if c.workflow else "",
                "yes" if row.paused else "",
                row.open_invoices,
                row.balance,
                row.oldest_overdue_days or 0,
                row.band_label,
            ]
        )
    return csv_response(f"receivables-{today.isoformat()}.csv", table)


def _invoice_actions(invoice: Invoice) -> list[tuple[str, str]]:
    allowed = INVOICE_MACHINE.allowed(invoice.status)
    actions = []
    for key, (to, label) in INVOICE_ACTIONS.items():
        if key == "resolve":
            if invoice.status == Invoice.Status.DISPUTED:
                actions.append((key, label))
        elif to in allowed:
            actions.append((key, label))
    return actions


def _customer_page(request: HtmxHttpRequest, customer, form: PaymentForm | None = None):
    membership = request.membership
    today = today_for(request.practice)
    invoices = queries.invoices_of(customer)
    for invoice in invoices:
        invoice.actions = _invoice_actions(invoice)
        invoice.days_overdue = (
            (today - invoice.due_date).days
            if invoice.is_outstanding and invoice.due_date < today
            else 0
        )
    outstanding = [i for i in invoices if i.is_outstanding]
    if form is None:
        form = PaymentForm(customer=customer, initial={"date": today})
    can_manage = role_can(membership.role, Perm.MANAGE_AR)
    card = queries.workflow_card_for(customer)
    context = {
        "customer": customer,
        "invoices": invoices,
        "payments": queries.payments_of(customer),
        "balance": sum((i.balance for i in outstanding), start=engine.ZERO),
        "can_pay": bool(outstanding),
        "form": form,
        "statuses": queries.statuses_for_user(membership),
        "can_manage": can_manage,
        "specialists": queries.specialists_for(membership) if can_manage else [],
        "contact": customer.contact_for_collections(),
        "card": card,
        "history": queries.history_of(customer),
        "may_assign": can_manage,
        "on_workflows": queries.on_workflows_for(membership) if can_manage else [],
    }
    return render(request, "collections_ar/customer_detail.html", context)


@require_GET
@role_required(Perm.WORK_AR)
def customer_detail(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """Show one customer's invoices and payments, with the forms to work them."""
    customer = queries.get_customer_for_user(request.membership, customer_id)
    return _customer_page(request, customer)


@require_POST
@role_required(Perm.WORK_AR)
def payment_record(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """Record a payment against one of the customer's outstanding invoices."""
    customer = queries.get_customer_for_user(request.membership, customer_id)
    form = PaymentForm(request.POST, customer=customer)
    if form.is_valid():
        data = form.cleaned_data
        try:
            engine.record_payment(
                data["invoice"],
                actor=request.user,
                amount=data["amount"],
                date=data["date"],
                reference=data["reference"],
            )
        except engine.ARError as exc:
            for field, error in exc.errors.items():
                form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, f"Recorded the payment on {data['invoice'].number}.")
            return redirect("collections_ar:customer", customer_id=customer.pk)
    return _customer_page(request, customer, form)


@require_POST
@role_required(Perm.MANAGE_AR)
def specialist_assign(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """Make a member the customer's AR specialist (or nobody)."""
    customer = queries.get_customer_for_user(request.membership, customer_id)
    raw = request.POST.get("specialist", "")
    chosen = {str(u.pk): u for u in queries.specialists_for(request.membership)}
    if raw and raw not in chosen:
        messages.error(request, "Choose one of the practice's AR specialists.")
    else:
        try:
            engine.assign_specialist(customer, chosen.get(raw), actor=request.user)
        except engine.ARError as exc:
            messages.error(request, " ".join(exc.errors.values()))
        else:
            messages.success(request, "Saved the AR specialist.")
    return redirect("collections_ar:customer", customer_id=customer.pk)


@require_POST
@role_required(Perm.WORK_AR)
def invoice_collection_status(request: HtmxHttpRequest, invoice_id: int) -> HttpResponse:
    """Give an invoice another collection status."""
    invoice = queries.get_invoice_for_user(request.membership, invoice_id)
    raw = request.POST.get("collection_status", "")
    status = (
        CollectionStatus.objects.filter(practice=request.practice, pk=raw).first()
        if raw.isdigit()
        else None
    )
    if status is None:
        messages.error(request, "Choose one of the practice's collection statuses.")
    else:
        engine.set_collection_status(invoice, status, actor=request.user)
        messages.success(request, f"Invoice {invoice.number} is now “{status.name}”.")
    return redirect("collections_ar:customer", customer_id=invoice.customer_id)


@require_POST
@role_required(Perm.WORK_AR)
def invoice_status(request: HtmxHttpRequest, invoice_id: int) -> HttpResponse:
    """Dispute, resolve the dispute of, or void an invoice."""
    invoice = queries.get_invoice_for_user(request.membership, invoice_id)
    action = request.POST.get("action", "")
    note = request.POST.get("note", "")[:200]
    moves = {
        "dispute": engine.dispute_invoice,
        "resolve": engine.resolve_dispute,
        "void": engine.void_invoice,
    }
    if action not in moves:
        messages.error(request, "Choose what to do with the invoice.")
    else:
        try:
            invoice = moves[action](invoice, actor=request.user, note=note)
        except engine.ARError as exc:
            messages.error(request, " ".join(exc.errors.values()))
        else:
            messages.success(
                request, f"Invoice {invoice.number} is now {invoice.get_status_display().lower()}."
            )
    return redirect("collections_ar:customer", customer_id=invoice.customer_id)
