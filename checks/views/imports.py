"""Ledger imports: upload a file, map a bank's own columns, preview the rows as they will be
read, import with a progress bar, then the counts and the rejected rows (or why it failed).

The work is in `checks.engine` (upload_ledger_file → set_mapping → start_import → the
Celery task's run_import; cancel_import); these views parse the input, look the import up
inside the practice and render. One page per import shows what its status needs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from checks import engine, queries
from checks.imports import layouts, reading
from checks.models import LedgerAccount, LedgerImport, Transaction
from sodium.roles import Perm, role_can
from sodium.statemachine import InvalidTransition
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest

PAGE = "checks/import_page.html"
DETAIL = "checks/import_detail.html"
S = LedgerImport.Status
PREVIEW_ROWS = 10

# What the upload page says it takes (checks.imports.layouts recognises each by its header).
ACCEPTED = [
    ("Xero", "chart of accounts, contacts, sales invoices, bills, bank statement, Account "
     "Transactions report"),
    ("QuickBooks Online", "Transaction Detail by Account, General Ledger"),
    ("Any bank", "its own CSV download: you choose which column is which once, and it is "
     "remembered for the next file from that account"),
]  # fmt: skip

# The mapping step's fields (layouts.MAPPING_FIELDS): label, help, headers that suggest it.
MAPPING_LABELS = {
    "date": ("Date", "Each line's date.", ("date", "transaction date", "txn date",
                                          "posting date", "posted date", "value date")),
    "amount": ("Amount", "One signed column: money out negative, money in positive.",
               ("amount", "value", "amount (gbp)")),
    "debit": ("Money out", "Instead of Amount: the column of payments out (debits).",
              ("debit", "paid out", "money out", "withdrawals", "out")),
    "credit": ("Money in", "With Money out: the column of receipts (credits).",
               ("credit", "paid in", "money in", "deposits", "in")),
    "payee": ("Payee", "Who was paid or paid in.", ("payee", "counterparty", "name")),
    "description": ("Description", "", ("description", "details", "memo", "narrative")),
    "reference": ("Reference", "", ("reference", "ref")),
}  # fmt: skip
DATE_ORDERS = [
    (reading.DMY, "Day first (DD/MM/YYYY): 03/04/2026 is 3 April"),
    (reading.MDY, "Month first (MM/DD/YYYY): 03/04/2026 is 4 March"),
]
# Preview columns, in this order: the typed record's fields as the page names them (a
# record's other fields, such as its source key, are not shown).
FIELD_LABELS = {
    "code": "Code", "name": "Name", "type": "Type", "tax_code": "Tax code", "kind": "Kind",
    "number": "Number", "contact_name": "Contact", "date": "Date", "due_date": "Due",
    "amount": "Amount", "payee": "Payee", "description": "Description",
    "reference": "Reference", "cheque_number": "Cheque no.", "lines": "Lines",
    "total": "Total", "tax_total": "VAT", "amount_due": "Amount due", "currency": "Currency",
    "status": "Status", "bank_account_code": "Bank account", "account_number": "Account no.",
    "email": "Email", "is_system": "System", "archived": "Archived", "lock_date": "Lock date",
}  # fmt: skip


# Coded values shown in words.
CHOICE_WORDS = {
    "type": dict(LedgerAccount.Type.choices),
    "kind": dict(Transaction.Kind.choices),
    "status": dict(Transaction.Status.choices),
}


# --- forms -----------------------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(
        label="File (CSV)",
        error_messages={"required": "Choose the CSV file to import."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    bank_account = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Bank account",
        empty_label="— not a bank statement —",
        help_text="For a bank statement: the account its lines belong to.",
    )

    as_layout = forms.ChoiceField(
        label="What the file is",
        required=False,
        choices=[
            ("", "Recognise it from its columns"),
            (layouts.XERO_SALES_INVOICES, "Xero sales invoices"),
            (layouts.XERO_BILLS, "Xero bills"),
        ],
        help_text="Xero's import template is the same for invoices and bills: say which a "
        "file of bills is when it has no Type column.",
    )

    def __init__(self, *args, accounts, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bank_account"].queryset = accounts


class MappingForm(forms.Form):
    """What the import still needs (engine.mapping_needs): columns, date order, bank account."""

    def __init__(self, *args, imp: LedgerImport, needs, headers, accounts, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.needs = needs
        if "columns" in needs:
            choices = [("", "— not in this file —")]
            choices += [(h, h) for h in dict.fromkeys(h for h in headers if h)]
            guesses = _guess_columns(imp, headers)
            for key in layouts.MAPPING_FIELDS:
                label, help_text, _ = MAPPING_LABELS[key]
                field = forms.ChoiceField(
                    label=label,
                    choices=choices,
                    required=key == "date",
                    help_text=help_text,
                    initial=guesses.get(key, ""),
                    error_messages={"required": "Choose the column that holds each date."},
                )
                # Amount, or Money out with Money in: one of the two is needed (the engine
                # checks which); the page marks neither "optional".
                field.conditional = key in ("amount", "debit", "credit")
                self.fields[f"map_{key}"] = field
        if "date_format" in needs:
            # With the columns still to choose, the dates may yet decide the order themselves.
            self.fields["date_format"] = forms.ChoiceField(
                label="Dates in this file are",
                choices=DATE_ORDERS,
                widget=forms.RadioSelect,
                required="columns" not in needs,
                error_messages={"required": "Choose whether the dates are day or month first."},
            )
        if "bank_account" in needs:
            self.fields["bank_account"] = forms.ModelChoiceField(
                queryset=accounts,
                label="Bank account",
                empty_label="— choose —",
                error_messages={"required": "Choose the bank account this statement is for."},
            )
        self.fields["remember"] = forms.BooleanField(
            label="Remember for next time", required=False, initial=True
        )

    def column_fields(self) -> list:
        return [self[f"map_{key}"] for key in layouts.MAPPING_FIELDS if f"map_{key}" in self.fields]

    def mapping(self) -> dict[str, str] | None:
        if "columns" not in self.needs:
            return None
        return {k: self.cleaned_data[f"map_{k}"] for k in layouts.MAPPING_FIELDS}


def _guess_columns(imp: LedgerImport, headers: list[str]) -> dict[str, str]:
    """Return field → header: the import's own mapping, else headers named like the field."""
    by_name = {reading.normalise_header(h): h for h in reversed(headers) if h}
    if imp.mapping:
        return {k: by_name[v] for k, v in imp.mapping.items() if v in by_name}
    guesses = {}
    for key, (_label, _help, names) in MAPPING_LABELS.items():
        if key in ("debit", "credit") and "amount" in guesses:
            continue  # one Amount column, or Money out and Money in: never both
        found = next((by_name[n] for n in names if n in by_name), None)
        if found and found not in guesses.values():
            guesses[key] = found
    return guesses


# --- the client's import page ------------------------------------------------------------------


def _can_work(request: HtmxHttpRequest) -> bool:
    return role_can(getattr(request.membership, "role", None), Perm.WORK_CHECKS)


def _render_page(request: HtmxHttpRequest, client, form: UploadForm) -> HttpResponse:
    imports = queries.imports_for_client(request.practice, client)
    for imp in imports:
        imp.layout_label = layouts.LABELS.get(imp.layout, imp.layout)
    return render(
        request,
        PAGE,
        {
            "client": client,
            "form": form,
            "imports": imports,
            "accepted": ACCEPTED,
            "can_work": _can_work(request),
            "has_bank_accounts": form.fields["bank_account"].queryset.exists(),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Perm.VIEW_PRACTICE)
def client_import(request: HtmxHttpRequest, client_id: int) -> HttpResponse:
    if request.method == "POST":
        return _upload(request, client_id)
    client = queries.get_client(request.practice, client_id)
    accounts = queries.bank_accounts_for_client(request.practice, client)
    return _render_page(request, client, UploadForm(accounts=accounts))


@role_required(Perm.WORK_CHECKS)
def _upload(request: HtmxHttpRequest, client_id: int) -> HttpResponse:
    client = queries.get_client(request.practice, client_id)
    accounts = queries.bank_accounts_for_client(request.practice, client)
    form = UploadForm(request.POST, request.FILES, accounts=accounts)
    if form.is_valid():
        try:
            imp = engine.upload_ledger_file(
                client,
                form.cleaned_data["file"],
                actor=request.user,
                bank_account=form.cleaned_data["bank_account"],
                as_layout=form.cleaned_data["as_layout"],
            )
        except engine.ImportRefused as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("checks:import-detail", client_id=client.pk, import_id=imp.pk)
    return _render_page(request, client, form)


# --- one import ----------------------------------------------------------------------------


def _status_context(request: HtmxHttpRequest, client, imp: LedgerImport) -> dict:
    rejected = [
        {"lines": _lines(r.get("line"), r.get("last_line")), "reason": _reason(r.get("reason"))}
        for r in imp.rejected or []
    ]
    return {
        "client": client,
        "imp": imp,
        "can_work": _can_work(request),
        "detail_url": reverse("checks:import-detail", args=[client.pk, imp.pk]),
        "rejected": rejected,
    }


def _detail_context(request: HtmxHttpRequest, client, imp: LedgerImport, mapping_form=None):
    context = _status_context(request, client, imp)
    context["layout_label"] = layouts.LABELS.get(imp.layout, imp.layout)
    if imp.status in (S.NEEDS_MAPPING, S.READY):
        shown = _preview(imp)
        if shown is None:
            context["missing"] = True
            return context
        context["preview"] = shown
        context["raw_width"] = len(shown.headers)
        if imp.status == S.NEEDS_MAPPING:
            needs = engine.mapping_needs(imp)
            accounts = queries.bank_accounts_for_client(request.practice, client)
            context["needs"] = needs
            context["has_bank_accounts"] = "bank_account" not in needs or accounts.exists()
            context["mapping_form"] = mapping_form or MappingForm(
                imp=imp, needs=needs, headers=shown.headers, accounts=accounts
            )
        else:
            columns, rows = preview_table(shown.rows)
            context["columns"], context["rows"] = columns, rows
            context["has_dates"] = imp.layout in (*layouts.DATE_COLUMNS, layouts.MAPPED_BANK)
            context["preview_errors"] = sum(1 for r in rows if r["error"])
            # Rows the writer refuses (an unknown account code) show only once imported: a
            # failed import of this same file offers the good rows too.
            context["failed_before"] = next(
                (
                    i
                    for i in queries.imports_for_client(request.practice, client)
                    if i.sha256 == imp.sha256 and i.status == S.FAILED and i.rejected_count
                ),
                None,
            )
    return context


def _preview(imp: LedgerImport) -> engine.Preview | None:
    """The file's first rows, or None when its stored copy cannot be read any more."""
    try:
        return engine.preview(imp, n=PREVIEW_ROWS)
    except (OSError, engine.ImportRefused):
        return None


@vary_on_headers("HX-Request")
@require_GET
@role_required(Perm.VIEW_PRACTICE)
def import_detail(request: HtmxHttpRequest, client_id: int, import_id: int) -> HttpResponse:
    client = queries.get_client(request.practice, client_id)
    imp = queries.get_import(request.practice, client, import_id)
    template = DETAIL
    if request.htmx and not request.htmx.history_restore_request:
        template += "#import-status"  # the progress poll
        return render(request, template, _status_context(request, client, imp))
    return render(request, template, _detail_context(request, client, imp))


@require_POST
@role_required(Perm.WORK_CHECKS)
def import_mapping(request: HtmxHttpRequest, client_id: int, import_id: int) -> HttpResponse:
    client = queries.get_client(request.practice, client_id)
    imp = queries.get_import(request.practice, client, import_id)
    detail = reverse("checks:import-detail", args=[client.pk, imp.pk])
    if imp.status != S.NEEDS_MAPPING:
        messages.error(request, "This file's columns are set already.")
        return HttpResponseClientRedirect(detail) if request.htmx else redirect(detail)
    shown = _preview(imp)
    if shown is None:
        return HttpResponseClientRedirect(detail) if request.htmx else redirect(detail)
    form = MappingForm(
        request.POST,
        imp=imp,
        needs=engine.mapping_needs(imp),
        headers=shown.headers,
        accounts=queries.bank_accounts_for_client(request.practice, client),
    )
    if form.is_valid():
        try:
            imp = engine.set_mapping(
                imp,
                actor=request.user,
                mapping=form.mapping(),
                date_format=form.cleaned_data.get("date_format") or None,
                bank_account=form.cleaned_data.get("bank_account"),
                remember=form.cleaned_data["remember"],
            )
        except engine.ImportRefused as exc:
            form.add_error(None, str(exc))
        else:
            if imp.status == S.READY:
                messages.success(request, "Columns set: check the rows below, then import.")
            return HttpResponseClientRedirect(detail) if request.htmx else redirect(detail)
    context = _detail_context(request, client, imp, mapping_form=form)
    if request.htmx:
        return render(request, f"{DETAIL}#import-mapping", context)
    return render(request, DETAIL, context)


@require_POST
@role_required(Perm.WORK_CHECKS)
def import_start(request: HtmxHttpRequest, client_id: int, import_id: int) -> HttpResponse:
    client = queries.get_client(request.practice, client_id)
    imp = queries.get_import(request.practice, client, import_id)
    good_rows = request.POST.get("import_good_rows") == "on"
    try:
        engine.start_import(imp, actor=request.user, import_good_rows=good_rows)
    except engine.ImportRefused as exc:
        messages.error(request, str(exc))
    except InvalidTransition:
        messages.error(request, "This file has been imported or cancelled already.")
    return redirect("checks:import-detail", client_id=client.pk, import_id=imp.pk)


@require_POST
@role_required(Perm.WORK_CHECKS)
def import_cancel(request: HtmxHttpRequest, client_id: int, import_id: int) -> HttpResponse:
    client = queries.get_client(request.practice, client_id)
    imp = queries.get_import(request.practice, client, import_id)
    try:
        engine.cancel_import(imp, actor=request.user)
    except InvalidTransition:
        messages.error(request, "This file is being imported or has finished: too late to cancel.")
        return redirect("checks:import-detail", client_id=client.pk, import_id=imp.pk)
    messages.success(request, f"Cancelled {imp.file_name}; nothing was imported.")
    return redirect("checks:client-import", client_id=client.pk)


# --- the preview table ---------------------------------------------------------------------


def preview_table(rows: list[engine.PreviewRow]) -> tuple[list[str], list[dict]]:
    """Return the preview's column headings and its rows' cells as the page shows them.

    Columns empty in every row are left out, so a narrow screen shows what the file holds.
    """
    keys = [k for k in FIELD_LABELS if any(_filled(r.values.get(k)) for r in rows)]
    shown = []
    for row in rows:
        cells = [_cell(k, row.values.get(k)) for k in keys] if not row.error else []
        error = _reason(row.error) if row.error else ""
        shown.append({"line": _lines(row.line, row.last_line), "cells": cells, "error": error})
    return [FIELD_LABELS[k] for k in keys] or ["Row"], shown


def _lines(first, last) -> str:
    return f"{first}–{last}" if last and last != first else str(first)


def _reason(message) -> str:
    """A row error's reason without its "Line 12: " prefix (the table has a Line column)."""
    text = str(message or "")
    head, sep, rest = text.partition(": ")
    return rest if sep and head.startswith("Line") else text


def _filled(value) -> bool:
    return value not in (None, "", False, (), [])


def _cell(key: str, value) -> str:
    if value is None or value == "":
        return "—"
    if key in CHOICE_WORDS and isinstance(value, str):
        return CHOICE_WORDS[key].get(value, value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, dt.date):
        return value.strftime("%-d %b %Y")
    if isinstance(value, (list, tuple)):  # a transaction's lines
        parts = []
        for line in value:
            account = line.get("account_code") or line.get("account_name") or "?"
            parts.append(f"{account}: {line.get('net', Decimal(0)):,.2f}")
        return "; ".join(parts)
    return str(value)
