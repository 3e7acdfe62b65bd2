"""Applying a read invoice file: all of it or none of it, and the same file twice changes
nothing the second time.

Each record's customer is the practice's client of that name (case and spaces ignored; one
with no such client, or with two, is refused with its line). A new invoice number makes an
invoice (the practice's default collection status) and, when the file says some of it is
paid, a payment. A number already there updates that invoice: more paid than recorded is a
payment of the difference (dated the import's day, source "import"); less paid than recorded
is refused (a payment cannot be unrecorded by a file); "void" voids it (a new void invoice
is left out). An invoice's number
belongs to its customer: the same number under another client is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db import transaction
from django.db.models.functions import Lower, Trim

from collections_ar import engine
from collections_ar.errors import ARError
from collections_ar.imports.reading import InvoiceRecord, ReadResult
from collections_ar.models import Invoice, Payment
from sodium.models import Client, Practice, User


@dataclasses.dataclass
class ImportSummary:
    created: int = 0
    paid: int = 0  # invoices with a payment recorded from the file
    voided: int = 0
    unchanged: int = 0
    skipped: int = 0  # drafts, invoices awaiting approval, new ones already void


class ImportRefused(Exception):
    """Nothing was imported; `errors` lists each refused line and why."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = sorted(errors)
        super().__init__(f"{len(errors)} line(s) refused")


def clients_by_name(practice: Practice, names: set[str]) -> dict[str, list[Client]]:
    """Return the practice's clients by their lower-cased, trimmed name (a list: names may
    repeat)."""
    wanted = {n.strip().lower() for n in names}
    found: dict[str, list[Client]] = {}
    rows = Client.objects.filter(practice=practice).annotate(key=Lower(Trim("name")))
    for client in rows.filter(key__in=wanted):
        found.setdefault(client.key, []).append(client)
    return found


@transaction.atomic
def apply_invoices(
    practice: Practice, read: ReadResult, *, actor: User, today: dt.date
) -> ImportSummary:
    """Write the file's invoices and payments; return what changed.

    Raises ImportRefused (nothing written) when the file had refused lines or any record
    cannot be applied.
    """
    errors = list(read.errors)
    clients = clients_by_name(practice, {r.customer for r in read.records})
    existing = {
        inv.number: inv
        for inv in Invoice.objects.filter(
            practice=practice, number__in=[r.number for r in read.records]
        ).select_related("customer")
    }
    summary = ImportSummary(skipped=read.skipped)
    for record in read.records:
        matches = clients.get(record.customer.strip().lower(), [])
        if len(matches) != 1:
            why = "no client" if not matches else "two clients"
            errors.append((record.line, f"There is {why} named “{record.customer}”."))
            continue
        try:
            _apply(practice, record, matches[0], existing.get(record.number), actor, today, summary)
        except ARError as exc:
            errors.append(
                (record.line, f"Invoice {record.number}: " + "; ".join(exc.errors.values()))
            )
    if errors:  # raising out of the atomic block undoes every row written above
        raise ImportRefused(errors)
    return summary


def _apply(
    practice: Practice,
    record: InvoiceRecord,
    client: Client,
    invoice: Invoice | None,
    actor: User,
    today: dt.date,
    summary: ImportSummary,
) -> None:
    changed = False
    if invoice is None and record.void:
        summary.skipped += 1  # never chased here: nothing to make
        return
    if invoice is None:
        customer = engine.get_or_create_customer(client, actor=actor)
        invoice = engine.create_invoice(
            customer,
            actor=actor,
            number=record.number,
            issue_date=record.issue_date,
            due_date=record.due_date,
            total=record.total,
            currency=record.currency,
        )
        summary.created += 1
        changed = True
    elif invoice.customer.client_id != client.pk:
        raise ARError({"number": "that number belongs to another client's invoice"})
    elif invoice.total != record.total:
        raise ARError({"total": "its total differs from the invoice already here"})
    elif record.paid < invoice.amount_paid:
        raise ARError({"paid": "the file shows less paid than is recorded here"})
    if record.paid > invoice.amount_paid and invoice.status != Invoice.Status.VOID:
        engine.record_payment(
            invoice,
            actor=actor,
            amount=record.paid - invoice.amount_paid,
            date=today,
            reference=f"Import line {record.line}",
            source=Payment.Source.IMPORT,
        )
        invoice.refresh_from_db()
        summary.paid += 1
        changed = True
    if record.void and invoice.status != Invoice.Status.VOID:
        engine.void_invoice(invoice, actor=actor, note="void in the imported file")
        summary.voided += 1
        changed = True
    if not changed:
        summary.unchanged += 1


class _DryRun(Exception):
    pass


def preview_invoices(
    practice: Practice, read: ReadResult, *, actor: User, today: dt.date
) -> tuple[ImportSummary | None, list[tuple[int, str]]]:
    """Return what importing would do (summary, or None with the refused lines), writing
    nothing: the import runs for real inside a transaction that is then rolled back."""
    outcome: ImportSummary | None = None
    try:
        with transaction.atomic():
            outcome = apply_invoices(practice, read, actor=actor, today=today)
            raise _DryRun
    except _DryRun:
        return outcome, []
    except ImportRefused as exc:
        return None, exc.errors
