"""Client list, client page, and the client's contacts and services edited in place."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from sodium import engine, queries
from sodium.forms import ClientForm, ClientServiceForm, ContactForm
from sodium.models import Client, Tag
from sodium.panels import render_client_panels
from sodium.roles import Perm
from sodium.services import clients as client_services
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest, paginate, partial, query_without_page

DETAIL = "sodium/client_detail.html"


@require_GET
@vary_on_headers("HX-Request")
@role_required(Perm.VIEW_PRACTICE)
def client_list(request: HtmxHttpRequest) -> HttpResponse:
    practice = request.practice
    tags = list(Tag.objects.filter(practice=practice))
    tag = next((t for t in tags if str(t.pk) == request.GET.get("tag")), None)
    status = request.GET.get("status", "active")
    search = request.GET.get("q", "")
    clients = queries.clients_for_list(practice, search=search, tag=tag, status=status)
    return render(
        request,
        partial(request, "sodium/client_list.html", "client-table"),
        {
            "page": paginate(request, clients),
            "tags": tags,
            "tag": tag,
            "status": status,
            "q": search,
            "query": query_without_page(request),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Perm.EDIT_CLIENTS)
def client_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ClientForm(request.POST if request.method == "POST" else None, practice=request.practice)
    if request.method == "POST" and form.is_valid():
        client = client_services.create_client(
            practice=request.practice, actor=request.user, **form.service_kwargs()
        )
        messages.success(request, f"Added {client.name}. Now add their contacts.")
        return redirect("sodium:client-detail", client_id=client.pk)
    return render(request, "sodium/client_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@role_required(Perm.EDIT_CLIENTS)
def client_edit(request: HtmxHttpRequest, client_id: int) -> HttpResponse:
    client = queries.get_client(request.practice, client_id)
    form = ClientForm(
        request.POST if request.method == "POST" else None,
        instance=client,
        practice=request.practice,
    )
    if request.method == "POST" and form.is_valid():
        # The form validated against a copy; the service applies and logs the change.
        client = queries.get_client(request.practice, client_id)
        client_services.update_client(client, actor=request.user, **form.service_kwargs())
        messages.success(request, "Saved the client's details.")
        return redirect("sodium:client-detail", client_id=client.pk)
    return render(request, "sodium/client_form.html", {"form": form, "client": client})


@require_POST
@role_required(Perm.EDIT_CLIENTS)
def client_status(request: HtmxHttpRequest, client_id: int) -> HttpResponse:
    client = queries.get_client(request.practice, client_id)
    status = request.POST.get("status", "")
    try:
        engine.set_client_status(client, actor=request.user, status=status)
    except engine.InvalidTransition as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, "Archived the client." if status == "archived" else "Restored the client."
        )
    return redirect("sodium:client-detail", client_id=client.pk)


def _detail_context(request: HtmxHttpRequest, client: Client, **extra) -> dict:
    practice = request.practice
    return {
        "client": client,
        "contacts": list(client.contacts.all()),
        "client_services": list(
            client.client_services.select_related("service", "service_manager")
        ),
        "service_form": ClientServiceForm(practice=practice),
        "tasks": queries.client_page_tasks(practice, client),
        "activity": queries.recent_activity(practice, client=client, limit=15),
        "panels": render_client_panels(request, client),
        **extra,
    }


@require_GET
@vary_on_headers("HX-Request")
@role_required(Perm.VIEW_PRACTICE)
def client_detail(request: HtmxHttpRequest, client_id: int) -> HttpResponse:
    client = queries.get_client_for_page(request.practice, client_id)
    return render(request, DETAIL, _detail_context(request, client))


# --- Contacts, edited in place -------------------------------------------------------------


def _contacts_section(request: HtmxHttpRequest, client: Client, **extra) -> HttpResponse:
    return render(
        request,
        f"{DETAIL}#client-contacts",
        {"client": client, "contacts": list(client.contacts.all()), **extra},
    )


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def client_contacts(request: HtmxHttpRequest, client_id: int) -> HttpResponse:
    client = queries.get_client(request.practice, client_id)
    if not request.htmx:
        return redirect("sodium:client-detail", client_id=client.pk)
    return _contacts_section(request, client)


@require_http_methods(["GET", "POST"])
@role_required(Perm.EDIT_CLIENTS)
def contact_create(request: HtmxHttpRequest, client_id: int) -> HttpResponse:
    client = queries.get_client(request.practice, client_id)
    form = ContactForm(request.POST if request.method == "POST" else None, prefix="new")
    if request.method == "POST" and form.is_valid():
        contact = client_services.add_contact(client, actor=request.user, **form.cleaned_data)
        if request.htmx:
            return _contacts_section(request, client, flash=f"Added {contact.full_name}.")
        messages.success(request, f"Added {contact.full_name}.")
        return redirect("sodium:client-detail", client_id=client.pk)
    if request.htmx:
        return _contacts_section(request, client, new_form=form)
    return render(request, "sodium/contact_form.html", {"client": client, "form": form})


@require_http_methods(["GET", "POST"])
@role_required(Perm.EDIT_CLIENTS)
def contact_edit(request: HtmxHttpRequest, client_id: int, contact_id: int) -> HttpResponse:
    client = queries.get_client(request.practice, client_id)
    contact = queries.get_contact(client, contact_id)
    form = ContactForm(
        request.POST if request.method == "POST" else None,
        instance=contact,
        prefix=f"c{contact.pk}",
    )
    if request.method == "POST" and form.is_valid():
        contact = queries.get_contact(client, contact_id)
        client_services.update_contact(contact, actor=request.user, **form.cleaned_data)
        if request.htmx:
            return _contacts_section(request, client, flash=f"Saved {contact.full_name}.")
        messages.success(request, f"Saved {contact.full_name}.")
        return redirect("sodium:client-detail", client_id=client.pk)
    if request.htmx:
        return _contacts_section(request, client, edit_form=form, editing=contact.pk)
    return render(
        request, "sodium/contact_form.html", {"client": client, "form": form, "contact": contact}
    )


@require_POST
@role_required(Perm.EDIT_CLIENTS)
def contact_delete(request: HtmxHttpRequest, client_id: int, contact_id: int) -> HttpResponse:
    client = queries.get_client(request.practice, client_id)
    contact = queries.get_contact(client, contact_id)
    name = contact.full_name
    client_services.remove_contact(contact, actor=request.user)
    if request.htmx:
        return _contacts_section(request, client, flash=f"Removed {name}.")
    messages.success(request, f"Removed {name}.")
    return redirect("sodium:client-detail", client_id=client.pk)


# --- Services the client receives ----------------------------------------------------------


@require_POST
@role_required(Perm.EDIT_CLIENTS)
def client_service_add(request: HtmxHttpRequest, client_id: int) -> HttpResponse:
    client = queries.get_client(request.practice, client_id)
    form = ClientServiceForm(request.POST, practice=request.practice)
    if form.is_valid():
        try:
            client_services.add_client_service(client, actor=request.user, **form.cleaned_data)
        except client_services.ClientError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Added {form.cleaned_data['service'].name}.")
    else:
        messages.error(request, "Choose a service from the catalogue.")
    return redirect("sodium:client-detail", client_id=client.pk)


@require_POST
@role_required(Perm.EDIT_CLIENTS)
def client_service_remove(
    request: HtmxHttpRequest, client_id: int, client_service_id: int
) -> HttpResponse:
    client = queries.get_client(request.practice, client_id)
    cs = queries.get_client_service(client, client_service_id)
    client_services.remove_client_service(cs, actor=request.user)
    messages.success(request, f"Removed {cs.service.name}.")
    return redirect("sodium:client-detail", client_id=client.pk)
