"""Files on a flow run's checks: the core's upload hardening, and serving them safely.

A file is accepted only by the core's checks (`sodium.uploads.check_file`) against a short
allow-list — PDF, images and plain text — under the core's size limit. It is stored under a
random name (`sodium.uploads.random_name`) and served only by the run page's authorised view,
as an attachment with `X-Content-Type-Options: nosniff` and a sandboxing policy.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404

from checks.models import FlowRunNote
from sodium.uploads import AllowList, UploadRefused, attachment_response, check_file

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
NOTE_FILES = AllowList(
    binary={ext: frozenset({mime}) for ext, mime in BINARY.items()},
    text=TEXT,
    accepted="Attach a PDF, an image (PNG, JPEG, GIF, WebP) or a text file.",
    verb="Attach",
)
FileRefused = UploadRefused  # what a note's file refusal is called here


def check_note_file(upload: UploadedFile) -> str:
    """Return the extension of an acceptable file, or raise FileRefused saying why."""
    return check_file(upload, NOTE_FILES)


def download_response(note: FlowRunNote) -> FileResponse:
    """Serve a note's file as an attachment under its uploaded name, never inline.

    Raises Http404 when the file is missing from storage.
    """
    ext = note.stored_name.rsplit(".", 1)[-1].lower()
    try:
        handle = default_storage.open(note.stored_name, "rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    return attachment_response(
        handle,
        filename=note.file_name,
        content_type=SERVED_AS.get(ext, "application/octet-stream"),
    )
