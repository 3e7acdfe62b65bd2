"""Hardened uploads for client documents: size limit, content-sniffed allow-list, random
storage names, and a SHA-256 of every file. Files are served only through authorised views.

Beyond the sniffed type, a file must be what its name says all the way through: Word and
Excel files must have the structure of their type (read from the zip's central directory,
never extracted), text files may hold no web-page markup, CSV files no spreadsheet formulas,
and no binary file may carry a web page inside it (a PNG or PDF that is also an HTML page).
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import re
import secrets
import struct
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import PurePath

from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat

from portal.models import Document
from sodium.uploads import (
    AllowList,
    UploadRefused,
    attachment_response,
    check_file,
    file_name,
    max_upload_bytes,
)

# Extension → the content types its bytes may sniff as. Text formats have no signature, so
# they must decode as UTF-8 text and contain no NUL bytes instead.
ALLOWED = {
    "pdf": {"application/pdf"},
    "png": {"image/png"},
    "jpg": {"image/jpeg"},
    "jpeg": {"image/jpeg"},
    "gif": {"image/gif"},
    "webp": {"image/webp"},
    "heic": {"image/heic"},
    "docx": {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/zip",
    },
    "xlsx": {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/zip",
    },
    "doc": {"application/msword", "application/x-ole-storage"},
    "xls": {"application/vnd.ms-excel", "application/x-ole-storage"},
}
TEXT = {"csv": "text/csv", "txt": "text/plain"}
SERVED_AS = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "heic": "image/heic",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    **TEXT,
}
ACCEPT = ",".join(f".{ext}" for ext in SERVED_AS)

# Office Open XML: the part each extension implies, and the content type that
# [Content_Types].xml must give it (macro-enabled and template variants do not match).
OFFICE = {
    "docx": ("word/document.xml", b"wordprocessingml.document.main+xml", "a Word document"),
    "xlsx": ("xl/workbook.xml", b"spreadsheetml.sheet.main+xml", "an Excel workbook"),
}
ZIP_MAX_MEMBERS = 5000
# What the zip's central directory says its members unpack to. Nothing is ever unpacked
# here; the limit refuses zip bombs before they reach a member of staff's Office.
ZIP_MAX_UNPACKED = 1024 * 1024 * 1024
CONTENT_TYPES_MAX = 256 * 1024
# A cell a spreadsheet would run as a formula: "=" or "@" first, or "+"/"-" before a function
# call or a DDE link ("-2+3+cmd|' /C calc'!A0"); "-12.50", "-12 (refund)" or
# "+44 20 7946 0000" is data. A cell starts a line or follows any delimiter a spreadsheet
# may split on, after blanks and an opening quote, and ends at the next delimiter. Every
# repeat is possessive and each word is taken whole, so the search is linear in the file.
_FORMULA_CELL = re.compile(
    rb'[,;\t|\r\n][ \t]*+"?[ \t]*+(?P<cell>[=@]|[+-]'
    rb"(?:[^,;\t\r\n|!(\w.]++|[A-Za-z_][\w.]*+(?![ \t]*+\()|[0-9.][\w.]*+|\()*+"
    rb"(?:[|!]|[A-Za-z_][\w.]*+[ \t]*+\())"
)
_CELL_REST = re.compile(rb"[^,;\t\r\n]*+")
_SEP_LINE = re.compile(rb'[ \t]*"?sep=(.)', re.IGNORECASE)


UploadRejected = UploadRefused  # the portal's name for the core's refusal

DOCUMENTS = AllowList(
    binary={ext: frozenset(types) for ext, types in ALLOWED.items()},
    text=TEXT,
    accepted="Upload PDF, images, Word, Excel, CSV or text files.",
)


def max_bytes() -> int:
    return max_upload_bytes()


def check_upload(upload: UploadedFile) -> tuple[str, str]:
    """Return (extension, content type) for an acceptable file, or raise UploadRejected.

    The core's checks (`sodium.uploads.check_file`), then Word and Excel files' structure and
    CSV files' formulas.
    """
    ext = check_file(upload, DOCUMENTS)
    name = file_name(upload)
    if ext in OFFICE:
        _check_office(upload, name, ext)
    if ext == "csv":
        _refuse_formulas(upload, name)
    return ext, SERVED_AS[ext]


_END_OF_DIRECTORY = b"PK\x05\x06"


def _directory_entries(upload: UploadedFile) -> int | None:
    """Return how many members the zip's end-of-directory record declares, or None if absent.

    Read from the file's last 64 KB before zipfile parses the whole central directory, which
    for a forged directory of a few hundred thousand entries costs seconds and hundreds of MB.
    A Zip64 file (0xFFFF) counts as too many: no Word or Excel file needs one.
    """
    upload.seek(0, 2)
    size = upload.tell()
    upload.seek(max(0, size - 65_557))
    tail = upload.read()
    upload.seek(0)
    at = tail.rfind(_END_OF_DIRECTORY)
    if at < 0 or len(tail) < at + 22:
        return None
    (entries,) = struct.unpack_from("<H", tail, at + 10)
    return ZIP_MAX_MEMBERS + 1 if entries == 0xFFFF else entries


def _check_office(upload: UploadedFile, name: str, ext: str) -> None:
    """Refuse a zip that is not a Word or Excel file of the type its name says.

    Reads only the central directory and [Content_Types].xml (bounded); extracts nothing.
    """
    part, main_type, what = OFFICE[ext]
    not_office = f"{name} is not really a .{ext} file: it does not contain {what}."
    entries = _directory_entries(upload)
    if entries is not None and entries > ZIP_MAX_MEMBERS:
        raise UploadRejected(f"{name} holds too many parts for a .{ext} file.")
    try:
        upload.seek(0)
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
            if len(members) > ZIP_MAX_MEMBERS:
                raise UploadRejected(f"{name} holds too many parts for a .{ext} file.")
            if sum(m.file_size for m in members) > ZIP_MAX_UNPACKED:
                raise UploadRejected(
                    f"{name} unpacks to more than {filesizeformat(ZIP_MAX_UNPACKED)}, far more "
                    f"than a .{ext} file does. It is refused for safety."
                )
            names = {m.filename for m in members}
            if "[Content_Types].xml" not in names or part not in names:
                raise UploadRejected(not_office)
            types = archive.getinfo("[Content_Types].xml")
            if types.file_size > CONTENT_TYPES_MAX:
                raise UploadRejected(not_office)
            with archive.open(types) as handle:
                declared = handle.read(CONTENT_TYPES_MAX + 1)
    except UploadRejected:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        NotImplementedError,
        RuntimeError,
        EOFError,
        OSError,
        ValueError,
        KeyError,
    ):
        raise UploadRejected(not_office) from None
    finally:
        upload.seek(0)
    if len(declared) > CONTENT_TYPES_MAX or main_type not in declared:
        raise UploadRejected(not_office)


def _refuse_formulas(upload: UploadedFile, name: str) -> None:
    """Refuse a CSV with a cell a spreadsheet would run as a formula (e.g. =HYPERLINK(…)).

    Spreadsheets split a CSV on the delimiter of their locale (or of a "sep=" first line),
    not on the one the file seems to use, so a cell may start after any of them: each is
    checked, without guessing the dialect. Reads the raw bytes a block of whole lines at a
    time; the patterns are ASCII, so the text's encoding does not matter.
    """
    upload.seek(0)
    lines_before = 0
    pending = b"\n"  # so the first line starts after a newline, like every other
    chunk = upload.read(1024 * 1024)
    if chunk.startswith(codecs.BOM_UTF8):
        chunk = chunk[len(codecs.BOM_UTF8) :]
    declared = _SEP_LINE.match(chunk)
    if declared and declared.group(1) not in b",;\t|":
        upload.seek(0)
        # The cells are checked after the usual delimiters only; a file naming another one
        # could hide a formula behind it.
        raise UploadRejected(
            f"{name}: its first line makes “{declared.group(1).decode('latin-1')}” the "
            "delimiter. Save it with commas, semicolons or tabs and upload it again."
        )
    try:
        while True:
            block = pending + chunk
            cut = block.rfind(b"\n") if chunk else len(block)
            block, pending = block[:cut], block[cut:]
            found = _FORMULA_CELL.search(block)
            if found:
                cell = _CELL_REST.match(block, found.start("cell")).group()
                number = lines_before + block.count(b"\n", 0, found.start("cell"))
                shown = cell.decode("utf-8", errors="replace")
                shown = shown if len(shown) <= 30 else shown[:29] + "…"
                raise UploadRejected(
                    f"{name}: the cell “{shown}” on line {number} is a spreadsheet formula, "
                    "which could run when the file is opened. Save the sheet with values only "
                    "(no formulas) and upload it again."
                )
            if not chunk:
                return
            lines_before += block.count(b"\n")
            chunk = upload.read(1024 * 1024)
    finally:
        upload.seek(0)


def store(
    upload: UploadedFile,
    *,
    practice_id: int,
    client_id: int,
    contact=None,
    user=None,
    task=None,
    title: str = "",
    category: str = "",
    checked: tuple[str, str] | None = None,
) -> Document:
    """Check and store an upload under a random name; return its Document row.

    `checked` is what `check_upload` returned for this upload, when the caller checked every
    file of a batch before storing any (the checks read the whole file; once is enough).
    """
    ext, content_type = checked or check_upload(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    original = PurePath(upload.name or f"file.{ext}").name[:255]
    upload.name = f"{secrets.token_hex(16)}.{ext}"
    return Document.objects.create(
        practice_id=practice_id,
        client_id=client_id,
        file=upload,
        original_name=original,
        content_type=content_type,
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by_contact=contact,
        uploaded_by_user=user,
        task=task,
        title=title or original,
        category=category,
    )


def copy_as_upload(document: Document) -> UploadedFile:
    """Return the bytes of a stored document as a new upload, to be checked and stored again
    (under a new random name) like any upload: picking a file for an approval sends a copy,
    so the client's original is never relabelled or removed with the approval.

    Raises UploadRejected when the file is missing from storage.
    """
    try:
        with document.file.open("rb") as handle:
            # One byte past the limit is enough for the size check to refuse it.
            data = handle.read(max_bytes() + 1)
    except FileNotFoundError:
        raise UploadRejected(f"{document.original_name} is missing from storage.") from None
    return SimpleUploadedFile(document.original_name, data, content_type=document.content_type)


def store_all(uploads: Sequence[UploadedFile], **fields) -> list[Document]:
    """Check every upload, then store them all; return their Document rows in order.

    Every file is checked before any is stored, so a refused one (UploadRejected) leaves
    nothing. `fields` are `store`'s keywords, the same for each file.
    """
    checked = [check_upload(upload) for upload in uploads]
    return [
        store(upload, checked=kind, **fields) for upload, kind in zip(uploads, checked, strict=True)
    ]


@contextlib.contextmanager
def atomic_with_upload(upload: UploadedFile | None, **fields) -> Iterator[Document | None]:
    """Open a transaction, store `upload` in it (None: store nothing) and yield its row.

    The row rolls back with the transaction when the block (or the commit) fails, but the
    bytes already written to storage would not, so they are deleted then. `fields` are
    `store`'s keywords.
    """
    stored: Document | None = None
    try:
        with transaction.atomic():
            if upload is not None:
                stored = store(upload, **fields)
            yield stored
    except BaseException:
        if stored is not None:
            stored.file.delete(save=False)
        raise


def download_response(document: Document) -> FileResponse:
    """Serve a stored document as an attachment under its original name, never inline.

    Raises Http404 when the file is missing from storage.
    """
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    return attachment_response(
        handle, filename=document.original_name, content_type=document.content_type
    )
