"""Files on a flow run's checks: the core's upload hardening, and serving them safely.

A file is accepted only when its bytes are what its name says (content-sniffed with
`filetype`; text must decode and hold no web-page markup) from a short allow-list — PDF,
images and plain text — under the core's size limit. It is stored under a random name
(`sodium.uploads.random_name`) and served only by the run page's authorised view, as an
attachment with `X-Content-Type-Options: nosniff` and a sandboxing policy.
"""

from __future__ import annotations

from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat

from checks.models import FlowRunNote
from sodium.uploads import BINARY_MARKUP, TEXT_MARKUP, find_markup

STORAGE_DIR = "flow-notes"
# Extension → the content type its bytes must sniff as (and are served as).
BINARY = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}
TEXT = {"txt": "text/plain"}
SERVED_AS = {**BINARY, **TEXT}
ACCEPT = ",".join(f".{ext}" for ext in SERVED_AS)
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


class FileRefused(Exception):
    """The file is refused; the message says why, for the person uploading."""


def max_bytes() -> int:
    return settings.SODIUM_MAX_UPLOAD_BYTES


def check_note_file(upload: UploadedFile) -> str:
    """Return the extension of an acceptable file, or raise FileRefused saying why."""
    name = PurePath(upload.name or "").name or "The file"
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if upload.size > max_bytes():
        raise FileRefused(
            f"{name} is larger than {filesizeformat(max_bytes())}. Attach a smaller file."
        )
    if not upload.size:
        raise FileRefused(f"{name} is empty.")
    if ext not in SERVED_AS:
        raise FileRefused(
            f"{name}: this type of file is not accepted here. Attach a PDF, an image "
            "(PNG, JPEG, GIF, WebP) or a text file."
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    if ext in TEXT:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # a character cut at the sample's end is still text
                raise FileRefused(
                    f"{name} does not contain text, so it is not a .{ext} file."
                ) from None
        if b"\x00" in head:
            raise FileRefused(f"{name} does not contain text, so it is not a .{ext} file.")
        tag = find_markup(upload, TEXT_MARKUP)
        if tag:
            raise FileRefused(
                f"{name} contains web-page code (“{tag}”), which a .{ext} file may not hold."
            )
        return ext
    kind = filetype.guess(head)
    if kind is None or kind.mime != BINARY[ext]:
        raise FileRefused(f"{name} is not really a .{ext} file: its contents do not match.")
    tag = find_markup(upload, BINARY_MARKUP)
    if tag:
        raise FileRefused(
            f"{name} has web-page code (“{tag}”) hidden inside it, so it is refused for safety."
        )
    return ext


def download_response(note: FlowRunNote) -> FileResponse:
    """Serve a note's file as an attachment under its uploaded name, never inline.

    Raises Http404 when the file is missing from storage.
    """
    ext = note.stored_name.rsplit(".", 1)[-1].lower()
    try:
        handle = default_storage.open(note.stored_name, "rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=note.file_name,
        content_type=SERVED_AS.get(ext, "application/octet-stream"),
    )
    for header, value in DOWNLOAD_HEADERS.items():
        response[header] = value
    return response
