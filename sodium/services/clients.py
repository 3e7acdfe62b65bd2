"""Create and change clients, their contacts, tags and services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from sodium import activity
from sodium.models import Client, ClientService, Contact, Practice, Service, Tag, User


class ClientError(Exception):
    """A client change that the rules refuse; the message is shown to the user."""


@transaction.atomic
def create_client(
    *, practice: Practice, actor: User, tags: list[Tag] | None = None, **fields: Any
) -> Client:
    """Create a client in `practice` and log it."""
    client = Client.objects.create(practice=practice, **fields)
    if tags:
        client.tags.set(tags)
    activity.record(
        practice=practice,
        actor=actor,
        verb="client.created",
        client=client,
        obj=client,
        summary=f"Added client {client.name}",
    )
    return client


@transaction.atomic
def update_client(
    client: Client, *, actor: User, tags: list[Tag] | None = None, **fields: Any
) -> Client:
    """Change a client's details and tags and log which fields changed."""
    changed = activity.changed_fields(client, fields)
    for name, value in fields.items():
        setattr(client, name, value)
    client.save(update_fields=list(fields))
    if tags is not None:
        before = set(client.tags.values_list("pk", flat=True))
        if before != {t.pk for t in tags}:
            client.tags.set(tags)
            changed.append("tags")
    if changed:
        activity.record(
            practice=client.practice,
            actor=actor,
            verb="client.updated",
            client=client,
            obj=client,
            summary=f"Changed {', '.join(changed)}",
        )
    return client


@transaction.atomic
def add_contact(client: Client, *, actor: User, **fields: Any) -> Contact:
    """Add a contact to a client."""
    if fields.get("sms_opt_out"):
        fields["sms_opt_out_at"] = timezone.now()
    contact = Contact.objects.create(practice=client.practice, client=client, **fields)
    activity.record(
        practice=client.practice,
        actor=actor,
        verb="contact.created",
        client=client,
        obj=contact,
        summary=f"Added contact {contact.full_name}",
    )
    return contact


# Called as hook(contact, actor) when a contact's email address changes, in the same
# transaction: the portal revokes the links it emailed to the old address.
ADDRESS_CHANGE_HOOKS: list[Callable[[Contact, User], None]] = []


def register_address_change_hook(hook: Callable[[Contact, User], None]) -> None:
    if hook not in ADDRESS_CHANGE_HOOKS:
        ADDRESS_CHANGE_HOOKS.append(hook)


@transaction.atomic
def update_contact(contact: Contact, *, actor: User, **fields: Any) -> Contact:
    """Change a contact's details and roles."""
    old_address = (contact.email or "").strip().lower()
    if "sms_opt_out" in fields and bool(fields["sms_opt_out"]) != contact.sms_opt_out:
        # When a contact asked not to be texted is part of the record of their consent.
        fields["sms_opt_out_at"] = timezone.now() if fields["sms_opt_out"] else None
    changed = activity.changed_fields(contact, fields)
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.save(update_fields=list(fields))
    if changed:
        activity.record(
            practice=contact.practice,
            actor=actor,
            verb="contact.updated",
            client=contact.client,
            obj=contact,
            summary=f"Changed {contact.full_name}: {', '.join(changed)}",
        )
    if "email" in fields and (contact.email or "").strip().lower() != old_address:
        for hook in ADDRESS_CHANGE_HOOKS:
            hook(contact, actor)
    return contact


@transaction.atomic
def remove_contact(contact: Contact, *, actor: User) -> None:
    """Delete a contact from its client."""
    activity.record(
        practice=contact.practice,
        actor=actor,
        verb="contact.removed",
        client=contact.client,
        obj=contact,
        summary=f"Removed contact {contact.full_name}",
    )
    contact.delete()


@transaction.atomic
def add_client_service(
    client: Client,
    *,
    actor: User,
    service: Service,
    service_manager: User | None = None,
    started_on=None,
) -> ClientService:
    """Start providing `service` to `client`."""
    if ClientService.objects.filter(client=client, service=service).exists():
        raise ClientError(f"{client.name} already has {service.name}.")
    cs = ClientService.objects.create(
        practice=client.practice,
        client=client,
        service=service,
        service_manager=service_manager,
        started_on=started_on,
    )
    activity.record(
        practice=client.practice,
        actor=actor,
        verb="client_service.created",
        client=client,
        obj=cs,
        summary=f"Added service {service.name}",
    )
    return cs


@transaction.atomic
def remove_client_service(cs: ClientService, *, actor: User) -> None:
    """Stop providing a service to a client."""
    activity.record(
        practice=cs.practice,
        actor=actor,
        verb="client_service.removed",
        client=cs.client,
        obj=cs,
        summary=f"Removed service {cs.service.name}",
    )
    cs.delete()


def create_tag(*, practice: Practice, actor: User, name: str, colour: str) -> Tag:
    """Add a tag to the practice's list."""
    return Tag.objects.create(practice=practice, name=name, colour=colour)


def delete_tag(tag: Tag, *, actor: User) -> None:
    """Delete a tag; clients keep everything else."""
    tag.delete()


def create_service(*, practice: Practice, actor: User, **fields: Any) -> Service:
    """Add a service to the practice's catalogue."""
    return Service.objects.create(practice=practice, **fields)


def update_service(service: Service, *, actor: User, **fields: Any) -> Service:
    """Change a catalogue service."""
    for name, value in fields.items():
        setattr(service, name, value)
    service.save(update_fields=list(fields))
    return service
