"""An invoice file between its upload and the Import button: checked by the core's upload
hardening, kept under a random name, remembered in the person's session for this practice
only, deleted once imported or replaced."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile

from sodium.uploads import AllowList, check_file, random_name

STORAGE_DIR = "ar-imports"
SESSION_KEY = "ar_import_file"
INVOICE_FILES = AllowList(
    binary={},
    text={"csv": "text/csv"},
    accepted="Upload a CSV file: Xero's sales-invoice export or the plain AR CSV.",
)


def keep_upload(session, practice_id: int, upload: UploadedFile) -> bytes:
    """Check and store the upload for the Import button; return its bytes.

    Raises sodium.uploads.UploadRefused saying why a file is refused.
    """
    check_file(upload, INVOICE_FILES)
    upload.seek(0)
    data = upload.read()
    forget(session)
    name = default_storage.save(f"{STORAGE_DIR}/{random_name('csv')}", ContentFile(data))
    session[SESSION_KEY] = {"practice": practice_id, "name": name}
    return data


def kept_file(session, practice_id: int) -> bytes | None:
    """Return the practice's kept upload of this session, or None."""
    kept = session.get(SESSION_KEY)
    if not kept or kept.get("practice") != practice_id:
        return None
    try:
        with default_storage.open(kept["name"], "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def forget(session) -> None:
    """Delete the session's kept upload, if any."""
    kept = session.pop(SESSION_KEY, None)
    if kept:
        default_storage.delete(kept["name"])
