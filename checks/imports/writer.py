"""Writing a source's records into a client's ledger, matched on their natural keys.

Accounts match on their code, contacts on their name (case-insensitively), transactions and
bank statement lines on their `source_key`. Records go in batches, each a fixed number of
statements whatever its size (one read of what exists, `bulk_create`, `bulk_update`), and the
caller holds ONE transaction around the whole write: `write` raises `ImportFailed` when any
row was refused (unless `import_good_rows`), so a failed file writes nothing. The same file
written again creates and updates nothing (every record counts as unchanged).

New transactions and their lines, the bulk of an import, are written per database (`bulk`:
one `INSERT … unnest` and one `COPY` a batch on PostgreSQL, `bulk_create` elsewhere), and
on PostgreSQL the write plans its statements for their values (`_planned_with_values`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice

from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.functions import Lower

from checks.imports import bulk
from checks.imports.records import (
    AccountRecord,
    ContactRecord,
    LockDateRecord,
    RowError,
    StatementLineRecord,
    TransactionRecord,
)
from checks.imports.sources import LedgerSource
from checks.models import (
    BankStatementLine,
    LedgerAccount,
    LedgerContact,
    LockDate,
    Transaction,
    TransactionLine,
)
from sodium.models import Client

BATCH_SIZE = 1000
KEEP_REJECTED = 500  # listed on the import; `rejected_count` counts them all

_ACCOUNT_FIELDS = ("name", "type", "tax_code", "description", "is_system", "archived")
_CONTACT_FIELDS = ("name", "account_number", "email", "archived")
_TRANSACTION_FIELDS = (
    "kind",
    "number",
    "reference",
    "date",
    "due_date",
    "contact_id",
    "currency",
    "total",
    "tax_total",
    "amount_due",
    "status",
)
_LINE_FIELDS = ("line_no", "account_id", "account_code", "tax_rate", "description", "net", "tax")
_NEW_TRANSACTION = ("practice_id", "client_id", "source_key", *_TRANSACTION_FIELDS)
_COPIED = ("date", "kind", "contact_id")  # the transaction's, on each of its lines
_NEW_LINE = ("practice_id", "client_id", "transaction_id", *_LINE_FIELDS, *_COPIED)


class ImportFailed(Exception):
    """Rows were refused and the person did not choose to import the good ones."""

    def __init__(self, result: WriteResult) -> None:
        super().__init__(f"{result.rejected_count} rows were refused")
        self.result = result


@dataclass
class WriteResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowError] = field(default_factory=list)
    rejected_count: int = 0
    processed_line: int = 0  # the last file line written

    def reject(self, error: RowError) -> None:
        self.rejected_count += 1
        if len(self.rejected) < KEEP_REJECTED:
            self.rejected.append(error)


def write(
    source: LedgerSource,
    *,
    client: Client,
    bank_account: LedgerAccount | None = None,
    import_good_rows: bool = False,
    progress: Callable[[int], None] | None = None,
    batch_size: int | None = None,
) -> WriteResult:
    """Write every record of `source` into `client`'s ledger; return the counts.

    Must run inside a transaction (the caller's), which `ImportFailed` rolls back.
    `progress(line)` is called after each batch with the last file line written.
    """
    batch_size = batch_size or BATCH_SIZE
    with _planned_with_values():
        return _write(source, client, bank_account, import_good_rows, progress, batch_size)


@contextmanager
def _planned_with_values() -> Iterator[None]:
    """On PostgreSQL, plan the import's statements for their own values while it writes.

    The natural-key reads are `key IN (…1,000 keys…)`. Planned with the values the list is
    one hashed probe a row; the generic plan a prepared statement gets after a few runs
    compares each row with every key, and the statistics, stale while the import adds the
    client's rows, make that a scan of all of them once a batch. The setting is put back
    before the commit: the deferred foreign-key checks run then, and they are best planned
    once (their own prepared statements), not again for every row.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
    yield
    # Not after an error: the transaction rolls back, and the setting with it. Nothing here
    # sets it for the session, so its default is what it was.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode TO DEFAULT")


def _write(
    source: LedgerSource,
    client: Client,
    bank_account: LedgerAccount | None,
    import_good_rows: bool,
    progress: Callable[[int], None] | None,
    batch_size: int,
) -> WriteResult:
    writer = _Writer(client, bank_account, batch_size)
    steps = (
        (source.accounts(), writer.accounts),
        (source.contacts(), writer.contacts),
        (source.transactions(), writer.transactions),
        (source.statement_lines(), writer.statement_lines),
        (source.lock_dates(), writer.lock_dates),
    )
    for items, handle in steps:
        for batch in _batches(items, batch_size):
            records = []
            for item in batch:
                if isinstance(item, RowError):
                    writer.result.reject(item)
                else:
                    records.append(item)
            if records:
                handle(records)
            last = batch[-1]
            writer.result.processed_line = max(
                writer.result.processed_line, getattr(last, "last_line", 0) or last.line
            )
            if progress is not None:
                progress(writer.result.processed_line)
    if writer.wrote_transactions:
        writer.mark_customers_and_suppliers()
    if writer.result.rejected_count and not import_good_rows:
        raise ImportFailed(writer.result)
    return writer.result


def _batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _last_wins(records: list, key: Callable) -> list:
    """Keep one record per key (the file's last), in order."""
    return list({key(r): r for r in records}.values())


class _Writer:
    def __init__(self, client: Client, bank_account: LedgerAccount | None, batch_size: int):
        self.client = client
        self.bank_account = bank_account
        self.batch_size = batch_size
        self.result = WriteResult()
        self._accounts: dict[str, int] | None = None
        self._account_names: dict[str, int] = {}
        self.wrote_transactions = False

    def _row(self, model, **values):
        return model(practice_id=self.client.practice_id, client=self.client, **values)

    def _count(self, created: int, updated: int, unchanged: int) -> None:
        self.result.created += created
        self.result.updated += updated
        self.result.unchanged += unchanged

    # --- accounts ----------------------------------------------------------------------

    def accounts(self, records: list[AccountRecord]) -> None:
        records = _last_wins(records, lambda r: r.code)
        existing = {
            a.code: a
            for a in LedgerAccount.objects.filter(
                client=self.client, code__in=[r.code for r in records]
            )
        }
        new, changed = [], []
        for record in records:
            values = {f: getattr(record, f) for f in _ACCOUNT_FIELDS}
            account = existing.get(record.code)
            if account is None:
                new.append(self._row(LedgerAccount, code=record.code, **values))
            elif _differs(account, values):
                changed.append(account)
        LedgerAccount.objects.bulk_create(new)
        LedgerAccount.objects.bulk_update(changed, _ACCOUNT_FIELDS)
        self._count(len(new), len(changed), len(records) - len(new) - len(changed))
        self._accounts = None

    def _account_id(self, code: str, name: str) -> int | None:
        if self._accounts is None:
            rows = LedgerAccount.objects.filter(client=self.client).values_list(
                "id", "code", "name"
            )
            self._accounts = {code: pk for pk, code, _ in rows}
            self._account_names = {name.lower(): pk for pk, _, name in rows}
        if code:
            return self._accounts.get(code)
        return self._account_names.get(name.lower())

    # --- contacts ----------------------------------------------------------------------

    def _existing_contacts(self, names: Iterable[str]) -> dict[str, LedgerContact]:
        lowered = sorted({n.lower() for n in names})
        found = (
            LedgerContact.objects.filter(client=self.client)
            .annotate(lowered=Lower("name"))
            .filter(lowered__in=lowered)
        )
        return {c.lowered: c for c in found}

    def contacts(self, records: list[ContactRecord]) -> None:
        records = _last_wins(records, lambda r: r.name.lower())
        existing = self._existing_contacts(r.name for r in records)
        new, changed = [], []
        for record in records:
            values = {f: getattr(record, f) for f in _CONTACT_FIELDS}
            contact = existing.get(record.name.lower())
            if contact is None:
                new.append(self._row(LedgerContact, **values))
            elif _differs(contact, values):
                changed.append(contact)
        LedgerContact.objects.bulk_create(new)
        LedgerContact.objects.bulk_update(changed, _CONTACT_FIELDS)
        self._count(len(new), len(changed), len(records) - len(new) - len(changed))

    def _contact_ids(self, names: set[str]) -> dict[str, int]:
        """Return lower name → id, creating the contacts a transaction names first."""
        names.discard("")
        if not names:
            return {}
        existing = self._existing_contacts(names)
        missing: dict[str, LedgerContact] = {}
        for name in names:
            if name.lower() not in existing and name.lower() not in missing:
                missing[name.lower()] = self._row(LedgerContact, name=name)
        LedgerContact.objects.bulk_create(missing.values())
        ids = {key: c.pk for key, c in existing.items()}
        ids.update({key: c.pk for key, c in missing.items()})
        return ids

    # --- transactions ------------------------------------------------------------------

    def transactions(self, records: list[TransactionRecord]) -> None:
        self.wrote_transactions = True
        records = _last_wins(records, lambda r: r.source_key)
        good: list[tuple[TransactionRecord, list[int | None]]] = []
        for record in records:
            accounts, refused = [], None
            for line in record.lines:
                account_id = self._account_id(line.account_code, line.account_name)
                if account_id is None and (line.account_code or line.account_name):
                    shown = line.account_code or f"'{line.account_name}'"
                    refused = RowError(line.line or record.line, f"unknown account {_code(shown)}")
                    break
                accounts.append(account_id)
            if refused:
                self.result.reject(refused)
            else:
                good.append((record, accounts))
        if not good:
            return
        contacts = self._contact_ids({r.contact_name for r, _ in good})
        existing = {
            t.source_key: t
            for t in Transaction.objects.filter(
                client=self.client, source_key__in=[r.source_key for r, _ in good]
            )
        }
        old_lines: dict[int, list[tuple]] = {}
        for line in TransactionLine.objects.filter(
            client=self.client, transaction_id__in=[t.pk for t in existing.values()]
        ).order_by("transaction_id", "line_no"):
            old_lines.setdefault(line.transaction_id, []).append(_line_values(line))
        new: list[tuple] = []  # rows of _NEW_TRANSACTION
        changed: list[Transaction] = []
        lines: list[tuple] = []  # rows of _NEW_LINE
        new_lines: list[list[tuple]] = []  # each new transaction's lines, by `new`'s order
        practice_id, client_id = self.client.practice_id, self.client.pk
        for record, accounts in good:
            values = {
                "kind": record.kind,
                "number": record.number,
                "reference": record.reference,
                "date": record.date,
                "due_date": record.due_date,
                "contact_id": contacts.get(record.contact_name.lower()),
                "currency": record.currency,
                "total": record.total,
                "tax_total": record.tax_total,
                "amount_due": record.amount_due,
                "status": record.status,
            }
            wanted = [
                (line.line_no, account, line.account_code, line.tax_rate, line.description)
                + (line.net, line.tax)
                for line, account in zip(record.lines, accounts, strict=True)
            ]
            # The transaction's, copied for the set-based checks (see checks.models.ledger).
            copied = (record.date, record.kind, values["contact_id"])
            transaction = existing.get(record.source_key)
            if transaction is None:
                fields = (values[f] for f in _TRANSACTION_FIELDS)
                new.append((practice_id, client_id, record.source_key, *fields))
                new_lines.append([w + copied for w in wanted])
            elif _differs(transaction, values) or old_lines.get(transaction.pk, []) != wanted:
                changed.append(transaction)
                lines.extend((practice_id, client_id, transaction.pk, *w, *copied) for w in wanted)
        ids = bulk.insert(Transaction, _NEW_TRANSACTION, new)
        for pk, its_lines in zip(ids, new_lines, strict=True):
            lines.extend((practice_id, client_id, pk, *w) for w in its_lines)
        Transaction.objects.bulk_update(changed, _TRANSACTION_FIELDS)
        if changed:
            TransactionLine.objects.filter(
                client=self.client, transaction_id__in=[t.pk for t in changed]
            ).delete()
        bulk.copy(TransactionLine, _NEW_LINE, lines)
        self._count(len(new), len(changed), len(good) - len(new) - len(changed))

    def mark_customers_and_suppliers(self) -> None:
        """Set contacts' customer / supplier flags from their transactions (one statement)."""

        def of(kinds) -> ExpressionWrapper:
            # Not correlated: the contacts of those kinds are read once (a hashed set), not
            # looked up contact by contact through an index the planner may misjudge.
            having = Transaction.objects.filter(
                client=self.client, kind__in=kinds, contact__isnull=False
            ).values("contact_id")
            return ExpressionWrapper(Q(pk__in=having), output_field=BooleanField())

        LedgerContact.objects.filter(client=self.client).update(
            is_customer=of(Transaction.SALES_KINDS), is_supplier=of(Transaction.PURCHASE_KINDS)
        )

    # --- bank statement lines ----------------------------------------------------------

    def statement_lines(self, records: list[StatementLineRecord]) -> None:
        if self.bank_account is None:
            raise ValueError("A bank statement needs the bank account its lines go to.")
        records = _last_wins(records, lambda r: r.source_key)
        known = set(
            BankStatementLine.objects.filter(
                client=self.client,
                bank_account=self.bank_account,
                source_key__in=[r.source_key for r in records],
            ).values_list("source_key", flat=True)
        )
        new = [
            self._row(
                BankStatementLine,
                bank_account=self.bank_account,
                source_key=r.source_key,
                date=r.date,
                amount=r.amount,
                payee=r.payee,
                description=r.description,
                reference=r.reference,
                cheque_number=r.cheque_number,
            )
            for r in records
            if r.source_key not in known
        ]
        BankStatementLine.objects.bulk_create(new)
        self._count(len(new), 0, len(records) - len(new))

    # --- lock dates --------------------------------------------------------------------

    def lock_dates(self, records: list[LockDateRecord]) -> None:
        latest = (
            LockDate.objects.filter(client=self.client).values_list("lock_date", flat=True).first()
        )
        created = 0
        for record in records:
            if record.lock_date != latest:
                LockDate.objects.create(
                    practice_id=self.client.practice_id,
                    client=self.client,
                    lock_date=record.lock_date,
                    source=record.source,
                )
                latest, created = record.lock_date, created + 1
        self._count(created, 0, len(records) - created)


def _code(shown: str) -> str:
    return f"code {shown}" if not shown.startswith("'") else shown


def _differs(obj, values: dict) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _line_values(line: TransactionLine) -> tuple:
    return tuple(getattr(line, f) for f in _LINE_FIELDS)
