"""Hardened uploads for client documents: size limit, content-sniffed allow-list, random
storage names, and a SHA-256 of every file. Files are served only through authorised views."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat

from portal.models import Document

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


class UploadRejected(Exception):
    """The file is refused; the message says why, for the person uploading."""


def max_bytes() -> int:
    return settings.SODIUM_MAX_UPLOAD_BYTES


def check_upload(upload: UploadedFile) -> tuple[str, str]:
    """Return (extension, content type) for an acceptable file, or raise UploadRejected."""
    name = PurePath(upload.name or "").name
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if upload.size > max_bytes():
        raise UploadRejected(
            f"{name} is larger than {filesizeformat(max_bytes())}. Upload a smaller file."
        )
    if upload.size == 0:
        raise UploadRejected(f"{name} is empty.")
    if ext not in ALLOWED and ext not in TEXT:
        raise UploadRejected(
            f"{name}: this type of file is not accepted. Upload PDF, images, Word, Excel, CSV "
            "or text files."
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    if ext in TEXT:
        if b"\x00" in head or _looks_binary(head):
            raise UploadRejected(f"{name} does not contain text, so it is not a .{ext} file.")
        return ext, TEXT[ext]
    kind = filetype.guess(head)
    if kind is None or kind.mime not in ALLOWED[ext]:
        raise UploadRejected(
            f"{name} is not really a .{ext} file: its contents do not match its name."
        )
    return ext, SERVED_AS[ext]


def _looks_binary(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start < len(head) - 4
    return False


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
) -> Document:
    """Check and store an upload under a random name; return its Document row."""
    ext, content_type = check_upload(upload)
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


# What a download may never do in the browser: run, render inline or be cached by proxies.
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


def download_response(document: Document) -> FileResponse:
    """Serve a stored document as an attachment under its original name, never inline.

    Raises Http404 when the file is missing from storage.
    """
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    for header, value in DOWNLOAD_HEADERS.items():
        response[header] = value
    return response
