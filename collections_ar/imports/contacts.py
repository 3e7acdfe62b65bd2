"""Xero's contacts export: the collections contact of each customer, with email and mobile.

One row per Xero contact (`ContactName` required; `FirstName`, `LastName`, `EmailAddress`,
`MobileNumber`, `PhoneNumber` and `ContactStatus` read). Xero has no customer flag, so a
contact with no client of that name in the practice is left out (counted), not refused: it is
usually a supplier. Archived contacts are left out too.

For a client of that name, the contact with the same email (case ignored) is updated with the
file's names and numbers, or a new one added — the billing contact when the client has none —
and it becomes the customer's collections contact unless one was chosen. A mobile that is not a
mobile number, or an email that is not an address, refuses the line. All or nothing, and the
same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import dataclasses
import io

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from collections_ar import engine
from collections_ar.imports.applying import ImportRefused, clients_by_name
from collections_ar.imports.reading import FileRefused
from sodium.models import Contact, Practice, User
from sodium.services import clients as client_services
from sodium.sms.numbers import e164, is_textable


@dataclasses.dataclass
class ContactsSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    left_out: int = 0  # no client of that name (suppliers), or archived


def _header(name: str) -> str:
    return name.strip().lstrip("*").strip().lower()


def is_contacts_file(data: bytes) -> bool:
    """Whether the file's header is Xero's contacts export's (not its invoices')."""
    first = data[:4096].decode("utf-8-sig", errors="replace").splitlines()[:1]
    names = {_header(h) for h in next(csv.reader(first), [])} if first else set()
    return "contactname" in names and "invoicenumber" not in names


class _DryRun(Exception):
    pass


def preview_contacts(
    practice: Practice, data: bytes, *, actor: User
) -> tuple[ContactsSummary | None, list[tuple[int, str]]]:
    """Return what importing the contacts would do, writing nothing (run, then rolled back)."""
    outcome = None
    try:
        with transaction.atomic():
            outcome = import_contacts(practice, data, actor=actor)
            raise _DryRun
    except _DryRun:
        return outcome, []
    except ImportRefused as exc:
        return None, exc.errors


@transaction.atomic
def import_contacts(practice: Practice, data: bytes, *, actor: User) -> ContactsSummary:
    """Apply a Xero contacts export; raise FileRefused or ImportRefused (nothing written)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused("The file is not a CSV text file (it is not UTF-8).") from None
    rows = csv.reader(io.StringIO(text, newline=""))
    names = [_header(h) for h in next(rows, [])]
    if "contactname" not in names or "invoicenumber" in names:
        raise FileRefused("The columns are not Xero's contacts export (ContactName, …).")
    index = {n: i for i, n in reversed(list(enumerate(names)))}
    parsed = []
    for line, row in enumerate(rows, start=2):
        if not any(c.strip() for c in row):
            continue

        def cell(name: str, row=row) -> str:
            i = index.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        parsed.append((line, cell))
    clients = clients_by_name(practice, {cell("contactname") for _, cell in parsed})
    summary, errors = ContactsSummary(), []
    for line, cell in parsed:
        matches = clients.get(cell("contactname").lower(), [])
        if len(matches) != 1 or cell("contactstatus").upper() == "ARCHIVED":
            summary.left_out += 1
            continue
        try:
            _apply(matches[0], cell, actor, summary)
        except ValueError as exc:
            errors.append((line, str(exc)))
    if errors:  # raising out of the atomic block undoes every contact written above
        raise ImportRefused(errors)
    return summary


def _apply(client, cell, actor: User, summary: ContactsSummary) -> None:
    email = cell("emailaddress")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValueError(f"“{email}” is not an email address") from None
    mobile = cell("mobilenumber")
    if mobile and not is_textable(mobile):
        raise ValueError(f"“{mobile}” is not a mobile number")
    fields = {
        "first_name": (cell("firstname") or client.name)[:80],
        "last_name": cell("lastname")[:80],
        "email": email,
        "mobile": e164(mobile) if mobile else "",
        "phone": cell("phonenumber")[:30],
    }
    contacts = list(Contact.objects.filter(practice=client.practice_id, client=client))
    same = next((c for c in contacts if email and (c.email or "").lower() == email.lower()), None)
    if same is None:
        is_billing = not any(c.is_billing for c in contacts)
        contact = client_services.add_contact(client, actor=actor, is_billing=is_billing, **fields)
        summary.added += 1
    else:
        changes = {k: v for k, v in fields.items() if v and str(getattr(same, k) or "") != str(v)}
        contact = same
        if changes:
            client_services.update_contact(same, actor=actor, **changes)
            summary.updated += 1
        else:
            summary.unchanged += 1
    customer = engine.get_or_create_customer(client, actor=actor)
    if customer.contact_id is None:
        engine.set_collections_contact(customer, contact, actor=actor)
