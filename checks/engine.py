"""Writes of the checks app: ledger imports, moved through IMPORT_MACHINE only.

upload → (needs mapping →) ready → importing → done / failed. The upload is checked whole
before anything is stored (size, text, rows, header, date order); the import runs in a
Celery task (`checks.tasks.import_ledger_task`) inside one transaction, so a failed file
writes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import PurePath

import filetype
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from checks import limits, tasks
from checks.imports import layouts, reading
from checks.imports.sources import FileSource
from checks.imports.writer import ImportFailed, write
from checks.models import IMPORT_MACHINE, ColumnMapping, LedgerAccount, LedgerImport
from sodium.models import Client, User
from sodium.progress import ProgressWriter
from sodium.uploads import TEXT_MARKUP, find_markup, random_name

logger = logging.getLogger(__name__)
S = LedgerImport.Status
STORAGE_DIR = "ledger-imports"


class ImportRefused(Exception):
    """A file or a choice refused; the message says why, for the person importing."""


# --- upload ----------------------------------------------------------------------------------


def upload_ledger_file(
    client: Client,
    upload: UploadedFile,
    *,
    actor: User | None,
    bank_account=None,
    as_layout: str = "",
) -> LedgerImport:
    """Check and store a ledger file for `client`; return its import, ready or needing mapping.

    Refuses (ImportRefused, nothing stored) a file over the size limit, one that is not text
    CSV (binary, a web page), one with no header row, more rows than allowed, or dates in
    two orders. A file in no known layout, or whose dates read both ways, needs mapping
    unless a mapping remembered for the client, source and header applies. `as_layout`
    says what the file is when its header fits more than one layout (layouts.OVERRIDES:
    bills in Xero's sales-invoice template); a choice its header does not fit is refused.
    """
    name = PurePath(upload.name or "ledger.csv").name[:255]
    _check_bytes(upload, name)
    handle = upload.file
    encoding = reading.detect_encoding(handle)
    if encoding is None:
        raise ImportRefused(f"{name} is not a text file, so it is not a CSV export.")
    detection = _detect(handle, encoding, name)
    count = _count_rows(handle, encoding, detection)
    if count > limits.max_rows():
        raise ImportRefused(
            f"{name} has more than {limits.max_rows():,} rows, more than one import takes. "
            "Export a shorter period and import each part."
        )
    if bank_account is not None and bank_account.client_id != client.pk:
        raise ImportRefused("That bank account is not one of this client's.")
    layout = _chosen_layout(detection.layout, as_layout, name)
    evidence = _date_evidence(handle, encoding, detection, layout, {})
    if evidence.mixed:
        raise ImportRefused(evidence.mixed_message())
    stored = default_storage.save(f"{STORAGE_DIR}/{random_name('csv')}", upload)
    try:
        with transaction.atomic():
            imp = LedgerImport.objects.create(
                practice_id=client.practice_id,
                client=client,
                layout=layout,
                source=layouts.SOURCES[layout],
                file_name=name,
                stored_name=stored,
                size=upload.size,
                sha256=_sha256(upload),
                encoding=encoding,
                bank_account=bank_account,
                header_line=detection.header.last_line,
                total_rows=_lines_after_header(handle, encoding, detection),
                created_by=actor,
            )
            remembered = ColumnMapping.objects.filter(
                client=client,
                source=_mapping_source(imp),
                header_signature=reading.header_signature(detection.header.cells),
            ).first()
            if layout == layouts.UNKNOWN and remembered is not None and remembered.mapping:
                imp.layout, imp.mapping = layouts.MAPPED_BANK, remembered.mapping
                evidence = _date_evidence(handle, encoding, detection, imp.layout, imp.mapping)
                if evidence.mixed:
                    raise ImportRefused(evidence.mixed_message())
            order = evidence.order()
            if order is None and remembered is not None:
                order = remembered.date_format or None
            imp.date_format = reading.DMY if order == "" else (order or "")
            if imp.layout == layouts.UNKNOWN:
                imp.date_format = ""  # which column holds the dates is not known yet
            ready = imp.layout != layouts.UNKNOWN and imp.date_format
            IMPORT_MACHINE.transition(
                imp,
                to=S.READY if ready else S.NEEDS_MAPPING,
                actor=actor,
                fields=["layout", "mapping", "date_format"],
                locked=True,
            )
    except BaseException:
        default_storage.delete(stored)
        raise
    return imp


def _chosen_layout(detected: str, chosen: str, name: str) -> str:
    if not chosen or chosen == detected:
        return detected
    if chosen not in layouts.OVERRIDES.get(detected, ()):
        wanted = layouts.LABELS.get(chosen, "that kind of file")
        raise ImportRefused(
            f"{name} has the columns of a {layouts.LABELS[detected]} file, not of {wanted}. "
            "Choose “Recognise it from its columns”, or upload the right export."
        )
    return chosen


def _check_bytes(upload: UploadedFile, name: str) -> None:
    if upload.size > limits.max_bytes():
        raise ImportRefused(
            f"{name} is {filesizeformat(upload.size)}; a ledger file may be at most "
            f"{filesizeformat(limits.max_bytes())}. Export a shorter period."
        )
    if not upload.size:
        raise ImportRefused(f"{name} is empty.")
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    if b"\x00" in head or filetype.guess(head) is not None:
        raise ImportRefused(
            f"{name} is not a CSV file (it holds binary data, such as a spreadsheet or a PDF). "
            "Export the report as CSV and upload that."
        )
    tag = find_markup(upload.file, TEXT_MARKUP)
    if tag:
        raise ImportRefused(
            f"{name} contains web-page code (“{tag}”), so it is not a CSV export. Export the "
            "report as CSV and upload that."
        )


def _detect(handle, encoding: str, name: str) -> layouts.Detection:
    rows = reading.rows(handle, encoding)
    try:
        return layouts.detect(rows)
    except layouts.NoHeader as exc:
        raise ImportRefused(f"{name}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - the csv module's errors on a file that is not CSV
        raise ImportRefused(f"{name} cannot be read as CSV ({exc}).") from None
    finally:
        rows.close()


def _data_rows(handle, encoding: str, detection: layouts.Detection):
    end = detection.header.last_line
    return (r for r in reading.rows(handle, encoding) if r.line > end)


def _count_rows(handle, encoding: str, detection: layouts.Detection) -> int:
    count, stop = 0, limits.max_rows() + 1
    try:
        for row in _data_rows(handle, encoding, detection):
            if not row.blank:
                count += 1
                if count >= stop:
                    break
    except Exception as exc:  # noqa: BLE001 - csv.Error, a field over the size limit
        raise ImportRefused(f"The file cannot be read as CSV ({exc}).") from None
    return count


def _lines_after_header(handle, encoding: str, detection: layouts.Detection) -> int:
    last = detection.header.last_line
    for row in reading.rows(handle, encoding):
        last = row.last_line
    return max(0, last - detection.header.last_line)


def _date_evidence(
    handle, encoding: str, detection: layouts.Detection, layout: str, mapping: dict
) -> reading.DateEvidence:
    """Read the date columns of the whole file: which order their numeric dates need."""
    if layout == layouts.MAPPED_BANK:
        names = [mapping.get("date", "")]
    else:
        names = list(layouts.DATE_COLUMNS.get(layout, ()))
    indexes = [detection.columns[n] for n in names if n in detection.columns]
    evidence = reading.DateEvidence()
    if not indexes:
        return evidence
    for row in _data_rows(handle, encoding, detection):
        for index in indexes:
            if index < len(row.cells):
                evidence.add(row.line, row.cells[index])
    return evidence


def _sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _mapping_source(imp: LedgerImport) -> str:
    """What a remembered mapping is kept under: the bank account for bank files, else the
    layout (a Xero export whose dates read both ways)."""
    if imp.layout in (layouts.UNKNOWN, layouts.MAPPED_BANK, layouts.XERO_BANK_STATEMENT):
        account = imp.bank_account
        return f"bank:{account.code}" if account is not None else "bank"
    return imp.layout


@contextmanager
def _stored(imp: LedgerImport):
    with default_storage.open(imp.stored_name, "rb") as handle:
        yield getattr(handle, "file", handle)


def _stored_detection(imp: LedgerImport) -> layouts.Detection:
    with _stored(imp) as handle:
        return _detect(handle, imp.encoding, imp.file_name)


# --- mapping ---------------------------------------------------------------------------------


_NEEDS = {
    "columns": "Choose which of the file's columns hold the date, amount and the rest first.",
    "date_format": "Choose whether the file's dates are day first or month first.",
    "bank_account": "Choose the bank account this statement belongs to.",
}


def mapping_needs(imp: LedgerImport) -> list[str]:
    """Return what the import still needs before it can start: "columns", "date_format",
    "bank_account" (for a bank statement)."""
    needs = []
    if imp.layout == layouts.UNKNOWN:
        needs.append("columns")
    if not imp.date_format:
        needs.append("date_format")
    if imp.layout in (*layouts.BANK_LAYOUTS, layouts.UNKNOWN) and imp.bank_account_id is None:
        needs.append("bank_account")
    return needs


@transaction.atomic
def set_mapping(
    imp: LedgerImport,
    *,
    actor: User | None,
    mapping: dict[str, str] | None = None,
    date_format: str | None = None,
    bank_account: LedgerAccount | None = None,
    remember: bool = True,
) -> LedgerImport:
    """Set a file's column mapping (bank statements), date order and bank account; return it.

    The choice is remembered for the client, source and header (ColumnMapping) and applied
    to the next file like it. The import becomes ready when nothing more is needed.
    Raises ImportRefused for a mapping naming no column of the file, a date order the
    file's dates contradict, or an import past mapping.
    """
    imp = IMPORT_MACHINE.lock(imp)
    if imp.status not in (S.NEEDS_MAPPING, S.READY):
        raise ImportRefused("This import has started; upload the file again to change it.")
    detection = _stored_detection(imp)
    if bank_account is not None:
        if bank_account.client_id != imp.client_id:
            raise ImportRefused("That bank account is not one of this client's.")
        imp.bank_account = bank_account
    if mapping is not None:
        imp.mapping = _checked_mapping(mapping, detection)
        imp.layout = layouts.MAPPED_BANK
        imp.date_format = ""  # read again from the date column now chosen
    if date_format is not None and date_format not in reading.DATE_FORMATS:
        raise ImportRefused("Choose day first (DD/MM/YYYY) or month first (MM/DD/YYYY).")
    with _stored(imp) as handle:
        evidence = _date_evidence(handle, imp.encoding, detection, imp.layout, imp.mapping)
    if evidence.mixed:
        raise ImportRefused(evidence.mixed_message())
    forced = evidence.order()
    if date_format and forced and date_format != forced:
        line, text = evidence.dmy_only or evidence.mdy_only
        raise ImportRefused(
            f"Line {line} has {text}, which reads only as {reading.DATE_FORMATS[forced]}."
        )
    if date_format:
        imp.date_format = date_format
    elif forced is not None:
        imp.date_format = forced or reading.DMY  # "" when the file has no numeric dates
    fields = ["layout", "mapping", "date_format", "bank_account"]
    if remember and (imp.mapping or date_format):
        ColumnMapping.objects.update_or_create(
            client=imp.client,
            source=_mapping_source(imp),
            header_signature=reading.header_signature(detection.header.cells),
            defaults={
                "practice_id": imp.practice_id,
                "mapping": imp.mapping,
                "date_format": imp.date_format,
                "updated_at": timezone.now(),
            },
        )
    ready = imp.layout != layouts.UNKNOWN and imp.date_format
    if imp.status == S.NEEDS_MAPPING and ready:
        return IMPORT_MACHINE.transition(imp, to=S.READY, actor=actor, fields=fields, locked=True)
    imp.save(update_fields=fields)
    return imp


def _checked_mapping(mapping: dict[str, str], detection: layouts.Detection) -> dict[str, str]:
    unknown = set(mapping) - set(layouts.MAPPING_FIELDS)
    if unknown:
        raise ImportRefused(f"Unknown fields: {', '.join(sorted(unknown))}.")
    chosen = {k: reading.normalise_header(v) for k, v in mapping.items() if v and v.strip()}
    for key, header in chosen.items():
        if header not in detection.columns:
            raise ImportRefused(f"The file has no column “{mapping[key]}”.")
    if "date" not in chosen:
        raise ImportRefused("Choose the column that holds each line's date.")
    if "amount" not in chosen and not ({"debit", "credit"} & chosen.keys()):
        raise ImportRefused("Choose the Amount column, or the Debit and Credit columns.")
    if "amount" in chosen and {"debit", "credit"} & chosen.keys():
        raise ImportRefused("Choose either one Amount column or Debit and Credit, not both.")
    return chosen


# --- preview ---------------------------------------------------------------------------------


@dataclass
class PreviewRow:
    line: int
    last_line: int
    values: dict = field(default_factory=dict)  # the typed record's fields
    error: str = ""


@dataclass
class Preview:
    headers: list[str]
    raw: list[list[str]]  # the first rows as text, for the mapping step
    rows: list[PreviewRow]  # as they will be read (empty until the import is ready)


def preview(imp: LedgerImport, n: int = 10) -> Preview:
    """Return the file's header, its first `n` rows as text, and — once the layout and date
    order are known — its first `n` records as they will be read, with their row errors."""
    detection = _stored_detection(imp)
    with _stored(imp) as handle:
        raw = []
        for row in _data_rows(handle, imp.encoding, detection):
            if not row.blank:
                raw.append(row.cells)
            if len(raw) >= n:
                break
    rows: list[PreviewRow] = []
    if imp.layout != layouts.UNKNOWN and imp.date_format:
        for item in _source(imp).records():
            if hasattr(item, "reason"):
                rows.append(PreviewRow(item.line, item.last_line or item.line, error=item.message))
            else:
                last = getattr(item, "last_line", 0) or item.line
                rows.append(PreviewRow(item.line, last, values=asdict(item)))
            if len(rows) >= n:
                break
    return Preview(headers=detection.headers, raw=raw, rows=rows)


def _source(imp: LedgerImport) -> FileSource:
    return FileSource(
        lambda: _stored(imp),
        layout=imp.layout,
        encoding=imp.encoding,
        date_format=imp.date_format,
        mapping=imp.mapping,
    )


# --- the import ------------------------------------------------------------------------------


@transaction.atomic
def start_import(
    imp: LedgerImport, *, actor: User | None, import_good_rows: bool = False
) -> LedgerImport:
    """Start importing a ready file: IMPORTING, and the task enqueued once this commits.

    Raises ImportRefused when something is still to choose (columns, the date order, a bank
    statement's account), InvalidTransition when the import is not ready.
    """
    imp = IMPORT_MACHINE.lock(imp)
    needs = mapping_needs(imp)
    if needs:
        raise ImportRefused(_NEEDS[needs[0]])
    imp.import_good_rows = import_good_rows
    imp = IMPORT_MACHINE.transition(
        imp, to=S.IMPORTING, actor=actor, fields=["import_good_rows"], locked=True
    )
    pk, practice_id = imp.pk, imp.practice_id
    transaction.on_commit(lambda: tasks.import_ledger_task.delay(pk, practice_id))
    return imp


def run_import(import_id: int) -> LedgerImport | None:
    """Import a file whose import is IMPORTING (the task's work); return it, done or failed.

    Another delivery of the task finds it claimed (or finished) and does nothing. Must run
    inside the import's practice scope and outside a transaction, so progress can be shown.
    """
    imp = LedgerImport.objects.filter(pk=import_id).select_related("client").first()
    if imp is None or imp.status != S.IMPORTING:
        return imp
    now = timezone.now()
    # Claim it (compare-and-set): a second delivery while the first runs finds it claimed;
    # one after a worker died mid-import finds the claim stale and runs it again.
    claimed = (
        LedgerImport.objects.filter(pk=imp.pk, status=S.IMPORTING)
        .filter(Q(started_at=None) | Q(started_at__lt=now - limits.STALE_CLAIM))
        .update(started_at=now)
    )
    if not claimed:
        return imp
    imp.started_at = now
    reporter = _ProgressReporter(imp)
    try:
        with transaction.atomic():
            result = write(
                _source(imp),
                client=imp.client,
                bank_account=imp.bank_account,
                import_good_rows=imp.import_good_rows,
                progress=reporter,
            )
            # Locked only now: progress writes to this row from another connection meanwhile.
            imp = IMPORT_MACHINE.lock(imp)
            imp.created_count, imp.updated_count = result.created, result.updated
            imp.unchanged_count = result.unchanged
            imp.rejected = [e.as_json() for e in result.rejected]
            imp.rejected_count = result.rejected_count
            imp.processed_rows, imp.finished_at = imp.total_rows, timezone.now()
            return IMPORT_MACHINE.transition(
                imp,
                to=S.DONE,
                actor=None,
                fields=[
                    "created_count",
                    "updated_count",
                    "unchanged_count",
                    "rejected",
                    "rejected_count",
                    "processed_rows",
                    "finished_at",
                ],
                locked=True,
            )
    except ImportFailed as exc:
        count = exc.result.rejected_count
        message = (
            f"{count} row{'s' if count != 1 else ''} could not be imported, so nothing was "
            "imported. Correct them and upload the file again, or import the good rows only."
        )
        return _fail(imp, message, exc.result.rejected, count)
    except Exception as exc:  # noqa: BLE001 - any failure leaves the ledger as it was
        logger.exception("ledger import %s failed", imp.pk)
        return _fail(imp, f"The import stopped with an error, so nothing was imported ({exc}).")
    finally:
        reporter.close()
        _discard_file(imp)


def _discard_file(imp: LedgerImport) -> None:
    """Delete a finished import's stored file: the ledger holds what it said, and a client's
    books are not kept twice. A new import needs a new upload."""
    status = LedgerImport.objects.filter(pk=imp.pk).values_list("status", flat=True).first()
    if status in (S.DONE, S.FAILED) and imp.stored_name:
        default_storage.delete(imp.stored_name)


def _fail(imp: LedgerImport, message: str, rejected=(), count: int = 0) -> LedgerImport:
    with transaction.atomic():
        imp = IMPORT_MACHINE.lock(imp)
        imp.error = message
        imp.rejected = [e.as_json() for e in rejected]
        imp.rejected_count = count
        imp.finished_at = timezone.now()
        return IMPORT_MACHINE.transition(
            imp,
            to=S.FAILED,
            actor=None,
            note=message[:120],
            fields=["error", "rejected", "rejected_count", "finished_at"],
            locked=True,
        )


class _ProgressReporter:
    """Write `processed_rows` every few thousand lines, outside the import's transaction.

    Through `sodium.progress.ProgressWriter`: on PostgreSQL a second connection writes it, so
    the page sees progress while the import's own transaction is still open; its UPDATE
    touches only the import row, which the import's transaction does not lock until it
    finishes. On SQLite the count is written only at the end.
    """

    def __init__(self, imp: LedgerImport) -> None:
        self.imp = imp
        self.last = 0
        self.writer = ProgressWriter(LedgerImport, imp.pk, imp.practice_id, "processed_rows")

    def __call__(self, line: int) -> None:
        done = max(0, line - self.imp.header_line)
        if not self.writer.enabled or done - self.last < limits.PROGRESS_EVERY:
            return
        self.last = done
        self.writer.write(min(done, self.imp.total_rows))

    def close(self) -> None:
        self.writer.close()


# --- cancelling ------------------------------------------------------------------------------


@transaction.atomic
def cancel_import(imp: LedgerImport, *, actor: User | None) -> LedgerImport:
    """Cancel an import that has not started and delete its stored file; return it.

    The file is deleted once the cancel commits (a rolled-back cancel keeps it). Raises
    InvalidTransition once the import is importing or finished.
    """
    imp = IMPORT_MACHINE.transition(imp, to=S.CANCELLED, actor=actor)
    stored = imp.stored_name
    transaction.on_commit(lambda: default_storage.delete(stored))
    return imp
