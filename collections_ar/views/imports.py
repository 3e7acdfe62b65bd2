"""Importing invoices: upload a file, see what it would do, then import it (or nothing)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from collections_ar.imports import contacts, files
from collections_ar.imports.applying import ImportRefused, apply_invoices, preview_invoices
from collections_ar.imports.reading import FileRefused, read_invoices
from sodium.roles import Perm
from sodium.schedules.practice import today_for
from sodium.tenancy import role_required
from sodium.uploads import UploadRefused
from sodium.views.common import HtmxHttpRequest

PAGE = "collections_ar/import_page.html"
SHOWN_ERRORS = 200


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Invoice file",
        error_messages={"required": "Choose the CSV file to import."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv"}),
    )


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_AR)
def import_page(request: HtmxHttpRequest):
    """Upload an invoice file and show, before anything is written, what it would do."""
    practice = request.practice
    form = UploadForm(request.POST or None, request.FILES or None)
    context: dict = {"form": form}
    if request.method == "POST" and form.is_valid():
        try:
            data = files.keep_upload(request.session, practice.pk, form.cleaned_data["file"])
            read = None if contacts.is_contacts_file(data) else read_invoices(data)
        except (UploadRefused, FileRefused) as exc:
            files.forget(request.session)
            form.add_error("file", str(exc))
        else:
            if read is None:
                context.update(_contacts_preview(request, data))
                return render(request, PAGE, context)
            summary, errors = preview_invoices(
                practice, read, actor=request.user, today=today_for(practice)
            )
            if errors:
                files.forget(request.session)
            context.update(
                read=read,
                summary=summary,
                errors=errors[:SHOWN_ERRORS],
                more_errors=max(0, len(errors) - SHOWN_ERRORS),
            )
    return render(request, PAGE, context)


def _contacts_preview(request: HtmxHttpRequest, data: bytes) -> dict:
    try:
        summary, errors = contacts.preview_contacts(request.practice, data, actor=request.user)
    except FileRefused as exc:
        summary, errors = None, [(1, str(exc))]
    if errors:
        files.forget(request.session)
    return {
        "contacts_summary": summary,
        "errors": errors[:SHOWN_ERRORS],
        "more_errors": max(0, len(errors) - SHOWN_ERRORS),
        "contacts_file": True,
    }


@require_POST
@role_required(Perm.MANAGE_AR)
def import_confirm(request: HtmxHttpRequest):
    """Import the file shown in the preview: all of it, or nothing with the reasons."""
    practice = request.practice
    data = files.kept_file(request.session, practice.pk)
    if data is None:
        messages.error(request, "That file is no longer here: upload it again.")
        return redirect("collections_ar:import")
    if contacts.is_contacts_file(data):
        return _confirm_contacts(request, data)
    try:
        summary = apply_invoices(
            practice, read_invoices(data), actor=request.user, today=today_for(practice)
        )
    except (FileRefused, ImportRefused) as exc:
        files.forget(request.session)
        messages.error(request, f"Nothing was imported: {exc}. Upload the file again to see why.")
        return redirect("collections_ar:import")
    files.forget(request.session)
    messages.success(
        request,
        f"Imported: {summary.created} new invoice{'s' if summary.created != 1 else ''}, "
        f"{summary.paid} with a payment recorded, {summary.voided} voided, "
        f"{summary.unchanged} unchanged, {summary.skipped} left out.",
    )
    return redirect("collections_ar:customers")


def _confirm_contacts(request: HtmxHttpRequest, data: bytes):
    try:
        summary = contacts.import_contacts(request.practice, data, actor=request.user)
    except (FileRefused, ImportRefused) as exc:
        files.forget(request.session)
        messages.error(request, f"Nothing was imported: {exc}. Upload the file again to see why.")
        return redirect("collections_ar:import")
    files.forget(request.session)
    messages.success(
        request,
        f"Imported contacts: {summary.added} added, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {summary.left_out} left out (no client of that name, "
        "or archived).",
    )
    return redirect("collections_ar:customers")
